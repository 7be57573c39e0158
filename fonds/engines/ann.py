"""Approximate nearest neighbours for the semantic half of a large archive.

Exact search reads every vector (O(N): about 16 ms per query at 100,000 passages on two
cores, 160 ms at a million). Beyond ANN_MIN_ROWS the vector snapshot gets an inverted-file
index (faiss IVF, float16 codes, memory-mapped): a query reads the NPROBE closest lists only.
Chosen by measurement (benchmarks/results/search-*.json, "ann"): on the bench's clustered
vectors IVF reached recall@10 1.0 at nprobe 8 where HNSW (usearch, f16 and i8) stayed at
0.85-0.93 for the same latency, and its build is a k-means plus one pass.

The index is derived data: built from the snapshot's vectors at compaction, written beside
them, rebuilt by `fonds reindex`. Without faiss, or with a damaged file, search is exact.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

try:  # the engine works without it (exact search); pyproject declares it
    import faiss
except ImportError:  # pragma: no cover - faiss-cpu is a dependency
    faiss = None  # type: ignore[assignment]

ANN_MIN_ROWS = 50_000  # below, exact search costs under ~8 ms and stays exact
CANDIDATES = 1_000  # passages a query reads from the index (the floor then cuts them)
NPROBE = 16  # lists read per query; recall@10 on the bench is reported with it
TRAIN_PER_LIST = 40  # k-means sample: faiss warns below 39 points per centroid
BATCH = 50_000  # rows converted to float32 at a time while building (bounded memory)

if faiss is not None:
    faiss.omp_set_num_threads(1)  # two cores, two searchers: one thread each


def available() -> bool:
    return faiss is not None


def lists_for(rows: int) -> int:
    """Inverted lists: √N (1,000 at a million: the k-means stays a few seconds on one core,
    a query reads NPROBE/√N of the vectors)."""
    return max(1, int(math.sqrt(rows)))


def build(matrix: np.ndarray, path: Path, seed: int = 0) -> None:
    """Index the rows of `matrix` (unit vectors, any float dtype) into `path`, atomically."""
    if faiss is None:
        raise RuntimeError("faiss-cpu n'est pas installé")
    rows, dim = matrix.shape
    nlist = min(lists_for(rows), max(1, rows // TRAIN_PER_LIST))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT)
    sample = np.sort(np.random.default_rng(seed).choice(
        rows, min(rows, nlist * TRAIN_PER_LIST), replace=False))
    index.train(np.ascontiguousarray(matrix[sample], dtype=np.float32))
    for start in range(0, rows, BATCH):
        index.add(np.ascontiguousarray(matrix[start:start + BATCH], dtype=np.float32))
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)


class AnnIndex:
    """A built index, memory-mapped read-only: pages are shared and reclaimable, never in
    the Python heap."""

    def __init__(self, path: Path, rows: int) -> None:
        if faiss is None:
            raise RuntimeError("faiss-cpu n'est pas installé")
        self.index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        if self.index.ntotal != rows:
            raise ValueError(f"{path}: {self.index.ntotal} vecteurs, {rows} attendus")
        self.ivf = faiss.extract_index_ivf(self.index)
        self.ivf.nprobe = NPROBE

    def search(self, query: np.ndarray, k: int = CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the k nearest rows found, best first."""
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        scores, rows = self.index.search(q, k)
        keep = rows[0] >= 0  # fewer than k in the lists read: faiss pads with -1
        return rows[0][keep], scores[0][keep]


def open_index(path: Path, rows: int) -> AnnIndex | None:
    """The index at `path` when it is usable, else None (exact search)."""
    if faiss is None or rows < ANN_MIN_ROWS or not path.is_file():
        return None
    try:
        return AnnIndex(path, rows)
    except (RuntimeError, ValueError):
        return None  # damaged derived data: exact until the next compaction or reindex
