"""A crawl of the replica in hostile mode: every broken answer a real server gives, at once.

The crawl must finish with its report; each hostile link ends in the catalog with a status
and a French reason; nothing is half-written in the catalog or under files/.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fonds.catalog import Catalog
from fonds.files import INCOMING
from fonds.models import DocStatus
from replica.content import ARTICLES
from replica.server import ServedSite, SiteState, article_path
from tests import hostile_site as hostile
from tests.conftest import run_fonds
from tests.replica_env import fonds_env, last_crawl

MAX_FILE_MB = 5


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hostile")
    with ServedSite(SiteState(hostile=hostile.Hostile(), max_bytes=MAX_FILE_MB * 2**20)) as site:
        env = fonds_env(tmp_path, site) | {"FONDS_CRAWL_TIMEOUT_S": "2",
                                           "FONDS_MAX_FILE_MB": str(MAX_FILE_MB)}
        result = run_fonds(env, "crawl", timeout=300)
        yield site, env, result


def test_the_crawl_finishes_with_its_report(crawled) -> None:
    _, env, result = crawled
    assert result.returncode == 0, result.stderr
    assert "Collecte terminée" in result.stdout
    assert "Traceback" not in result.stderr
    counts = last_crawl(env)["counts"]
    assert counts["failed"] >= len([c for c in hostile.CASES if c.expect != "active"])


@pytest.mark.parametrize("case", hostile.CASES, ids=lambda c: c.path.rsplit("/", 1)[1])
def test_each_hostile_answer_is_recorded_with_a_reason(crawled, case: hostile.Case) -> None:
    site, env, _ = crawled
    with Catalog(Path(env["FONDS_DATA_DIR"]) / "catalog.sqlite") as catalog:
        docs = catalog.documents()
    url = site.base_url + case.path
    found = [d for d in docs if url in d.urls or (case.path.endswith("vers-prive.pdf")
                                                  and hostile.PRIVATE_URL in d.urls)]
    assert found, f"{case.path} absent du catalogue"
    doc = found[0]
    if case.expect == "active":
        assert doc.status is DocStatus.ACTIVE and doc.media_type == "application/pdf"
    else:
        assert doc.status is DocStatus.FAILED
        assert case.expect in (doc.error or ""), doc.error


def test_retries_are_bounded_and_private_targets_never_asked(crawled) -> None:
    site, _, _ = crawled
    paths = [path for _, path, _ in site.site.state.requests]
    assert paths.count("/hostile/erreur-serveur.pdf") == 3  # first try + RETRY_TIMES 2
    assert paths.count("/hostile/boucle.pdf") <= 12  # Scrapy's redirect cap, not forever
    assert not any("interne" in p for p in paths)


def test_windows_1252_page_without_charset_is_read_right(crawled) -> None:
    site, env, _ = crawled
    article = ARTICLES[1]
    with Catalog(Path(env["FONDS_DATA_DIR"]) / "catalog.sqlite") as catalog:
        url = site.base_url + article_path(article)
        doc = next((d for d in catalog.documents() if url in d.urls), None)
    assert doc is not None and doc.status is DocStatus.ACTIVE
    assert doc.title == article.title
    summary = doc.meta["summary"]
    assert "é" in summary and "Ã" not in summary and "\ufffd" not in summary


def test_invalid_sitemap_does_not_stop_discovery(crawled) -> None:
    site, env, _ = crawled
    with Catalog(Path(env["FONDS_DATA_DIR"]) / "catalog.sqlite") as catalog:
        articles = [d for d in catalog.documents() if d.doc_type == "article"]
    assert len(articles) == len(ARTICLES)


def test_nothing_half_written(crawled) -> None:
    _, env, _ = crawled
    data = Path(env["FONDS_DATA_DIR"])
    with sqlite3.connect(data / "catalog.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Catalog(data / "catalog.sqlite") as catalog:
        held = {d.sha256 for d in catalog.documents() if d.sha256}
    stored = list((data / "files").iterdir())
    assert not [p for p in stored if p.name.startswith(INCOMING)]
    assert {p.name.split(".")[0] for p in stored} <= held
    big = [p for p in stored if p.stat().st_size > MAX_FILE_MB * 2**20]
    assert big == []


def test_request_cap_stops_the_crawl_cleanly(tmp_path) -> None:
    with ServedSite(SiteState()) as site:
        env = fonds_env(tmp_path, site) | {"FONDS_CRAWL_MAX_REQUESTS": "8"}
        result = run_fonds(env, "crawl")
        asked = len(site.site.state.requests)
    assert result.returncode == 0, result.stderr
    assert asked <= 8 + 8  # the cap, plus what was already in flight (2 hosts × 4)
    counts = last_crawl(env)["counts"]
    assert counts["gone"] == 0  # a capped run proves nothing about what disappeared
