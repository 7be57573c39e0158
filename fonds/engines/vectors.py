"""Passage vectors beside the tantivy index, in immutable numbered chunk files.

Each write is one chunk (documents to drop, then passages to add), renamed into place
before the tantivy commit that goes with it. Tantivy stays the authority on what is live:
a vector whose passage is not in the index is skipped when results are fetched, so a crash
between the two writes can only leave harmless extra vectors, which compaction removes.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

# numpy parses .npy headers with ast.literal_eval, and CPython 3.11 before 3.11.8 can raise
# « SystemError: AST constructor recursion depth mismatch » when two threads build ASTs at
# once (gh-106905). Streamlit serves each session in a thread and every reader reloads
# vectors after a commit: one reader at a time reads chunk files (rare, and fast).
_NPY_LOCK = threading.Lock()

COMPACT_AFTER = 64  # chunks; then one snapshot replaces them


class VectorStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._vectors: dict[str, np.ndarray] = {}
        self._doc_of: dict[str, str] = {}
        self._by_doc: dict[str, set[str]] = {}
        self._loaded: list[str] = []  # chunk names applied, in order
        self._matrix: np.ndarray | None = None
        self._ids: list[str] = []
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
        if len(self._chunks()) > COMPACT_AFTER:
            self.compact()

    def compact(self, live_ids: Collection[str] | None = None) -> None:
        """One snapshot instead of many chunks; drop vectors whose passage is not live."""
        self.refresh()
        ids = [i for i in self._vectors if live_ids is None or i in live_ids]
        vectors = (np.stack([self._vectors[i] for i in ids]) if ids
                   else np.zeros((0, self.dim or 0), dtype=np.float32))
        old = sorted(p for p in self.root.glob("*.npz"))
        self._write(self._next_name(base=True), [], ids, [self._doc_of[i] for i in ids], vectors)
        for path in old:
            path.unlink(missing_ok=True)
        self._loaded = []
        self._vectors, self._doc_of, self._by_doc = {}, {}, {}
        self.refresh()

    # -- reading -----------------------------------------------------------------

    def refresh(self) -> None:
        chunks = self._chunks()
        if chunks[: len(self._loaded)] != self._loaded:  # a snapshot replaced what we read
            self._vectors, self._doc_of, self._by_doc, self._loaded = {}, {}, {}, []
        fresh = chunks[len(self._loaded):]
        for name in fresh:
            try:
                with _NPY_LOCK, np.load(self.root / name, allow_pickle=False) as data:
                    deleted = set(data["deleted"].tolist())
                    ids = data["ids"].tolist()
                    doc_ids = data["doc_ids"].tolist()
                    vectors = data["vectors"]
            except FileNotFoundError:  # compacted away while we listed: start over
                self._loaded = []
                self.refresh()
                return
            for doc in deleted:
                for pid in self._by_doc.pop(doc, ()):
                    del self._vectors[pid], self._doc_of[pid]
            for row, (pid, did) in enumerate(zip(ids, doc_ids, strict=True)):
                previous = self._doc_of.get(pid)
                if previous is not None and previous != did:
                    self._by_doc[previous].discard(pid)
                self._vectors[pid] = vectors[row]
                self._doc_of[pid] = did
                self._by_doc.setdefault(did, set()).add(pid)
            if len(ids):
                self.dim = int(vectors.shape[1])
            self._loaded.append(name)
        if fresh:
            self._matrix = None

    def __len__(self) -> int:
        return len(self._vectors)

    def _build(self) -> None:
        self._ids = list(self._vectors)
        if self._ids:
            self._matrix = np.ascontiguousarray(np.stack([self._vectors[i] for i in self._ids]))
        else:
            self._matrix = np.zeros((0, self.dim or 1), dtype=np.float32)
        self._doc_codes = {}
        codes = [self._doc_codes.setdefault(self._doc_of[i], len(self._doc_codes))
                 for i in self._ids]
        self._row_docs = np.array(codes, dtype=np.int32)
        self._code_docs = list(self._doc_codes)

    def doc_scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(cosine of every passage, its document's code, document id of each code): the
        whole distribution, so that a floor decides what matches, not a candidate count."""
        if self._matrix is None:
            self._build()
        assert self._matrix is not None
        if not self._ids:
            return np.empty(0, dtype=np.float32), self._row_docs, []
        scores = self._matrix @ query.astype(np.float32, copy=False).ravel()
        return scores, self._row_docs, self._code_docs

    def passage_id(self, row: int) -> str:
        return self._ids[row]

    def doc_vector(self, doc_id: str) -> np.ndarray | None:
        rows = [self._vectors[p] for p in sorted(self._by_doc.get(doc_id, ()))]
        if not rows:
            return None
        mean = np.mean(np.stack(rows), axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm else None
