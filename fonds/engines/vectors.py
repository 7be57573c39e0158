"""Passage vectors beside the tantivy index, in immutable numbered chunk files.

Each write is one chunk (documents to drop, then passages to add), renamed into place
before the tantivy commit that goes with it. Tantivy stays the authority on what is live:
a vector whose passage is not in the index is skipped when results are fetched, so a crash
between the two writes can only leave harmless extra vectors, which compaction removes.

Compaction writes a snapshot (a `.base.npz` of ids and a `.npy` matrix beside it, float16
once it is large, memory-mapped: the vectors of a large archive live in the page cache, not
in the Python heap) and, beyond ann.ANN_MIN_ROWS, an ANN index of the snapshot. Chunks
after the snapshot are searched exactly; rows they replace or delete are masked.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from fonds.engines import ann

# numpy parses .npy headers with ast.literal_eval, and CPython 3.11 before 3.11.8 can raise
# « SystemError: AST constructor recursion depth mismatch » when two threads build ASTs at
# once (gh-106905). Streamlit serves each session in a thread and every reader reloads
# vectors after a commit: one reader at a time reads chunk files (rare, and fast).
_NPY_LOCK = threading.Lock()

COMPACT_AFTER = 64  # chunks; then one snapshot replaces them
# Rows searched exactly after the snapshot before a compaction folds them in (with the
# snapshot at least four times larger, so that a growing archive compacts geometrically).
EXACT_TAIL_MAX = 20_000
F16_MIN_ROWS = ann.ANN_MIN_ROWS  # smaller snapshots stay float32: exact, and small anyway


class _Snapshot:
    """The compacted vectors: ids, documents, the matrix (memory-mapped) and its ANN index."""

    def __init__(self, root: Path, name: str, ids: list[str], doc_ids: list[str],
                 inline: np.ndarray) -> None:
        self.ids, self.doc_ids = ids, doc_ids
        self.row_of = {pid: row for row, pid in enumerate(ids)}
        stem = name.removesuffix(".npz")
        if len(inline) == len(ids):  # written before the sidecar matrix (or tiny)
            self.matrix: np.ndarray = inline
        else:
            with _NPY_LOCK:
                self.matrix = np.load(root / f"{stem}.npy", mmap_mode="r", allow_pickle=False)
            if self.matrix.shape[0] != len(ids):
                raise ValueError(f"{stem}.npy : {self.matrix.shape[0]} lignes, {len(ids)} ids")
        self.ann = ann.open_index(root / f"{stem}.ann", len(ids))
        self._exact: np.ndarray | None = None

    def exact(self) -> np.ndarray:
        """The matrix as float32 for a full scan (a float32 memmap is used as is)."""
        if self._exact is None:
            self._exact = np.asarray(self.matrix, dtype=np.float32)
        return self._exact


class VectorStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._base: _Snapshot | None = None
        self._dead: set[int] = set()  # snapshot rows replaced or deleted since
        self._vectors: dict[str, np.ndarray] = {}  # rows of the chunks after the snapshot
        self._doc_of: dict[str, str] = {}  # every live passage
        self._by_doc: dict[str, set[str]] = {}
        self._loaded: list[str] = []  # chunk names applied, in order
        self._matrix: np.ndarray | None = None  # the chunks' rows, stacked
        self._ids: list[str] = []
        self._dead_rows: np.ndarray = np.empty(0, dtype=np.int64)
        self._row_docs: np.ndarray = np.empty(0, dtype=np.int32)
        self._doc_codes: dict[str, int] = {}
        self._code_docs: list[str] = []
        self.dim: int | None = None

    # -- files -------------------------------------------------------------------

    def _chunks(self) -> list[str]:
        if not self.root.is_dir():
            return []
        names = sorted(p.name for p in self.root.glob("*.npz"))
        bases = [n for n in names if n.endswith(".base.npz")]
        if bases:
            names = names[names.index(bases[-1]):]
        return names

    def _next_name(self, base: bool = False) -> str:
        names = sorted(p.name for p in self.root.glob("*.npz")) if self.root.is_dir() else []
        number = int(names[-1].split(".")[0]) + 1 if names else 1
        return f"{number:08d}{'.base' if base else ''}.npz"

    def _write(self, name: str, deleted: Sequence[str], ids: Sequence[str],
               doc_ids: Sequence[str], vectors: np.ndarray) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".chunk-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, deleted=np.array(list(deleted), dtype=str),
                         ids=np.array(list(ids), dtype=str),
                         doc_ids=np.array(list(doc_ids), dtype=str),
                         vectors=vectors.astype(np.float32, copy=False))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.root / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- writing -----------------------------------------------------------------

    def write(self, deleted_docs: Collection[str], ids: Sequence[str], doc_ids: Sequence[str],
              vectors: np.ndarray | None) -> None:
        if not deleted_docs and not ids:
            return
        if vectors is None:
            vectors = np.zeros((0, self.dim or 0), dtype=np.float32)
        if len(ids) and self.dim is not None and vectors.shape[1] != self.dim:
            raise ValueError(
                f"vecteurs de dimension {vectors.shape[1]}, l'index attend {self.dim}"
            )
        self._write(self._next_name(), sorted(deleted_docs), ids, doc_ids, vectors)
        self.refresh()
        base_rows = len(self._base.ids) if self._base else 0
        if len(self._chunks()) > COMPACT_AFTER or (
                len(self._vectors) > max(EXACT_TAIL_MAX, base_rows // 4)
                and len(self._doc_of) >= ann.ANN_MIN_ROWS):
            self.compact()

    def settle(self) -> None:
        """After a batch of writes (a rebuild's end): fold a large exact part into the
        snapshot, so that a big archive is searched through its ANN index."""
        self.refresh()
        if len(self._doc_of) < ann.ANN_MIN_ROWS:
            return
        base = self._base
        if (len(self._vectors) + len(self._dead) > EXACT_TAIL_MAX or base is None
                or (base.ann is None and ann.available())):
            self.compact()

    def compact(self, live_ids: Collection[str] | None = None) -> None:
        """One snapshot instead of many chunks; drop vectors whose passage is not live."""
        self.refresh()
        self.root.mkdir(parents=True, exist_ok=True)
        ids = [i for i in self._doc_of if live_ids is None or i in live_ids]
        old = [p for p in self.root.iterdir() if p.is_file() and not p.name.startswith(".")]
        name = self._next_name(base=True)
        stem = name.removesuffix(".npz")
        dim = self.dim or 0
        inline = np.zeros((0, dim), dtype=np.float32)
        if len(ids) < F16_MIN_ROWS:  # small: float32 inside the snapshot, as chunks are
            inline = self._gather(ids)
        else:
            matrix = np.lib.format.open_memmap(self.root / f".{stem}.npy", mode="w+",
                                               dtype=np.float16, shape=(len(ids), dim))
            for start in range(0, len(ids), ann.BATCH):
                matrix[start:start + ann.BATCH] = self._gather(ids[start:start + ann.BATCH])
            matrix.flush()
            del matrix
            os.replace(self.root / f".{stem}.npy", self.root / f"{stem}.npy")
            if ann.available():
                ann.build(np.load(self.root / f"{stem}.npy", mmap_mode="r"),
                          self.root / f"{stem}.ann")
        # The snapshot's ids last: readers see it only once its matrix and index exist.
        self._write(name, [], ids, [self._doc_of[i] for i in ids], inline)
        for path in old:
            path.unlink(missing_ok=True)
        self._reset()
        self.refresh()

    def _gather(self, ids: Sequence[str]) -> np.ndarray:
        """Vectors of live passages, from the chunks or the snapshot, as float32."""
        base = self._base
        out = np.empty((len(ids), self.dim or 0), dtype=np.float32)
        from_base = []
        for k, pid in enumerate(ids):
            vector = self._vectors.get(pid)
            if vector is not None:
                out[k] = vector
            else:
                assert base is not None
                from_base.append((k, base.row_of[pid]))
        if from_base and base is not None:
            at, rows = (np.array(x, dtype=np.int64) for x in zip(*from_base, strict=True))
            order = np.argsort(rows)  # sorted reads from the memory map
            out[at[order]] = base.matrix[rows[order]]
        return out

    # -- reading -----------------------------------------------------------------

    def _reset(self) -> None:
        self._base, self._dead, self._vectors = None, set(), {}
        self._doc_of, self._by_doc, self._loaded = {}, {}, []
        self._matrix = None

    def refresh(self) -> None:
        chunks = self._chunks()
        if chunks[: len(self._loaded)] != self._loaded:  # a snapshot replaced what we read
            self._reset()
        fresh = chunks[len(self._loaded):]
        for name in fresh:
            try:
                with _NPY_LOCK, np.load(self.root / name, allow_pickle=False) as data:
                    deleted = set(data["deleted"].tolist())
                    ids = data["ids"].tolist()
                    doc_ids = data["doc_ids"].tolist()
                    vectors = data["vectors"]
                if name.endswith(".base.npz"):
                    self._load_base(name, ids, doc_ids, vectors)
                    self._loaded.append(name)
                    continue
            except FileNotFoundError:  # compacted away while we listed: start over
                self._loaded = []
                self.refresh()
                return
            base = self._base
            for doc in deleted:
                for pid in self._by_doc.pop(doc, ()):
                    del self._doc_of[pid]
                    self._vectors.pop(pid, None)
                    if base is not None and pid in base.row_of:
                        self._dead.add(base.row_of[pid])
            for row, (pid, did) in enumerate(zip(ids, doc_ids, strict=True)):
                previous = self._doc_of.get(pid)
                if previous is not None and previous != did:
                    self._by_doc[previous].discard(pid)
                self._vectors[pid] = vectors[row]
                self._doc_of[pid] = did
                self._by_doc.setdefault(did, set()).add(pid)
                if base is not None and pid in base.row_of:
                    self._dead.add(base.row_of[pid])
            if len(ids):
                self.dim = int(vectors.shape[1])
            self._loaded.append(name)
        if fresh:
            self._matrix = None

    def _load_base(self, name: str, ids: list[str], doc_ids: list[str],
                   inline: np.ndarray) -> None:
        self._reset()
        base = _Snapshot(self.root, name, ids, doc_ids, inline)
        self._base = base
        self._doc_of = dict(zip(ids, doc_ids, strict=True))
        for pid, did in self._doc_of.items():
            self._by_doc.setdefault(did, set()).add(pid)
        if base.matrix.ndim == 2 and base.matrix.shape[1]:
            self.dim = int(base.matrix.shape[1])

    def __len__(self) -> int:
        return len(self._doc_of)

    def _build(self) -> None:
        base = self._base
        extra = list(self._vectors)
        self._ids = (base.ids if base else []) + extra
        self._matrix = (np.ascontiguousarray(np.stack([self._vectors[i] for i in extra]))
                        if extra else np.zeros((0, self.dim or 1), dtype=np.float32))
        self._dead_rows = np.array(sorted(self._dead), dtype=np.int64)
        self._doc_codes = {}
        owners = (base.doc_ids if base else []) + [self._doc_of[i] for i in extra]
        codes = [self._doc_codes.setdefault(d, len(self._doc_codes)) for d in owners]
        self._row_docs = np.array(codes, dtype=np.int32)
        self._code_docs = list(self._doc_codes)

    def doc_scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(cosine of every passage, its document's code, document id of each code): the
        whole distribution, so that a floor decides what matches, not a candidate count.
        With an ANN index, the snapshot's rows beyond its CANDIDATES nearest are -inf."""
        if self._matrix is None:
            self._build()
        assert self._matrix is not None
        if not self._ids:
            return np.empty(0, dtype=np.float32), self._row_docs, []
        q = query.astype(np.float32, copy=False).ravel()
        base = self._base
        size = len(base.ids) if base else 0
        if base is not None and base.ann is not None:
            scores = np.full(len(self._ids), -np.inf, dtype=np.float32)
            rows, found = base.ann.search(q)
            scores[rows] = found
        else:
            scores = np.empty(len(self._ids), dtype=np.float32)
            if base is not None:
                scores[:size] = base.exact() @ q
        scores[size:] = self._matrix @ q
        scores[self._dead_rows] = -np.inf
        return scores, self._row_docs, self._code_docs

    def uses_ann(self) -> bool:
        return self._base is not None and self._base.ann is not None

    def passage_id(self, row: int) -> str:
        return self._ids[row]

    def doc_vector(self, doc_id: str) -> np.ndarray | None:
        pids = sorted(self._by_doc.get(doc_id, ()))
        if not pids:
            return None
        mean = np.mean(self._gather(pids), axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm else None
