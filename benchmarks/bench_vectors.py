"""The semantic half alone at N passages, through fonds's VectorStore: the writes a rebuild
makes, one compaction (float16 snapshot + faiss IVF index, as `settle()` does at a rebuild's
end), then, in a fresh process, query latency, recall@10 against exact search, peak RSS.

Used for the million-passage row of the README, where the full `fonds bench search
--passages 1000000` (tantivy included) did not fit in a session on the shared machine.

    python benchmarks/bench_vectors.py 1000000 /tmp/vec1m build
    python benchmarks/bench_vectors.py 1000000 /tmp/vec1m query
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from fonds.app import bench
from fonds.app.bench_peers import recall_at_k
from fonds.engines import vectors as store_module


def build(n: int, root: Path) -> dict[str, float]:
    store_module.EXACT_TAIL_MAX = 10**9  # one compaction at the end, as settle() makes
    store_module.COMPACT_AFTER = 10**6
    store = store_module.VectorStore(root)
    started = time.perf_counter()
    for start in range(0, n, 25_000):
        rows = range(start, min(n, start + 25_000))
        ids = [f"doc{i // bench.PASSAGES_PER_DOC:06d}-{i % bench.PASSAGES_PER_DOC}" for i in rows]
        store.write(set(), ids, [p.split("-")[0] for p in ids],
                    bench._slice_vectors(start, len(rows)))
    chunks = time.perf_counter() - started
    started = time.perf_counter()
    store.compact()
    return {"chunks_s": round(chunks, 1), "compact_s": round(time.perf_counter() - started, 1),
            "rss_build_mb": bench.peak_rss_mb()}


def query(n: int, root: Path) -> dict[str, object]:
    queries = bench.query_vectors(300, n // bench.PASSAGES_PER_DOC)
    store = store_module.VectorStore(root)
    started = time.perf_counter()
    store.refresh()
    store.doc_scores(queries[0])
    load = time.perf_counter() - started
    times = []
    for q in queries:
        started = time.perf_counter()
        scores, _, _ = store.doc_scores(q)
        np.argsort(-scores)[:10]
        times.append((time.perf_counter() - started) * 1000)
    found = [np.argsort(-store.doc_scores(q)[0])[:10] for q in queries[:100]]
    out: dict[str, object] = {
        "passages": n, "uses_ann": store.uses_ann(), "load_s": round(load, 1),
        "doc_scores_ms": bench.Percentiles.of(times).as_json(),
        "peak_rss_mb_ann": bench.peak_rss_mb()}
    assert store._base is not None
    exact_matrix = np.asarray(store._base.matrix, dtype=np.float32)  # the peer, in the heap
    times = []
    for q in queries:
        started = time.perf_counter()
        np.argpartition(-(exact_matrix @ q), 10)[:10]
        times.append((time.perf_counter() - started) * 1000)
    exact = [np.argsort(-(exact_matrix @ q))[:10] for q in queries[:100]]
    out |= {"numpy_exact_ms": bench.Percentiles.of(times).as_json(),
            "recall@10": recall_at_k(found, exact),
            "peak_rss_mb_with_exact_matrix": bench.peak_rss_mb(),
            "files_mb": {p.name: round(p.stat().st_size / 2**20, 1) for p in root.iterdir()}}
    return out


if __name__ == "__main__":
    size, where, step = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    print(json.dumps(build(size, where) if step == "build" else query(size, where)))
