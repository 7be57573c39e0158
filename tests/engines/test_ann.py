"""The ANN index and the compact vector snapshot of a large archive, on small sets (the
thresholds lowered): recall against exact search, the snapshot's round trip, writes after
it, and the engine searching through it. Correctness only; the speed is in the bench."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fonds.app import bench
from fonds.engines import ann
from fonds.engines import vectors as vector_store
from fonds.engines.base import Mode, SearchRequest
from fonds.engines.embedded import EmbeddedEngine
from fonds.engines.vectors import VectorStore

pytestmark = pytest.mark.skipif(not ann.available(), reason="faiss-cpu is not installed")

ROWS = 2_000


@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A snapshot of ROWS vectors is « large »: float16, memory-mapped, with its index."""
    monkeypatch.setattr(ann, "ANN_MIN_ROWS", 1_000)
    monkeypatch.setattr(vector_store, "F16_MIN_ROWS", 1_000)


def _ids(rows: range) -> tuple[list[str], list[str]]:
    docs = [f"doc{i // bench.PASSAGES_PER_DOC:06d}" for i in rows]
    return [f"{d}-{i % bench.PASSAGES_PER_DOC}" for d, i in zip(docs, rows, strict=True)], docs


def _exact_top(matrix: np.ndarray, query: np.ndarray, k: int = 10) -> np.ndarray:
    return np.argsort(-(matrix @ query), kind="stable")[:k]


def test_ann_recall_at_10_against_exact(tmp_path: Path) -> None:
    matrix = bench._slice_vectors(0, ROWS)
    queries = bench.query_vectors(60, ROWS // bench.PASSAGES_PER_DOC)
    ann.build(matrix, tmp_path / "x.ann")
    index = ann.AnnIndex(tmp_path / "x.ann", ROWS)
    found = [index.search(q, 10)[0] for q in queries]
    exact = [_exact_top(matrix, q) for q in queries]
    from fonds.app.bench_peers import recall_at_k

    assert recall_at_k(found, exact) >= 0.98
    rows, scores = index.search(queries[0], 10)
    # Cosines as exact search gives them (float16 codes), best first.
    assert np.allclose(scores, matrix[rows] @ queries[0], atol=2e-3)
    assert list(scores) == sorted(scores, reverse=True)


def test_a_damaged_or_mismatched_index_falls_back_to_exact(tmp_path: Path) -> None:
    (tmp_path / "x.ann").write_bytes(b"not an index")
    assert ann.open_index(tmp_path / "x.ann", 10**6) is None
    ann.build(bench._slice_vectors(0, ROWS), tmp_path / "y.ann")
    assert ann.open_index(tmp_path / "y.ann", ROWS + 1) is None  # not this snapshot's


def test_snapshot_round_trip_compact_and_memory_mapped(tmp_path: Path,
                                                       small_thresholds: None) -> None:
    matrix = bench._slice_vectors(0, ROWS)
    store = VectorStore(tmp_path / "vectors")
    for start in range(0, ROWS, 500):
        ids, docs = _ids(range(start, start + 500))
        store.write(set(), ids, docs, matrix[start:start + 500])
    assert not store.uses_ann()  # chunks only: exact
    store.compact()

    reopened = VectorStore(tmp_path / "vectors")
    reopened.refresh()
    assert len(reopened) == ROWS and reopened.uses_ann()
    base = reopened._base
    assert base is not None
    assert isinstance(base.matrix, np.memmap) and base.matrix.dtype == np.float16
    assert np.allclose(np.asarray(base.matrix, dtype=np.float32), matrix, atol=1e-3)
    mean = matrix[:bench.PASSAGES_PER_DOC].mean(axis=0)
    vector = reopened.doc_vector("doc000000")
    assert vector is not None
    assert np.allclose(vector, mean / np.linalg.norm(mean), atol=2e-3)
    for query in bench.query_vectors(20, ROWS // bench.PASSAGES_PER_DOC):
        scores, _, _ = reopened.doc_scores(query)
        assert len(scores) == ROWS
        assert reopened.passage_id(int(np.argmax(scores))) == _ids(
            range(int(_exact_top(matrix, query, 1)[0]), ROWS))[0][0]


def test_writes_after_the_snapshot_replace_and_delete_its_rows(tmp_path: Path,
                                                              small_thresholds: None) -> None:
    matrix = bench._slice_vectors(0, ROWS)
    store = VectorStore(tmp_path / "vectors")
    ids, docs = _ids(range(ROWS))
    store.write(set(), ids, docs, matrix)
    store.compact()
    assert store.uses_ann()
    moved = matrix[-1]  # doc000001-0 now says what the archive's last passage says
    store.write({"doc000002"}, ["doc000001-0"], ["doc000001"], moved[None, :])
    store.refresh()
    assert len(store) == ROWS - bench.PASSAGES_PER_DOC
    scores, row_docs, code_docs = store.doc_scores(moved)
    live = {store.passage_id(int(r)) for r in np.flatnonzero(np.isfinite(scores))}
    assert not any(p.startswith("doc000002-") for p in live)  # deleted: never a candidate
    top = np.argsort(-scores)[:2]
    assert {store.passage_id(int(r)) for r in top} == {"doc000001-0", ids[-1]}
    assert all(code_docs[row_docs[r]] == store.passage_id(int(r)).split("-")[0] for r in top)

    store.compact()  # the rows folded in: the new vector is the snapshot's
    again = VectorStore(tmp_path / "vectors")
    again.refresh()
    assert len(again) == ROWS - bench.PASSAGES_PER_DOC and again.uses_ann()
    scores, _, _ = again.doc_scores(moved)
    assert {again.passage_id(int(r)) for r in np.argsort(-scores)[:2]} == {
        "doc000001-0", ids[-1]}


def test_the_engine_searches_a_large_archive_through_the_index(tmp_path: Path,
                                                               small_thresholds: None) -> None:
    engine = EmbeddedEngine(tmp_path / "index")
    with engine.rebuild() as fresh:
        fresh.ensure_index(bench.DIM)
        fresh.upsert(bench.synthetic_passages(0, 1_200))
    assert bench.engine_uses_ann(engine)  # the rebuild's end settled the vectors
    target = bench.synthetic_passages(437, 1)[0]
    assert target.vector is not None
    result = engine.search(SearchRequest("conseils citoyens", mode=Mode.SEMANTIC, limit=3),
                           target.vector)
    assert result.hits and result.hits[0].doc_id == target.doc_id
    result = engine.search(SearchRequest("politique de la ville", mode=Mode.HYBRID, limit=5,
                                         semantic_ratio=0.9), target.vector)
    assert result.total > 0 and target.doc_id in [h.doc_id for h in result.hits]
