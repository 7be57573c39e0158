"""Running the spiders from fonds (`fonds crawl`, `fonds update`, `fonds demo`)."""

from __future__ import annotations

from dataclasses import replace

from crawler.report import CrawlReport, crawl_reports
from crawler.settings import scrapy_settings
from crawler.sources import Source
from fonds.catalog import Catalog
from fonds.errors import FondsError
from fonds.models import RunKind
from fonds.settings import Settings


def run_crawl(settings: Settings, sources: list[Source]) -> list[CrawlReport]:
    """Crawl each source (one Scrapy process, Twisted's reactor starts once per process);
    return one report per source, as recorded in the catalog. A report with `failed`
    saw nothing of its site: the caller should exit non-zero."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders import SPIDERS

    with Catalog(settings.catalog_path) as catalog:  # create or migrate before Scrapy starts
        before = catalog.runs(limit=1)
    last = before[0].id if before else 0
    spiders = []
    for source in sources:
        if source.family not in SPIDERS:
            raise FondsError(f"famille de source inconnue « {source.family} » ({source.name})")
        spiders.append((SPIDERS[source.family], source))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(scrapy_settings(settings))
    for spider, source in spiders:
        process.crawl(spider, source=source)
    process.start()
    with Catalog(settings.catalog_path) as catalog:
        runs = [r for r in catalog.runs(limit=50, kind=RunKind.CRAWL) if r.id > last][::-1]
        return crawl_reports(catalog, runs)


def demo_sources(base_url: str, official_base: str) -> list[Source]:
    """The replica site as a source: the real entry, pointed at loopback."""
    from crawler.sources import SOURCES_FILE, load_sources

    real = next(s for s in load_sources(SOURCES_FILE) if s.family == "wordpress")
    official = official_base.split("//", 1)[1]
    return [replace(real, base_url=base_url, official_domains=(official,))]
