from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fonds.catalog import SCHEMA_VERSION, Catalog
from fonds.errors import FondsError
from fonds.models import DocStatus, ExtractionStatus, Link, Observation, Outcome, RunKind


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    with Catalog(tmp_path / "catalog.sqlite") as cat:
        yield cat


def obs(url: str, sha: str | None = "a" * 64, **kw: object) -> Observation:
    return Observation(url=url, sha256=sha, file_path=f"files/{sha}.pdf", size=3, **kw)


def test_schema_is_migrated_and_in_wal_mode(catalog: Catalog) -> None:
    assert catalog.schema_version == SCHEMA_VERSION
    assert catalog.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in catalog.db.execute("SELECT name FROM sqlite_master")}
    assert {"documents", "urls", "runs", "links", "passages"} <= tables
    assert "sources" not in tables  # never used; dropped by migration 3


def test_reopening_does_not_migrate_twice(tmp_path: Path) -> None:
    Catalog(tmp_path / "c.sqlite").close()
    with Catalog(tmp_path / "c.sqlite") as again:
        assert again.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(FondsError, match="plus récent"):
        Catalog(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FondsError, match="illisible"):
        Catalog(path)


def test_new_unchanged_changed(catalog: Catalog) -> None:
    outcome, doc_id = catalog.record(obs("https://a.fr/guide.pdf", title="Guide"))
    assert outcome is Outcome.NEW
    assert catalog.record(obs("https://a.fr/guide.pdf"))[0] is Outcome.UNCHANGED
    doc = catalog.document(doc_id)
    assert doc is not None and doc.title == "Guide"  # an observation without title keeps it

    with catalog.transaction() as db:
        db.execute("UPDATE documents SET extraction_status = 'ok' WHERE id = ?", (doc_id,))
    outcome, same_id = catalog.record(obs("https://a.fr/guide.pdf", sha="b" * 64))
    assert (outcome, same_id) == (Outcome.CHANGED, doc_id)
    doc = catalog.document(doc_id)
    assert doc is not None
    assert doc.sha256 == "b" * 64
    assert doc.extraction_status is ExtractionStatus.PENDING  # a new version is re-ingested


def test_same_content_at_two_urls_is_one_document(catalog: Catalog) -> None:
    _, first = catalog.record(obs("https://a.fr/x.pdf"))
    outcome, second = catalog.record(obs("https://miroir.fr/x.pdf"))
    assert outcome is Outcome.UNCHANGED and second == first
    doc = catalog.document(first)
    assert doc is not None
    assert doc.urls == ("https://a.fr/x.pdf", "https://miroir.fr/x.pdf")
    assert doc.canonical_url == "https://a.fr/x.pdf"
    assert catalog.status_counts()["total"] == 1


def test_failure_is_kept_with_its_reason_then_recovers(catalog: Catalog) -> None:
    outcome, doc_id = catalog.record(obs("https://a.fr/404.pdf", sha=None, error="HTTP 404"))
    assert outcome is Outcome.FAILED
    assert catalog.failures() == [
        {"doc_id": doc_id, "url": "https://a.fr/404.pdf", "status": "failed", "error": "HTTP 404"}
    ]
    outcome, again = catalog.record(obs("https://a.fr/404.pdf"))
    assert (outcome, again) == (Outcome.CHANGED, doc_id)
    doc = catalog.document(doc_id)
    assert doc is not None and doc.status is DocStatus.ACTIVE and doc.error is None


def test_transient_failure_keeps_a_document_we_hold(catalog: Catalog) -> None:
    _, doc_id = catalog.record(obs("https://a.fr/x.pdf"))
    assert catalog.record(obs("https://a.fr/x.pdf", sha=None, error="HTTP 503"))[0] is (
        Outcome.FAILED
    )
    doc = catalog.document(doc_id)
    assert doc is not None and doc.status is DocStatus.ACTIVE and doc.sha256 == "a" * 64


def test_themes_and_departements_accumulate(catalog: Catalog) -> None:
    _, doc_id = catalog.record(obs("https://a.fr/x.pdf", themes=("santé",), departements=("34",)))
    catalog.record(obs("https://a.fr/x.pdf", themes=("jeunesse",), departements=("30",)))
    doc = catalog.document(doc_id)
    assert doc is not None
    assert doc.themes == ("jeunesse", "santé") and doc.departements == ("30", "34")


def test_runs_newest_first(catalog: Catalog) -> None:
    first = catalog.start_run(RunKind.IMPORT)
    catalog.finish_run(first, {"new": 2}, ["x : illisible"])
    second = catalog.start_run(RunKind.CRAWL)
    runs = catalog.runs()
    assert [r.id for r in runs] == [second, first]
    assert runs[0].finished is None  # still running, or killed
    assert runs[1].counts == {"new": 2} and runs[1].errors == ("x : illisible",)


def test_failed_transaction_rolls_back(catalog: Catalog) -> None:
    with pytest.raises(RuntimeError), catalog.transaction() as db:
        db.execute("INSERT INTO runs (kind, started) VALUES ('crawl', 'x')")
        raise RuntimeError("boom")
    assert catalog.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_links_keep_the_articles_that_link_a_document(catalog: Catalog) -> None:
    _, doc_id = catalog.record(obs("https://example.org/guide.pdf"))
    first = Link("https://example.org/sante/", "Santé des habitants", "Accéder au document",
                 ("santé",), "2021-02-08")
    catalog.add_link(doc_id, first)
    catalog.add_link(doc_id, Link("https://example.org/autre/", "Autre article", "guide"))
    catalog.add_link(doc_id, first)  # seen again: refreshed, not duplicated
    links = catalog.links(doc_id)
    assert sorted(link.article_url for link in links) == [
        "https://example.org/autre/", "https://example.org/sante/"]
    assert next(x for x in links if x.article_url.endswith("sante/")) == first
