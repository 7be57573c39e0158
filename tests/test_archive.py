"""The real corpus, imported and ingested once: what staff and residents will search."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fonds.app.cli import cli
from fonds.catalog import Catalog
from fonds.engines.embedded import EmbeddedEngine
from fonds.importer import import_paths
from fonds.models import DocStatus, ExtractionStatus
from fonds.settings import load_settings
from tests.conftest import CORPUS_PDFS, ODD_PDFS, ROOT, child_env, ingest_dir, need_shared

SCANS = ("an_courrier-depute-scan-1p-hires.pdf", "an_courrier-depute-scan-1p.pdf",
         "an_courrier-depute-scan-2p.pdf", "dinsic_lettre-engagement-decidim-scan.pdf")


def run(config, *args: str):
    result = CliRunner().invoke(cli, ["--data-dir", str(config.data_dir), *args],
                                env={k: None for k in os.environ if k.startswith("FONDS_")}
                                | {"FONDS_OCR": "false"})
    return result


def test_every_document_is_active_or_failed_with_a_reason(archive) -> None:
    config, report = archive
    with Catalog(config.catalog_path) as catalog:
        docs = catalog.documents()
        engine = EmbeddedEngine(config.index_dir)
        indexed = engine.document_ids()
    assert len(docs) == 40
    for doc in docs:
        assert doc.status is DocStatus.ACTIVE or doc.error, doc.canonical_url
        assert doc.extraction_status is not ExtractionStatus.PENDING
    active = [d for d in docs if d.status is DocStatus.ACTIVE and d.id in indexed]
    assert len(active) >= 34
    assert report.counts["processed"] + report.counts["failed"] == 40


def test_scans_are_flagged_and_findable_by_title(archive) -> None:
    config, _ = archive
    with Catalog(config.catalog_path) as catalog:
        scans = [d for d in catalog.documents() if d.canonical_url.endswith(SCANS)]
    assert len(scans) == 4
    for doc in scans:
        assert doc.extraction_status is ExtractionStatus.NO_TEXT
        assert any("texte non extractible" in n for n in doc.notes)
    result = run(config, "search", "lettre engagement decidim", "--mode", "keyword", "--json")
    hits = json.loads(result.output)["hits"]
    assert any(h["url"].endswith("dinsic_lettre-engagement-decidim-scan.pdf") for h in hits)


def test_status_reports_passages_and_the_run(archive) -> None:
    config, report = archive
    status = json.loads(run(config, "status", "--json").output)
    assert status["passages"] == report.counts["passages"] > 200
    assert status["runs"][0]["kind"] == "ingest"
    assert status["runs"][0]["counts"]["processed"] == report.counts["processed"]


def test_rerun_with_nothing_changed_does_nothing(archive) -> None:
    config, _ = archive
    import sqlite3

    def vectors() -> int:  # the embedding cache: a rerun computes no vector
        with sqlite3.connect(config.embeddings_path) as db:
            return db.execute("SELECT count(*) FROM vectors").fetchone()[0]

    before = vectors()
    result = run(config, "ingest")
    assert result.exit_code == 0, result.output
    assert "Rien à indexer : 40 document(s) inchangé(s)" in result.output
    status = json.loads(run(config, "status", "--json").output)
    assert status["runs"][0]["counts"] == {"unchanged": 40}
    assert vectors() == before > 200  # the speed lives in the benchmark (fonds bench ingest)


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_search_in_every_mode(archive, mode: str) -> None:
    config, _ = archive
    result = run(config, "search", "mandat aidants connect", "--mode", mode, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["mode"] == mode and answer["total"] >= 3
    top = answer["hits"][0]
    assert "aidantsconnect" in top["url"]
    assert top["passages"] and all(p["page"] for p in top["passages"])
    assert set(answer["facets"]) == {"themes", "departements", "doc_type", "source", "year"}


def test_search_with_filters_and_facets(archive) -> None:
    config, _ = archive
    everything = json.loads(run(config, "search", "droits", "--mode", "keyword",
                                "--json").output)
    theme, count = next(iter(everything["facets"]["themes"].items()))
    filtered = json.loads(run(config, "search", "droits", "--mode", "hybrid", "--theme", theme,
                              "--json").output)
    assert all(theme in h["themes"] for h in filtered["hits"])
    kind = next(iter(everything["facets"]["doc_type"]))
    by_type = json.loads(run(config, "search", "droits", "--mode", "keyword", "--type", kind,
                             "--json").output)
    assert by_type["total"] == everything["facets"]["doc_type"][kind]
    assert all(h["doc_type"] == kind for h in by_type["hits"])


def test_typo_and_no_accents(archive) -> None:
    config, _ = archive
    answer = json.loads(run(config, "search", "discrimnation", "--mode", "keyword",
                            "--json").output)
    assert answer["hits"][0]["url"].rsplit("/", 1)[-1].startswith("ddd_")


def test_unknown_filter_value_is_a_clear_error(archive) -> None:
    config, _ = archive
    result = run(config, "search", "droits", "--theme", "Astronomie")
    assert result.exit_code == 1
    assert "thème inconnu « Astronomie »" in result.output


def test_readable_french_output(archive) -> None:
    config, _ = archive
    result = run(config, "search", "surendettement", "--mode", "keyword")
    assert result.exit_code == 0
    assert "document" in result.output and "p. " in result.output


def test_reindex_rebuilds_without_embedding(archive) -> None:
    config, report = archive
    before = json.loads(run(config, "search", "données ouvertes", "--mode", "hybrid",
                            "--json").output)
    result = run(config, "reindex")
    assert result.exit_code == 0, result.output
    assert f"{report.counts['passages']} passages" in result.output
    after = json.loads(run(config, "search", "données ouvertes", "--mode", "hybrid",
                           "--json").output)
    assert [h["doc_id"] for h in after["hits"]] == [h["doc_id"] for h in before["hits"]]


def test_odd_pdfs_all_get_a_status(tmp_path: Path) -> None:
    need_shared(ODD_PDFS)
    config, report = ingest_dir(tmp_path / "data", ODD_PDFS, embedder="none")
    with Catalog(config.catalog_path) as catalog:
        docs = catalog.documents()
    distinct = {hashlib.sha256(p.read_bytes()).digest() for p in ODD_PDFS.rglob("*.pdf")}
    assert len(docs) == len(distinct)  # one document per distinct file
    for doc in docs:
        assert doc.extraction_status is not ExtractionStatus.PENDING, doc.canonical_url
        assert doc.status is DocStatus.ACTIVE or doc.error
    failed = {Path(d.canonical_url).name: d.error for d in docs if d.status is DocStatus.FAILED}
    assert "chiffré" in failed["encrypted-file.pdf"]
    assert failed["ddd_affiche_empty-0-bytes.pdf"] == "fichier vide"
    assert report.counts["failed"] >= 3


@pytest.mark.slow
def test_sigkill_mid_ingest_then_rerun_gives_the_same_index(tmp_path: Path) -> None:
    need_shared(CORPUS_PDFS)
    reference, _ = ingest_dir(tmp_path / "reference", CORPUS_PDFS, embedder="none")

    data_dir = tmp_path / "killed"
    config = load_settings({"data_dir": data_dir, "ocr": False, "embedder": "none"}, env={})
    with Catalog(config.catalog_path) as catalog:
        import_paths([CORPUS_PDFS], config, catalog, progress=False)
    env = child_env(FONDS_OCR="false", FONDS_EMBEDDER="none")
    command = [sys.executable, "-m", "fonds", "--data-dir", str(data_dir), "ingest"]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and done < 10 and proc.poll() is None:
        time.sleep(0.2)
        with Catalog(config.catalog_path) as catalog:
            done = catalog.db.execute(
                "SELECT COUNT(*) FROM documents WHERE ingested_sha256 IS NOT NULL").fetchone()[0]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < done < 40, f"not caught mid-way ({done} documents ingested)"

    rerun = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr

    def state(path: Path) -> tuple[set[str], int, set[str]]:
        settings = load_settings({"data_dir": path}, env={})
        with Catalog(settings.catalog_path) as catalog:
            ids = {r[0] for r in catalog.db.execute("SELECT id FROM passages")}
        engine = EmbeddedEngine(settings.index_dir)
        return ids, engine.count(), engine.document_ids()

    ref_ids, ref_count, ref_docs = state(reference.data_dir)
    ids, count, docs = state(data_dir)
    assert ids == ref_ids
    assert count == ref_count == len(ref_ids)  # no duplicate, none missing
    assert docs == ref_docs
