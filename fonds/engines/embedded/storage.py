"""Where the embedded engine keeps its data: generations, the CURRENT pointer, meta.json.

Layout under the index dir: CURRENT names the live generation; each generation holds a
tantivy index, a vector store and meta.json. A rebuild fills a new generation and swaps
CURRENT in one rename, so searches never see an empty index. One process writes (tantivy's
writer lock); readers in other processes notice new commits and reload.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from fonds import french
from fonds.engines.base import FACETS
from fonds.engines.doctable import DocTable
from fonds.engines.embedded.schema import DOC, SCHEMA_VERSION, DocInfo, build_schema, doc_ord
from fonds.engines.vectors import VectorStore
from fonds.errors import FondsError, IndexDamaged, read_only_error

WRITER_HEAP = 64_000_000  # bytes of tantivy's indexing buffer
WRITER_THREADS = 1  # 2 cores, shared with embedding
CURRENT = "CURRENT"
META = "meta.json"
OPEN_ATTEMPTS = 10  # rebuilds in a row can replace a generation between two reads


class Generation:
    """One tantivy index + its vectors, opened for reading (and writing on demand)."""

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = path
        if create:
            (path / "tantivy").mkdir(parents=True, exist_ok=True)
        elif not (path / "tantivy").is_dir():
            raise FileNotFoundError(path)  # removed by a rebuild since CURRENT was read
        self.schema = build_schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(path / "tantivy"), reuse=True)
        except (OSError, ValueError) as exc:
            storage = read_only_error(path, "l'index doit pouvoir y poser son verrou")
            if storage is not None:
                raise storage from None
            raise IndexDamaged(path, exc) from None
        self.index.register_tokenizer("fr", french.stemmed_analyzer())
        self.index.register_tokenizer("fr_exact", french.exact_analyzer())
        self.vectors = VectorStore(path / "vectors")
        self.writer: tantivy.IndexWriter | None = None
        self.docs: dict[str, DocInfo] = {}
        self.table = DocTable(())
        self.by_ord: dict[int, str] = {}
        self._ord_keys = self._ord_rows = np.empty(0, dtype=np.int64)  # doc_ord → table row
        self.years: tuple[int, int] | None = None
        self.stamp: tuple[int, int] | None = None
        self.dirty = False  # committed here since the last refresh (meta.json's stamp may
        # not show it: two commits within one mtime tick)
        self._meta: tuple[tuple[int, int], dict[str, Any]] | None = None
        self._code_rows: tuple[list[str], np.ndarray] | None = None
        self._words: dict[str, tuple[list[str], list[int]]] = {}
        version = self.meta().get("schema_version", SCHEMA_VERSION)
        if not create and isinstance(version, int) and version < SCHEMA_VERSION:
            # An index written by an older fonds lacks fields this one reads: rebuild it.
            raise IndexDamaged(path, ValueError(f"schéma v{version}, cette version lit "
                                                f"v{SCHEMA_VERSION}"))
        self.refresh()

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int]:
        try:
            st = path.stat()
            return st.st_mtime_ns, st.st_size
        except FileNotFoundError:
            return 0, 0

    def changed(self) -> None:
        """This process committed: the next read refreshes (not each commit: a bulk ingest
        commits per batch, and re-reading 50,000 document entries takes 1.7 s)."""
        self.dirty = True

    def refresh(self, force: bool = False) -> None:
        stamp = self._stamp(self.path / "tantivy" / "meta.json")
        if stamp == self.stamp and not force and not self.dirty:
            return
        self.dirty = False
        self.index.reload()
        self.vectors.refresh()
        searcher = self.index.searcher()
        entries = tantivy.Query.term_query(self.schema, "kind", DOC)
        docs: dict[str, DocInfo] = {}
        total = searcher.num_docs
        if total:
            for _, address in searcher.search(entries, limit=total, count=False).hits:
                info = DocInfo.from_stored(searcher.doc(address).to_dict())
                docs[info.doc_id] = info
        self.table = DocTable(
            (d, {f: info.facet_values(f) for f in FACETS}, info.year) for d, info in docs.items())
        self.by_ord = {doc_ord(d): d for d in docs}
        ords = np.array(sorted(self.by_ord), dtype=np.int64)
        self._ord_keys = ords
        self._ord_rows = np.array([self.table.index[self.by_ord[int(o)]] for o in ords],
                                  dtype=np.int64)
        years = [info.year for info in docs.values() if info.year]
        self.years = (min(years), max(years)) if years else None
        self.docs, self.stamp = docs, stamp
        self._code_rows = None
        self._words = {}

    def words_starting(self, letter: str, limit: int) -> tuple[list[str], list[int]]:
        """The archive's whole words (typo field) starting with a letter and their document
        frequencies, read once per commit: « did you mean » and typo ranking scan them."""
        words = self._words.get(letter)
        if words is None:
            found = self.index.searcher().terms_with_prefix("exact", letter, limit=limit)
            words = self._words[letter] = [t for t, _ in found], [c for _, c in found]
        return words

    def code_rows(self, code_docs: list[str]) -> np.ndarray:
        """Doc-table row of each document code of the vector store (-1: not committed),
        kept until either side changes: a query maps cosines to documents in numpy."""
        if self._code_rows is None or self._code_rows[0] is not code_docs:
            index = self.table.index
            rows = np.fromiter((index.get(d, -1) for d in code_docs), dtype=np.int64,
                               count=len(code_docs))
            self._code_rows = code_docs, rows
        return self._code_rows[1]

    def rows_of_ords(self, ords: np.ndarray) -> np.ndarray:
        """Doc-table rows of some doc_ord values (unknown ones dropped), in numpy."""
        if not len(ords) or not len(self._ord_keys):
            return np.empty(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._ord_keys, ords), len(self._ord_keys) - 1)
        rows: np.ndarray = self._ord_rows[at[self._ord_keys[at] == ords]]
        return rows

    def meta(self) -> dict[str, Any]:
        """meta.json, read again only when it changed; {} when absent or damaged (it is
        derived: the next ingest or reindex writes it again)."""
        stamp = self._stamp(self.path / META)
        if self._meta is None or self._meta[0] != stamp:
            try:
                data = json.loads((self.path / META).read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError, UnicodeDecodeError):
                data = {}
            self._meta = stamp, data if isinstance(data, dict) else {}
        return dict(self._meta[1])

    def open_writer(self) -> tantivy.IndexWriter:
        if self.writer is None:
            try:
                self.writer = self.index.writer(WRITER_HEAP, WRITER_THREADS)
            except ValueError as exc:
                raise FondsError(
                    f"l'index {self.path} est déjà ouvert en écriture par un autre processus "
                    f"({exc})"
                ) from None
        return self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.wait_merging_threads()
            self.writer = None
            self.vectors.settle()  # a large archive leaves its writes searched by ANN


def write_meta(path: Path, meta: Mapping[str, Any]) -> None:
    data = {**meta, "schema_version": SCHEMA_VERSION}  # the version this code writes
    tmp = path / f".{META}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path / META)


class IndexDir:
    """The index dir: which generation is live, new generations, the swap."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def current(self) -> str | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        # CURRENT names a folder beside it, nothing else (« .. » or a path is damage).
        if not name or name != Path(name).name or name in (".", ".."):
            return None
        return name

    def set_current(self, name: str) -> None:
        tmp = self.root / f".{CURRENT}.{os.getpid()}"
        tmp.write_text(name + "\n", encoding="utf-8")
        os.replace(tmp, self.root / CURRENT)

    def open_live(self) -> tuple[Generation | None, str | None]:
        for _ in range(OPEN_ATTEMPTS):
            name = self.current()
            if name is None or not (self.root / name).is_dir():
                return None, name
            try:
                return Generation(self.root / name, create=False), name
            except (FondsError, OSError, ValueError):
                # Rebuilds in a row: the generation CURRENT named is already replaced and
                # removed. Read CURRENT again; an error on the live one is a real error.
                if self.current() == name:
                    raise
        raise FondsError(f"index {self.root} : il change sans cesse, réessayez")

    def new_generation(self, suffix: str = "") -> str:
        """A fresh, empty generation (not live yet); its name."""
        if self.root.is_file() or self.root.is_symlink() and not self.root.is_dir():
            self.root.unlink()  # derived data damaged into a file: make room for the index
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{suffix}"
        Generation(self.root / name).close()
        write_meta(self.root / name, {})
        return name

    def swap(self, name: str, old: str | None) -> None:
        """Make `name` live, then remove the others (readers keep their open files)."""
        self.set_current(name)
        for stale in self.root.glob("gen-*"):
            if stale.name not in (name, old):
                shutil.rmtree(stale, ignore_errors=True)
        if old and old != name:
            shutil.rmtree(self.root / old, ignore_errors=True)

    def discard(self, name: str) -> None:
        shutil.rmtree(self.root / name, ignore_errors=True)
