"""What a run proves, decided by the pipeline from what discovery reported: nothing
(failed), part of the site (no absence counted), or all of it (absences counted)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.statscollectors import MemoryStatsCollector

from crawler.items import ArticleItem, DiscoveryItem
from crawler.pipelines import CatalogPipeline
from crawler.report import crawl_reports
from crawler.sources import Source
from fonds.catalog import Catalog
from fonds.models import RunKind
from fonds.settings import load_settings

SOURCE = Source("site", "wordpress", "https://site.example.fr")


def crawl(tmp_path: Path, items: list[object], finish: str = "finished",
          crashed: int = 0) -> dict:
    settings = load_settings(env={"FONDS_DATA_DIR": str(tmp_path)})
    crawler = SimpleNamespace(settings={"FONDS_SETTINGS": settings},
                              spider=SimpleNamespace(source=SOURCE))
    crawler.stats = MemoryStatsCollector(SimpleNamespace(settings=SimpleNamespace(
        getbool=lambda *a, **k: False)))
    pipeline = CatalogPipeline(crawler)
    pipeline.open_spider()
    for item in items:
        pipeline.process_item(item)
    crawler.stats.set_value("finish_reason", finish)
    if crashed:
        crawler.stats.set_value("spider_exceptions/count", crashed)
    pipeline.close_spider()
    with Catalog(settings.catalog_path) as catalog:
        report = crawl_reports(catalog, catalog.runs(limit=1, kind=RunKind.CRAWL))[0]
    return {"healthy": report.healthy, "failed": report.failed, "reason": report.reason,
            "counts": dict(report.counts), "source": report.source}


def article(n: int) -> ArticleItem:
    return ArticleItem(url=f"{SOURCE.base_url}/a{n}/", title=f"Article {n}", published=None,
                       categories=["Santé"], summary="", body_html=f"<p>{n}</p>")


def age(tmp_path: Path) -> None:
    """Everything recorded so far was seen long ago (runs within a second would not tell)."""
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        catalog.db.execute("UPDATE documents SET last_seen = '2000-01-01'")


API = DiscoveryItem(f"{SOURCE.base_url}/wp-json/wp/v2/posts", "api", ok=True, articles=2)


def test_a_complete_run_is_healthy(tmp_path: Path) -> None:
    run = crawl(tmp_path, [API, article(1), article(2)])
    assert run == {"healthy": True, "failed": False, "reason": None, "source": "site",
                   "counts": run["counts"]}
    assert run["counts"]["new"] == 2 and run["counts"]["articles"] == 2


@pytest.mark.parametrize("gap", [
    DiscoveryItem("https://site.example.fr/wp-json/wp/v2/posts?page=2", "api", ok=False,
                  error="API : réponse HTTP 500"),
    DiscoveryItem("https://site.example.fr/a3/", "article", ok=False, error="délai dépassé"),
    DiscoveryItem("https://site.example.fr/wp-sitemap-posts-post-1.xml", "sitemap", ok=False,
                  error="plan du site illisible ou vide")])
def test_a_gap_in_discovery_counts_no_absence(tmp_path: Path, gap: DiscoveryItem) -> None:
    crawl(tmp_path, [API, article(1), article(2)])
    age(tmp_path)
    run = crawl(tmp_path, [API, gap, article(1)])  # a2 not seen: a gap, not an absence
    assert not run["healthy"] and not run["failed"] and gap.url in run["reason"]
    assert run["counts"]["missing"] == 0


def test_optional_probes_that_are_absent_are_not_gaps(tmp_path: Path) -> None:
    probe = DiscoveryItem("https://site.example.fr/sitemap_index.xml", "sitemap", ok=False,
                          optional=True, error="plan du site : HTTP 404")
    assert crawl(tmp_path, [API, probe, article(1)])["healthy"]


def test_nothing_discovered_is_a_failed_run(tmp_path: Path) -> None:
    down = DiscoveryItem(f"{SOURCE.base_url}/wp-json/wp/v2/posts", "api", ok=False,
                         error="API : réponse HTTP 500")
    run = crawl(tmp_path, [down])
    assert run["failed"] and not run["healthy"] and "HTTP 500" in run["reason"]


def test_an_interrupted_run_counts_no_absence(tmp_path: Path) -> None:
    crawl(tmp_path, [API, article(1), article(2)])
    age(tmp_path)
    run = crawl(tmp_path, [API, article(1)], finish="shutdown")
    assert not run["healthy"] and run["counts"]["missing"] == 0


def test_a_healthy_run_counts_what_it_did_not_see(tmp_path: Path) -> None:
    crawl(tmp_path, [API, article(1), article(2)])
    age(tmp_path)
    run = crawl(tmp_path, [API, article(1)])
    assert run["healthy"] and run["counts"]["missing"] == 1


def test_a_page_the_spider_failed_on_is_a_gap(tmp_path: Path) -> None:
    crawl(tmp_path, [API, article(1), article(2)])
    age(tmp_path)
    run = crawl(tmp_path, [API, article(1)], crashed=1)
    assert not run["healthy"] and "journal" in run["reason"] and run["counts"]["missing"] == 0
