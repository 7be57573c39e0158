"""The embedded engine (default): tantivy for words, numpy for meaning, no server.

This module holds the writing side and the generation bookkeeping; storage.py the files,
schema.py the entries, searcher.py the queries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from fonds.engines import floor as similarity
from fonds.engines.base import FACETS, DocHit, Passage, SearchRequest, SearchResult
from fonds.engines.embedded.schema import PASSAGE, doc_entry, fold_index, passage_entry
from fonds.engines.embedded.searcher import Searcher
from fonds.engines.embedded.storage import Generation, IndexDir, write_meta
from fonds.engines.ranking import DEFAULT_RANKING, RankingConfig
from fonds.errors import FondsError, IndexDamaged, StorageError, storage_error
from fonds.fold import FoldIndex


class EmbeddedEngine:
    suggests = True

    def __init__(self, index_dir: Path, ranking: RankingConfig = DEFAULT_RANKING, *,
                 generation: str | None = None, fold: bool = True) -> None:
        """`generation`: work on that (new, not yet live) generation only, as a rebuild
        does; by default the live one, followed across rebuilds. `fold`: near-duplicates
        are one result (groups are recorded either way)."""
        self.index_dir = index_dir
        self.ranking = ranking
        self.fold = fold
        self._folds: tuple[Generation, FoldIndex] | None = None  # groups, for upserts
        self.dir = IndexDir(index_dir)
        self._lock = threading.RLock()
        self._pinned = generation is not None
        self._gen: Generation | None = None
        self._current: str | None = generation
        if generation is not None:
            self._gen = Generation(index_dir / generation)
        else:
            self._open()

    # -- generations ---------------------------------------------------------------

    def _open(self) -> None:
        try:
            self._gen, self._current = self.dir.open_live()
        except IndexDamaged:
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            if storage_error(exc) is not None:
                raise
            raise IndexDamaged(self.index_dir, exc) from None

    def _ensure(self) -> Generation:
        """The live generation, created on first write."""
        with self._lock:
            if self._gen is None:
                self.dir.set_current(self.dir.new_generation())
                self._open()
            assert self._gen is not None
            return self._gen

    def _reader(self) -> Generation | None:
        """The generation searches read; damage to it is one IndexDamaged, never a raw
        numpy or tantivy error."""
        try:
            return self._live_reader()
        except (IndexDamaged, StorageError):
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            if storage_error(exc) is not None:
                raise
            raise IndexDamaged(self.index_dir, exc) from None

    def _live_reader(self) -> Generation | None:
        with self._lock:
            if self._pinned:  # a generation being rebuilt: not the live one
                assert self._gen is not None
                self._gen.refresh()
                return self._gen
            name = self.dir.current()
            if name != self._current:
                if self._gen is not None and self._gen.writer is None:
                    self._gen = None
                self._open()
            elif self._gen is not None and (self._gen.writer is None or self._gen.dirty):
                try:
                    self._gen.refresh()
                except (FondsError, OSError, ValueError):
                    # Swapped out and removed by a rebuild since CURRENT was read: the
                    # search goes to the new generation.
                    if self.dir.current() == name:
                        raise
                    self._gen = None
                    self._open()
            return self._gen

    def meta(self) -> dict[str, Any]:
        gen = self._reader()
        return gen.meta() if gen is not None else {}

    def set_meta(self, meta: Mapping[str, Any]) -> None:
        """Merged into the recorded meta; an embedder record brings its similarity floor."""
        gen = self._ensure()
        write_meta(gen.path, similarity.with_floor({**self.meta(), **meta}))

    # -- writing -------------------------------------------------------------------

    def ensure_index(self, dimensions: int | None) -> None:
        """The live generation exists. Vectors of any dimension are accepted: the vector
        store checks that they agree with the ones already stored."""
        self._ensure()

    def upsert(self, passages: Sequence[Passage]) -> None:
        if not passages:
            return
        gen = self._ensure()
        writer = gen.open_writer()
        doc_ids = sorted({p.doc_id for p in passages})
        with_vectors = [p for p in passages if p.vector is not None]
        vectors = (np.stack([np.asarray(p.vector, dtype=np.float32) for p in with_vectors])
                   if with_vectors else None)
        # Vectors first: if we die before the commit, tantivy still decides what is live.
        gen.vectors.write(doc_ids, [p.passage_id for p in with_vectors],
                          [p.doc_id for p in with_vectors], vectors)
        for doc_id in doc_ids:
            writer.delete_documents_by_term("doc_id", doc_id)
        by_doc: dict[str, list[Passage]] = {}
        for p in passages:
            writer.add_document(passage_entry(p))
            by_doc.setdefault(p.doc_id, []).append(p)
        if self._folds is None or self._folds[0] is not gen:
            gen.refresh()  # its documents as committed, even by this process
            self._folds = gen, fold_index(gen.docs)
        try:
            for items in by_doc.values():
                writer.add_document(doc_entry(items, self._folds[1]))
            writer.commit()
        except BaseException:
            self._folds = None  # recorded groups may be ahead of the index: read it again
            raise
        gen.changed()

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        if not doc_ids or self._reader() is None:
            return
        gen = self._ensure()
        writer = gen.open_writer()
        for doc_id in doc_ids:
            writer.delete_documents_by_term("doc_id", doc_id)
        writer.commit()
        if self._folds is not None:
            for doc_id in doc_ids:
                self._folds[1].remove(doc_id)
        gen.vectors.write(set(doc_ids), [], [], None)
        gen.changed()

    def clear(self) -> None:
        """Every passage removed (tests and tools; not part of the protocol)."""
        if self._reader() is None:
            return
        gen = self._ensure()
        writer = gen.open_writer()
        writer.delete_all_documents()
        writer.commit()
        self._folds = None
        gen.vectors.write(set(gen.docs), [], [], None)
        gen.vectors.compact(live_ids=set())
        gen.changed()

    @contextmanager
    def rebuild(self) -> Iterator[EmbeddedEngine]:
        """Fill a fresh generation; CURRENT points to it only once it is complete."""
        name = self.dir.new_generation("-new")
        fresh = EmbeddedEngine(self.index_dir, self.ranking, generation=name, fold=self.fold)
        try:
            yield fresh
            fresh.close()
        except BaseException:
            fresh.close()
            self.dir.discard(name)
            raise
        old = self._current
        self.close()
        self.dir.swap(name, old)
        self._open()

    def close(self) -> None:
        with self._lock:
            if self._gen is not None:
                self._gen.close()

    # -- reading -------------------------------------------------------------------

    def count(self) -> int:
        """Number of passages."""
        gen = self._reader()
        if gen is None:
            return 0
        query = tantivy.Query.term_query(gen.schema, "kind", PASSAGE)
        found = gen.index.searcher().search(query, limit=1, count=True)
        return int(found.count)  # type: ignore[attr-defined]  # missing from tantivy's stubs

    def document_ids(self) -> set[str]:
        gen = self._reader()
        return set(gen.docs) if gen else set()

    def _searcher(self) -> Searcher | None:
        gen = self._reader()
        if gen is None or not gen.docs:
            return None
        return Searcher(gen, self.ranking, similarity.from_meta(gen.meta()), fold=self.fold)

    def search(self, request: SearchRequest, query_vector: np.ndarray | None = None
               ) -> SearchResult:
        searcher = self._searcher()
        if searcher is None:
            return SearchResult(0, (), {f: {} for f in FACETS} if request.facets else {}, 0.0)
        return searcher.search(request, query_vector)

    def suggest(self, query: str) -> str | None:
        searcher = self._searcher()
        return searcher.suggest(query) if searcher is not None else None

    def similar(self, doc_id: str, limit: int = 5) -> list[DocHit]:
        searcher = self._searcher()
        return searcher.similar(doc_id, limit) if searcher is not None else []
