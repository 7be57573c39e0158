"""Running the spiders from fonds (`fonds crawl`, `fonds update`, `fonds demo`)."""

from __future__ import annotations

from dataclasses import replace

from crawler.settings import scrapy_settings
from crawler.sources import Source
from fonds.catalog import Catalog
from fonds.models import Run, RunKind
from fonds.settings import Settings


def run_crawl(settings: Settings, sources: list[Source]) -> list[Run]:
    """Crawl each source (one Scrapy process, Twisted's reactor starts once per process);
    return the crawl runs recorded in the catalog, one per source."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.wordpress import WordPressSpider

    with Catalog(settings.catalog_path) as catalog:  # create or migrate before Scrapy starts
        before = catalog.runs(limit=1)
    last = before[0].id if before else 0
    process = CrawlerProcess(scrapy_settings(settings))
    for source in sources:
        process.crawl(WordPressSpider, source=source)
    process.start()
    with Catalog(settings.catalog_path) as catalog:
        return [r for r in catalog.runs(limit=50, kind=RunKind.CRAWL) if r.id > last][::-1]


def demo_sources(base_url: str, official_base: str) -> list[Source]:
    """The replica site as a source: the real entry, pointed at loopback."""
    from crawler.sources import SOURCES_FILE, load_sources

    real = next(s for s in load_sources(SOURCES_FILE) if s.family == "wordpress")
    official = official_base.split("//", 1)[1]
    return [replace(real, base_url=base_url, official_domains=(official,))]
