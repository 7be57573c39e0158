"""Scrapy settings, built from fonds settings (so `scrapy crawl` and `fonds crawl` agree).

Scrapy components receive the fonds `Settings` object itself as one setting,
FONDS_SETTINGS (see `fonds_settings`), rather than renamed copies of its fields. Nothing
is read at import: `scrapy crawl` gets its settings from the spider (`update_settings`).
"""

from __future__ import annotations

from typing import Any

from fonds import __version__
from fonds.settings import Settings, load_settings

BOT_NAME = "fonds"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
LOG_NAME = "crawl.log"


def scrapy_settings(settings: Settings) -> dict[str, Any]:
    return {
        "BOT_NAME": BOT_NAME,
        "SPIDER_MODULES": SPIDER_MODULES,
        "USER_AGENT": f"fonds/{__version__} (+{settings.crawl_contact})",
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": settings.crawl_delay_s,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
        "DOWNLOAD_DELAY": settings.crawl_delay_s,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "DOWNLOAD_TIMEOUT": settings.crawl_timeout_s,
        "DOWNLOAD_MAXSIZE": settings.max_file_mb * 2**20,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "TELNETCONSOLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        # Scrapy's own lines (English) go to the data dir's log, never to the terminal:
        # the terminal gets the French report and, on a TTY, a progress line.
        "LOG_LEVEL": "INFO",
        "LOG_FILE": str(settings.data_dir / LOG_NAME),
        "LOG_FILE_APPEND": False,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "TWISTED_DNS_RESOLVER": "crawler.addresses.GuardedResolver",
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.SafetyMiddleware": 50,
            "crawler.middlewares.ConditionalRequestMiddleware": 60,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
        },
        "ITEM_PIPELINES": {"crawler.pipelines.CatalogPipeline": 300},
        "EXTENSIONS": {"crawler.progress.Progress": 500},
        "FONDS_SETTINGS": settings,
    }


def fonds_settings(crawler: Any) -> Settings:
    """The fonds settings a crawler was started with (loaded now for a bare `scrapy crawl`)."""
    settings = crawler.settings.get("FONDS_SETTINGS")
    return settings if isinstance(settings, Settings) else load_settings()
