"""What an ingest must do whatever earlier runs left: index every active extracted
document, retry failures whose cause may have gone, stop once on a missing module, rebuild
a damaged cache, and never let one document's values stop the others (issues 12 §4-5,
15 §1, §4, §6, §9)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fonds.catalog import Catalog
from fonds.engines.embedded import EmbeddedEngine
from fonds.errors import FondsError
from fonds.importer import import_paths
from fonds.models import DocStatus, ExtractionStatus, FailureKind
from fonds.settings import load_settings
from ingest.embed_cache import EmbeddingCache
from ingest.pipeline import run_ingest
from tests import pdfs

pytestmark = pytest.mark.slow


def _archive(root: Path, files: dict[str, bytes]):
    source = root / "in"
    source.mkdir(parents=True)
    for name, data in files.items():
        (source / name).write_bytes(data)
    config = load_settings({"data_dir": root / "data", "ocr": False, "embedder": "none"},
                           env={})
    with Catalog(config.catalog_path) as catalog:
        import_paths([source], config, catalog, progress=False)
    return config


def _ingest(config, **options):
    engine = EmbeddedEngine(config.index_dir)
    try:
        with Catalog(config.catalog_path) as catalog:
            report = run_ingest(config, catalog, engine, progress=False, **options)
            docs = {Path(d.canonical_url).name: d for d in catalog.documents()}
        return report, docs, engine.document_ids()
    finally:
        engine.close()


GOOD = {"a.pdf": pdfs.text_pdf(["Rapport annuel des conseils citoyens de Lodève."]),
        "b.pdf": pdfs.text_pdf(["Guide des maisons France services du Gard."])}


def test_an_active_extracted_document_is_always_indexed(tmp_path: Path) -> None:
    config = _archive(tmp_path, GOOD)
    _, docs, indexed = _ingest(config)
    assert set(indexed) == {d.id for d in docs.values()}
    # The rows an outage used to leave: active, ok, indexed = 0, and absent from the index.
    engine = EmbeddedEngine(config.index_dir)
    engine.delete_documents([docs["a.pdf"].id])
    engine.close()
    with sqlite3.connect(config.catalog_path) as db:
        db.execute("UPDATE documents SET indexed = 0")
    report, docs, indexed = _ingest(config)
    assert set(indexed) == {d.id for d in docs.values()}
    assert report.counts["reindexed"] == 2 and not report.counts["processed"]
    assert all(d.indexed for d in docs.values())
    # Gone, then seen again: out of the index, then back without re-extraction.
    with sqlite3.connect(config.catalog_path) as db:
        db.execute("UPDATE documents SET status = 'gone' WHERE canonical_url LIKE '%b.pdf'")
    _, docs, indexed = _ingest(config)
    assert docs["b.pdf"].id not in indexed
    with sqlite3.connect(config.catalog_path) as db:
        db.execute("UPDATE documents SET status = 'active' WHERE canonical_url LIKE '%b.pdf'")
    _, docs, indexed = _ingest(config)
    assert docs["b.pdf"].id in indexed


def test_a_lost_file_is_retried_by_the_next_ingest(tmp_path: Path) -> None:
    config = _archive(tmp_path, GOOD)
    with Catalog(config.catalog_path) as catalog:
        doc = next(d for d in catalog.documents() if d.canonical_url.endswith("a.pdf"))
    stored = config.data_dir / doc.file_path
    saved = stored.read_bytes()
    stored.unlink()
    _, docs, indexed = _ingest(config)
    lost = docs["a.pdf"]
    assert lost.status is DocStatus.FAILED and lost.error == "fichier absent du stockage"
    assert lost.failure_kind is FailureKind.TRANSIENT and lost.id not in indexed
    stored.write_bytes(saved)  # restored from a backup
    report, docs, indexed = _ingest(config)
    assert report.counts["retried"] == 1
    assert docs["a.pdf"].status is DocStatus.ACTIVE and docs["a.pdf"].id in indexed
    assert docs["a.pdf"].error is None


def test_a_broken_file_is_retried_only_on_request(tmp_path: Path) -> None:
    config = _archive(tmp_path, {**GOOD, "tronque.pdf": GOOD["a.pdf"][:300]})
    _, docs, _ = _ingest(config)
    broken = docs["tronque.pdf"]
    assert broken.status is DocStatus.FAILED and broken.error
    assert broken.failure_kind is FailureKind.DOCUMENT
    report, docs, _ = _ingest(config)
    assert not report.counts["retried"] and not report.counts["processed"]
    report, docs, _ = _ingest(config, retry_failed=True)
    assert report.counts["retried"] == 1 and report.counts["failed"] == 1
    assert docs["tronque.pdf"].error and docs["tronque.pdf"].error != "None"
    with Catalog(config.catalog_path) as catalog:  # re-importing keeps the reason
        again_report = import_paths([tmp_path / "in"], config, catalog, progress=False)
        assert again_report.counts["changed"] == 0  # same bytes: not « modifié »
        again = next(d for d in catalog.documents() if d.canonical_url.endswith("tronque.pdf"))
        failures = catalog.failures()
    assert again.status is DocStatus.FAILED and again.error == docs["tronque.pdf"].error
    assert all(f["error"] for f in failures)


def test_a_missing_module_stops_the_run_once_and_blames_no_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = b"<html><head><title>Journal</title></head><body><article><h1>Journal</h1>" + (
        b"<p>Les conseils citoyens se sont r\xc3\xa9unis.</p>" * 20) + b"</article></body></html>"
    config = _archive(tmp_path, {"a.html": page, "b.html": page.replace(b"unis", b"unies")})
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "trafilatura.py").write_text(
        'raise ImportError("lxml.html.clean module is now a separate project '
        'lxml_html_clean", name="lxml_html_clean")\n', encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(shadow))
    with pytest.raises(FondsError, match="module Python manquant : lxml_html_clean"):
        _ingest(config)
    with Catalog(config.catalog_path) as catalog:
        docs = catalog.documents()
    assert all(d.extraction_status is ExtractionStatus.PENDING and not d.error for d in docs)
    monkeypatch.delenv("PYTHONPATH")
    report, docs, indexed = _ingest(config)
    assert report.counts["processed"] == 2 and len(indexed) == 2


def test_a_worker_that_cannot_start_is_a_missing_module_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _archive(tmp_path, GOOD)
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "tantivy.py").write_text(
        'raise ModuleNotFoundError("No module named \'tantivy\'", name="tantivy")\n',
        encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(shadow))
    with pytest.raises(FondsError, match="module Python manquant.*tantivy"):
        _ingest(config)
    with Catalog(config.catalog_path) as catalog:
        assert all(not d.error for d in catalog.documents())


def test_a_garbage_embedding_cache_is_reported_and_rebuilt(tmp_path: Path) -> None:
    import numpy as np

    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"ceci n'est pas une base SQLite" * 100)
    said: list[str] = []
    cache = EmbeddingCache(path, say=said.append)
    cache.put("e", [("h", np.ones(3, dtype=np.float32))])
    assert list(cache.get("e", ["h"])["h"]) == [1.0, 1.0, 1.0]
    cache.close()
    assert len(said) == 1 and "reconstruit" in said[0]


HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["<script>alert(1)</script>", "![p](http://127.0.0.1:9/b.png)",
                     "\x1b]0;titre\x07", "\x00\x01\x02", "A" * 5000, "RAPPORT", "circulaire"]))
HOSTILE_DATE = st.one_of(
    st.sampled_from(["2020/05/12", "12 mai 2020", "n'importe quoi", "99999-01-01",
                     "2020-13-45", "1e20", "", "0000-00-00", "<iframe>"]),
    st.text(max_size=20), st.integers(), st.none())
HOSTILE_LIST = st.one_of(st.lists(HOSTILE_TEXT, max_size=4), HOSTILE_TEXT, st.integers(),
                         st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(st.fixed_dictionaries({
    "title": HOSTILE_TEXT, "date": HOSTILE_DATE, "themes": HOSTILE_LIST,
    "departements": HOSTILE_LIST, "doc_type": HOSTILE_TEXT}), min_size=1, max_size=6))
def test_hostile_records_in_one_ingest(records: list[dict], tmp_path_factory) -> None:
    root = tmp_path_factory.mktemp("hostile")
    lines = [json.dumps({"_id": f"bad{i}", "text": "Le conseil citoyen de Lodève.", **r})
             for i, r in enumerate(records)]
    lines.append(json.dumps({"_id": "good", "title": "Guide des conseils citoyens",
                             "text": "Le guide des conseils citoyens de l'Hérault.",
                             "date": "2019-03-12"}))
    (root / "in").mkdir()
    (root / "in" / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = _archive(root / "x", {})
    with Catalog(config.catalog_path) as catalog:
        import_paths([root / "in"], config, catalog, progress=False)
    report, docs, indexed = _ingest(config)
    assert len(docs) == len(lines)
    for doc in docs.values():
        assert doc.status is DocStatus.ACTIVE and doc.id in indexed, doc.error
        assert doc.display_date is None or len(doc.display_date) == 10
        title = doc.display_title
        assert title and len(title) <= 310
        assert not any(ord(ch) < 32 for ch in title)
    raw_dates = {f"bad{i}": r["date"] for i, r in enumerate(records)}
    for doc in docs.values():
        key = str(doc.meta.get("corpus_id"))
        if key in raw_dates and raw_dates[key] and doc.published is None:
            assert any("date illisible" in n for n in doc.notes), (raw_dates[key], doc.notes)
