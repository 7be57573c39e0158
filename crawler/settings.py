"""Scrapy settings, built from fonds settings (so `scrapy crawl` and `fonds crawl` agree)."""

from __future__ import annotations

from typing import Any

from fonds import __version__
from fonds.settings import Settings, load_settings

BOT_NAME = "fonds"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"


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
        "CLOSESPIDER_PAGECOUNT": settings.crawl_max_requests,
        "TELNETCONSOLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.SafetyMiddleware": 50,
            "crawler.middlewares.ConditionalRequestMiddleware": 60,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
        },
        "ITEM_PIPELINES": {"crawler.pipelines.CatalogPipeline": 300},
        "FONDS_DATA_DIR": str(settings.data_dir),
        "FONDS_CATALOG": str(settings.catalog_path),
        "FONDS_MAX_FILE_MB": settings.max_file_mb,
        "FONDS_GONE_AFTER_RUNS": settings.gone_after_runs,
        "FONDS_ALLOW_PRIVATE": settings.crawl_allow_private,
        "FONDS_MAX_REQUESTS": settings.crawl_max_requests,
    }


# `scrapy crawl wordpress -a source=NAME` reads these module-level names.
globals().update(scrapy_settings(load_settings()))
