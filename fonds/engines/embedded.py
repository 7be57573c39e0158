"""The embedded engine (default): tantivy for words, numpy for meaning, no server.

Layout under the index dir: CURRENT names the live generation; each generation holds a
tantivy index, a vector store and meta.json. A rebuild fills a new generation and swaps
CURRENT in one rename, so searches never see an empty index. One process writes (tantivy's
writer lock); readers in other processes notice new commits and reload.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from fonds import french
from fonds.engines import ranking
from fonds.engines.base import (
    FACETS,
    NO_FILTERS,
    DocHit,
    Filters,
    Mode,
    Passage,
    PassageHit,
    SearchRequest,
    SearchResult,
    Sort,
)
from fonds.engines.doctable import DocTable
from fonds.engines.vectors import VectorStore
from fonds.errors import FondsError, read_only_error
from fonds.highlight import Matcher, highlight, osa_distance
from fonds.query import ParsedQuery, parse, without_typos

SCHEMA_VERSION = 1
WRITER_HEAP = 64_000_000
KEYWORD_FIELDS = ("doc_id", "source", "doc_type", "themes", "departements")
SEMANTIC_CANDIDATES = 300  # passages considered by a semantic search
TYPO_SKIP_DOC_FREQ = 20  # a query word in this many passages is not searched with typos
PASSAGE, DOC = "passage", "doc"  # the two kinds of entries


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    # Two kinds of entries: one per passage (ranked, shown) and one per document, holding
    # all its words, so that totals and facet counts are counted on documents directly.
    b.add_text_field("kind", stored=False, tokenizer_name="raw")
    b.add_text_field("passage_id", stored=True, tokenizer_name="raw")
    for name in KEYWORD_FIELDS:
        b.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    for name in ("title", "heading", "text"):
        b.add_text_field(name, stored=True, tokenizer_name="fr")
    # Whole unstemmed words of title, heading and text, for typo and prefix matching only.
    b.add_text_field("exact", stored=False, tokenizer_name="fr_exact", index_option="basic")
    b.add_integer_field("doc_ord", stored=False, indexed=False, fast=True)
    b.add_text_field("doc_text", stored=False, tokenizer_name="fr")
    b.add_text_field("doc_exact", stored=False, tokenizer_name="fr_exact", index_option="basic")
    b.add_text_field("url", stored=True, tokenizer_name="raw")
    b.add_text_field("date", stored=True, tokenizer_name="raw")
    b.add_integer_field("year", stored=True, indexed=True, fast=True)
    b.add_integer_field("date_key", stored=False, indexed=False, fast=True)
    b.add_integer_field("page", stored=True)
    b.add_integer_field("position", stored=True, indexed=True, fast=True)
    return b.build()


@dataclass(frozen=True)
class DocInfo:
    """Document-level fields, the same on every passage; read once per commit."""

    doc_id: str
    title: str
    url: str
    source: str
    doc_type: str
    themes: tuple[str, ...]
    departements: tuple[str, ...]
    date: str | None
    year: int | None

    def facet_values(self, facet: str) -> tuple[str, ...]:
        if facet in ("themes", "departements"):
            return getattr(self, facet)
        if facet == "year":
            return (str(self.year),) if self.year else ()
        value = getattr(self, facet)
        return (value,) if value else ()


def doc_ord(doc_id: str) -> int:
    """A number for a document id, for fast fields (52 bits: exact through JSON floats)."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") >> 12


def _first(doc: dict[str, list[Any]], name: str, default: Any = None) -> Any:
    values = doc.get(name) or []
    return values[0] if values else default


class _Generation:
    """One tantivy index + its vectors, opened for reading (and writing on demand)."""

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = path
        if create:
            (path / "tantivy").mkdir(parents=True, exist_ok=True)
        elif not (path / "tantivy").is_dir():
            raise FileNotFoundError(path)  # removed by a rebuild since CURRENT was read
        self.schema = _schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(path / "tantivy"), reuse=True)
        except (OSError, ValueError) as exc:
            storage = read_only_error(path, "l'index doit pouvoir y poser son verrou")
            if storage is not None:
                raise storage from None
            raise FondsError(f"index {path} illisible ({exc})") from None
        self.index.register_tokenizer("fr", french.stemmed_analyzer())
        self.index.register_tokenizer("fr_exact", french.exact_analyzer())
        self.vectors = VectorStore(path / "vectors")
        self.writer: tantivy.IndexWriter | None = None
        self.docs: dict[str, DocInfo] = {}
        self.table = DocTable(())
        self.by_ord: dict[int, str] = {}
        self.stamp: tuple[int, int] | None = None
        self.refresh()

    def _meta_stamp(self) -> tuple[int, int]:
        try:
            st = (self.path / "tantivy" / "meta.json").stat()
            return st.st_mtime_ns, st.st_size
        except FileNotFoundError:
            return 0, 0

    def refresh(self, force: bool = False) -> None:
        stamp = self._meta_stamp()
        if stamp == self.stamp and not force:
            return
        self.index.reload()
        self.vectors.refresh()
        searcher = self.index.searcher()
        first = tantivy.Query.term_query(self.schema, "kind", DOC)
        docs: dict[str, DocInfo] = {}
        total = searcher.num_docs
        if total:
            for _, address in searcher.search(first, limit=total, count=False).hits:
                info = self._info(searcher.doc(address).to_dict())
                docs[info.doc_id] = info
        self.table = DocTable(
            (d, {f: info.facet_values(f) for f in FACETS}, info.year) for d, info in docs.items())
        self.by_ord = {doc_ord(d): d for d in docs}
        self.docs, self.stamp = docs, stamp

    @staticmethod
    def _info(doc: dict[str, list[Any]]) -> DocInfo:
        return DocInfo(
            doc_id=_first(doc, "doc_id"), title=_first(doc, "title", ""),
            url=_first(doc, "url", ""), source=_first(doc, "source", ""),
            doc_type=_first(doc, "doc_type", ""), themes=tuple(doc.get("themes", [])),
            departements=tuple(doc.get("departements", [])), date=_first(doc, "date"),
            year=_first(doc, "year"),
        )

    def open_writer(self) -> tantivy.IndexWriter:
        if self.writer is None:
            try:
                self.writer = self.index.writer(WRITER_HEAP, 1)
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


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._lock = threading.RLock()
        self._gen: _Generation | None = None
        self._current: str | None = None
        self._pinned = False
        self._open()

    # -- generations ---------------------------------------------------------------

    def _read_current(self) -> str | None:
        try:
            return (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def _write_current(self, name: str) -> None:
        tmp = self.index_dir / f".CURRENT.{os.getpid()}"
        tmp.write_text(name + "\n", encoding="utf-8")
        os.replace(tmp, self.index_dir / "CURRENT")

    def _open(self) -> None:
        for _ in range(10):
            name = self._read_current()
            if name is None or not (self.index_dir / name).is_dir():
                self._gen, self._current = None, name
                return
            try:
                self._gen, self._current = _Generation(self.index_dir / name, create=False), name
                return
            except (FondsError, OSError, ValueError):
                # Rebuilds in a row: the generation CURRENT named is already replaced and
                # removed. Read CURRENT again; an error on the live one is a real error.
                if self._read_current() == name:
                    raise
        raise FondsError(f"index {self.index_dir} : il change sans cesse, réessayez")

    def _ensure(self) -> _Generation:
        """The live generation, created on first write."""
        with self._lock:
            if self._gen is None:
                self.index_dir.mkdir(parents=True, exist_ok=True)
                name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
                _Generation(self.index_dir / name).close()
                self._write_meta(self.index_dir / name, {})
                self._write_current(name)
                self._open()
            assert self._gen is not None
            return self._gen

    def _reader(self) -> _Generation | None:
        with self._lock:
            if self._pinned:  # a generation being rebuilt: not the live one
                assert self._gen is not None
                self._gen.refresh()
                return self._gen
            name = self._read_current()
            if name != self._current:
                if self._gen is not None and self._gen.writer is None:
                    self._gen = None
                self._open()
            elif self._gen is not None and self._gen.writer is None:
                try:
                    self._gen.refresh()
                except (FondsError, OSError, ValueError):
                    # Swapped out and removed by a rebuild since CURRENT was read: the
                    # search goes to the new generation.
                    if self._read_current() == name:
                        raise
                    self._gen = None
                    self._open()
            return self._gen

    @staticmethod
    def _write_meta(path: Path, meta: Mapping[str, Any]) -> None:
        data = {"schema_version": SCHEMA_VERSION, **meta}
        tmp = path / ".meta.json.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path / "meta.json")

    def meta(self) -> dict[str, Any]:
        gen = self._reader()
        if gen is None:
            return {}
        try:
            return json.loads((gen.path / "meta.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def set_meta(self, meta: Mapping[str, Any]) -> None:
        gen = self._ensure()
        self._write_meta(gen.path, {**self.meta(), **meta})

    # -- writing -------------------------------------------------------------------

    def apply_settings(self) -> None:
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
            writer.add_document(self._document(p))
            by_doc.setdefault(p.doc_id, []).append(p)
        for items in by_doc.values():
            writer.add_document(self._doc_entry(items))
        writer.commit()
        gen.refresh(force=True)

    @staticmethod
    def _common(p: Passage, **fields: Any) -> tantivy.Document:
        """The document-level fields every entry of a document carries."""
        date_key = int(p.date.replace("-", "")[:8].ljust(8, "0")) if p.year else 0
        doc = tantivy.Document(doc_id=p.doc_id, source=p.source, doc_type=p.doc_type,
                               title=p.title, url=p.url, date_key=date_key,
                               doc_ord=doc_ord(p.doc_id), **fields)
        for theme in p.themes:
            doc.add_text("themes", theme)
        for code in p.departements:
            doc.add_text("departements", code)
        if p.date:
            doc.add_text("date", p.date)
        if p.year is not None:
            doc.add_integer("year", p.year)
        return doc

    def _document(self, p: Passage) -> tantivy.Document:
        doc = self._common(p, kind=PASSAGE, passage_id=p.passage_id, heading=p.heading,
                           text=p.text, exact=f"{p.title}\n{p.heading}\n{p.text}",
                           position=p.position)
        if p.page is not None:
            doc.add_integer("page", p.page)
        return doc

    def _doc_entry(self, passages: list[Passage]) -> tantivy.Document:
        ordered = sorted(passages, key=lambda p: p.position)
        headings = dict.fromkeys(p.heading for p in ordered if p.heading)
        words = "\n".join([ordered[0].title, *headings, *(p.text for p in ordered)])
        return self._common(ordered[0], kind=DOC, doc_text=words, doc_exact=words)

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        if not doc_ids or self._reader() is None:
            return
        gen = self._ensure()
        writer = gen.open_writer()
        for doc_id in doc_ids:
            writer.delete_documents_by_term("doc_id", doc_id)
        writer.commit()
        gen.vectors.write(set(doc_ids), [], [], None)
        gen.refresh(force=True)

    def clear(self) -> None:
        if self._reader() is None:
            return
        gen = self._ensure()
        writer = gen.open_writer()
        writer.delete_all_documents()
        writer.commit()
        gen.vectors.write(set(gen.docs), [], [], None)
        gen.vectors.compact(live_ids=set())
        gen.refresh(force=True)

    @contextmanager
    def rebuild(self) -> Iterator[EmbeddedEngine]:
        """Fill a fresh generation; CURRENT points to it only once it is complete."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-new"
        path = self.index_dir / name
        fresh = EmbeddedEngine.__new__(EmbeddedEngine)
        fresh.index_dir, fresh._lock, fresh._current = self.index_dir, threading.RLock(), name
        fresh._gen, fresh._pinned = _Generation(path), True
        self._write_meta(path, {})
        try:
            yield fresh
            fresh.close()
        except BaseException:
            fresh.close()
            shutil.rmtree(path, ignore_errors=True)
            raise
        old = self._current
        self._write_current(name)
        self.close()
        self._open()
        # Readers that still hold the old generation keep their open files (POSIX).
        for stale in self.index_dir.glob("gen-*"):
            if stale.name not in (name, old):
                shutil.rmtree(stale, ignore_errors=True)
        if old and old != name:
            shutil.rmtree(self.index_dir / old, ignore_errors=True)

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
        return gen.index.searcher().search(query, limit=1, count=True).count

    def document_ids(self) -> set[str]:
        gen = self._reader()
        return set(gen.docs) if gen else set()

    def search(self, request: SearchRequest, query_vector: np.ndarray | None = None
               ) -> SearchResult:
        started = time.perf_counter()
        gen = self._reader()
        if gen is None or not gen.docs:
            return SearchResult(0, (), {f: {} for f in FACETS} if request.facets else {},
                                _ms(started))
        parsed = parse(request.query)
        mode = request.mode
        if parsed.is_empty or (mode is Mode.HYBRID and request.semantic_ratio <= 0):
            mode = Mode.KEYWORD
        elif mode is Mode.HYBRID and request.semantic_ratio >= 1:
            mode = Mode.SEMANTIC
        if mode is not Mode.KEYWORD:
            if query_vector is None:
                raise FondsError("la recherche par le sens demande le vecteur de la requête")
            if len(gen.vectors) == 0:
                raise FondsError("cet index n'a pas de vecteurs : recherche par mots seulement")

        searcher = gen.index.searcher()
        # A word this archive uses often was typed right: looking for its typo variants
        # costs most of a query and only adds noise after the exact matches (the idea of
        # Typesense's typo_tokens_threshold). Rare or unknown words keep their typo budget.
        common = {t.word for t in parsed.terms()
                  if t.typos and searcher.doc_freq("exact", t.word) >= TYPO_SKIP_DOC_FREQ}
        parsed = without_typos(parsed, common)
        run = _Run(gen, searcher, parsed, request.passages_per_doc)
        need = request.offset + request.limit
        by_date = request.sort is Sort.DATE
        if mode is Mode.KEYWORD:
            ranked, total, facets = self._keyword(run, request.filters, need, by_date,
                                                  request.facets)
        else:
            assert query_vector is not None
            allowed = gen.table.selected(gen.table.mask(request.filters))
            semantic = self._semantic(run, query_vector, allowed,
                                      max(SEMANTIC_CANDIDATES, need * 3))
            if mode is Mode.SEMANTIC:
                ranked, total = semantic, len(semantic)
                facets = gen.table.facet_counts([d for d, _ in semantic]
                                                ) if request.facets else {}
            else:
                keyword, kw_total, kw_facets = self._keyword(run, request.filters, need + 100,
                                                             by_date, request.facets)
                sem_docs = [d for d, _ in semantic]
                only_semantic = set(sem_docs) - self._keyword_members(run, sem_docs)
                total = kw_total + len(only_semantic)
                facets = _add_counts(kw_facets, gen.table.facet_counts(only_semantic)
                                     ) if request.facets else {}
                ranked = ranking.fuse(keyword, semantic, request.semantic_ratio)
            if by_date:
                ranked = sorted(ranked, key=lambda x: gen.docs[x[0]].date or "", reverse=True)
        hits = self._hits(run, ranked[request.offset:need])
        return SearchResult(total, tuple(hits), facets, _ms(started))

    # keyword ------------------------------------------------------------------------

    def _doc_ids(self, run: _Run, hits: list[tuple[Any, tantivy.DocAddress]]
                 ) -> list[str | None]:
        """Document of each hit from a fast field: no stored document is read for ranking."""
        if not hits:
            return []
        ords = run.searcher.fast_field_values("doc_ord", [address for _, address in hits])
        return [run.gen.by_ord.get(o) for o in ords]

    def _keyword(self, run: _Run, filters: Filters, need: int, by_date: bool, facets: bool
                 ) -> tuple[list[tuple[str, float]], int, dict[str, dict[str, int]]]:
        """(ranked documents, total of matching documents, facet counts)."""
        gen, searcher, parsed = run.gen, run.searcher, run.parsed
        schema = gen.schema
        # Counting happens on the document entries: a few thousand, not every passage.
        doc_match = (None if parsed.is_empty
                     else ranking.match_query(schema, parsed, ranking.DOCUMENT))
        run.doc_query = ranking.with_filters(schema, doc_match, filters, DOC)
        total, counts = _facet_counts(searcher, run.doc_query, facets)
        if parsed.is_empty or by_date:
            # Browsing (no words) or sorting by date: newest first, straight from the index.
            result = searcher.search(run.doc_query, limit=max(need, 1), count=True,
                                     order_by_field="date_key", order=tantivy.Order.Desc)
            ranked = [(d, 0.0) for d in self._doc_ids(run, result.hits) if d is not None]
            return ranked, total, counts

        run.query = ranking.with_filters(schema, ranking.keyword_query(schema, parsed),
                                         filters, PASSAGE)
        limit = max(need * 4, 40)
        while True:
            hits = searcher.search(run.query, limit=limit, count=False).hits
            grouped: dict[str, list[tuple[float, tantivy.DocAddress]]] = {}
            for (score, address), doc_id in zip(hits, self._doc_ids(run, hits), strict=True):
                if doc_id is not None:
                    grouped.setdefault(doc_id, []).append((score, address))
            if len(grouped) >= need or len(hits) < limit or limit >= 20_000:
                break
            limit *= 4
        for doc_id, items in grouped.items():
            run.keyword_passages[doc_id] = items[: run.per_doc]
        return [(d, items[0][0]) for d, items in grouped.items()], total, counts

    def _keyword_members(self, run: _Run, doc_ids: list[str]) -> set[str]:
        """Which of these documents the keyword query matches."""
        if not doc_ids or run.doc_query is None:
            return set()
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, run.doc_query),
            (tantivy.Occur.Must, tantivy.Query.term_set_query(run.gen.schema, "doc_id",
                                                              doc_ids))])
        hits = run.searcher.search(query, limit=len(doc_ids), count=False).hits
        return {d for d in self._doc_ids(run, hits) if d is not None}

    def _passages_of(self, run: _Run, doc_ids: list[str], query: tantivy.Query | None) -> None:
        """Best passages (by score, or in reading order without a query) of some documents."""
        wanted = [d for d in doc_ids if d not in run.keyword_passages]
        if not wanted:
            return
        restricted = ranking.with_filters(run.gen.schema, None, Filters(doc_ids=tuple(wanted)),
                                          PASSAGE)
        if query is not None:
            restricted = tantivy.Query.boolean_query([(tantivy.Occur.Must, query),
                                                      (tantivy.Occur.Must, restricted)])
            hits = run.searcher.search(restricted, limit=len(wanted) * run.per_doc * 8,
                                       count=False).hits
        else:
            hits = run.searcher.search(restricted, limit=len(wanted) * run.per_doc * 8,
                                       count=False, order_by_field="position",
                                       order=tantivy.Order.Asc).hits
        for (score, address), doc_id in zip(hits, self._doc_ids(run, hits), strict=True):
            items = run.keyword_passages.setdefault(doc_id, []) if doc_id else []
            if doc_id and len(items) < run.per_doc:
                items.append((float(score) if query is not None else 0.0, address))

    # semantic -----------------------------------------------------------------------

    def _semantic(self, run: _Run, vector: np.ndarray, allowed: list[str] | None, k: int,
                  exclude: tuple[str, ...] = ()) -> list[tuple[str, float]]:
        hits = run.gen.vectors.search(vector, k, allowed_docs=allowed, exclude_docs=exclude)
        for passage_id, doc_id, score in hits:
            if doc_id in run.gen.docs:
                run.semantic_passages.setdefault(doc_id, []).append((passage_id, score))
        return [(d, items[0][1]) for d, items in run.semantic_passages.items()]

    def _fetch(self, run: _Run, passage_ids: list[str]) -> dict[str, dict[str, list[Any]]]:
        if not passage_ids:
            return {}
        query = tantivy.Query.term_set_query(run.gen.schema, "passage_id", passage_ids)
        found = {}
        for _, address in run.searcher.search(query, limit=len(passage_ids), count=False).hits:
            doc = run.searcher.doc(address).to_dict()
            found[_first(doc, "passage_id")] = doc
        return found

    # results ------------------------------------------------------------------------

    def _hits(self, run: _Run, page: list[tuple[str, float]]) -> list[DocHit]:
        per_doc = run.per_doc
        page_ids = [d for d, _ in page]
        # Documents on the page without keyword passages yet: their best keyword passages
        # (hybrid, date sort), else their first ones.
        if run.query is not None and not run.parsed.is_empty:
            self._passages_of(run, [d for d in page_ids if d not in run.semantic_passages],
                              run.query)
        self._passages_of(run, [d for d in page_ids if d not in run.semantic_passages], None)
        wanted = [pid for d in page_ids if len(run.keyword_passages.get(d, [])) < per_doc
                  for pid, _ in run.semantic_passages.get(d, [])[:per_doc]]
        fetched = self._fetch(run, wanted)
        matcher = Matcher(run.parsed)
        hits = []
        for doc_id, score in page:
            chosen = [(s, run.searcher.doc(a).to_dict())
                      for s, a in run.keyword_passages.get(doc_id, [])[:per_doc]]
            seen = {_first(doc, "passage_id") for _, doc in chosen}
            for pid, sem_score in run.semantic_passages.get(doc_id, []):
                if len(chosen) >= per_doc:
                    break
                if pid not in seen and pid in fetched:
                    chosen.append((sem_score, fetched[pid]))
                    seen.add(pid)
            info = run.gen.docs[doc_id]
            passages = []
            for passage_score, doc in chosen:
                text = _first(doc, "text", "")
                snippet, _ = highlight(text, matcher)
                passages.append(PassageHit(
                    passage_id=_first(doc, "passage_id"), page=_first(doc, "page"),
                    position=_first(doc, "position", 0), text=text, highlight=snippet,
                    score=float(passage_score)))
            hits.append(DocHit(
                doc_id=doc_id, title=info.title, url=info.url, source=info.source,
                doc_type=info.doc_type, themes=info.themes, departements=info.departements,
                date=info.date, score=float(score), passages=tuple(passages)))
        return hits

    def suggest(self, query: str) -> str | None:
        """The query with each unknown word replaced by the archive's most frequent word
        within its typo budget (« Vouliez-vous dire … ? »); None when nothing changes."""
        gen = self._reader()
        if gen is None:
            return None
        searcher = gen.index.searcher()
        words = french.words(query)
        changed = False
        out = []
        for word in words:
            # One typo more than search allows: within the budget, search already matched.
            budget = french.max_typos(word) + 1 if len(word) >= 4 else 0
            if not budget or word in french.stop_words() or searcher.doc_freq("exact", word):
                out.append(word)
                continue
            candidates = searcher.terms_with_prefix("exact", word[:1], limit=20_000)
            best = min(((osa_distance(word, term, budget), -count, term)
                        for term, count in candidates
                        if abs(len(term) - len(word)) <= budget),
                       default=None)
            if best is not None and best[0] <= budget:
                out.append(best[2])
                changed = True
            else:
                out.append(word)
        return " ".join(out) if changed else None

    def similar(self, doc_id: str, limit: int = 5, filters: Filters = NO_FILTERS
                ) -> list[DocHit]:
        gen = self._reader()
        if gen is None or doc_id not in gen.docs:
            return []
        allowed = gen.table.selected(gen.table.mask(filters))
        vector = gen.vectors.doc_vector(doc_id)
        if vector is not None:
            run = _Run(gen, gen.index.searcher(), ParsedQuery("", ()), 1)
            ranked = self._semantic(run, vector, allowed, SEMANTIC_CANDIDATES,
                                    exclude=(doc_id,))
        else:
            # No vectors: the words of the title stand in for meaning.
            run = _Run(gen, gen.index.searcher(), parse(gen.docs[doc_id].title + " "), 1)
            ranked, _, _ = self._keyword(run, filters, limit + 1, False, False)
            ranked = [(d, s) for d, s in ranked if d != doc_id]
        return self._hits(run, ranked[:limit])


@dataclass
class _Run:
    """What one search carries between its steps: one searcher, so addresses stay valid."""

    gen: _Generation
    searcher: tantivy.Searcher
    parsed: ParsedQuery
    per_doc: int
    query: tantivy.Query | None = None  # passages
    doc_query: tantivy.Query | None = None  # documents
    keyword_passages: dict[str, list[tuple[float, tantivy.DocAddress]]] = field(
        default_factory=dict)
    semantic_passages: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def _facet_counts(searcher: tantivy.Searcher, query: tantivy.Query, facets: bool
                  ) -> tuple[int, dict[str, dict[str, int]]]:
    """(matching documents, facet counts) over document entries, in one pass: tantivy
    counts documents, exactly."""
    spec: dict[str, Any] = {"total": {"value_count": {"field": "doc_ord"}}}
    if facets:
        spec |= {f: {"terms": {"field": f, "size": 1000, "segment_size": 1000}}
                 for f in FACETS}
    result = searcher.aggregate(query, spec)
    total = int(result["total"]["value"] or 0)
    counts: dict[str, dict[str, int]] = {}
    if not facets:
        return total, counts
    for facet in FACETS:
        pairs = [(str(int(b["key"])) if facet == "year" else str(b["key"]), int(b["doc_count"]))
                 for b in result[facet]["buckets"]]
        counts[facet] = dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))
    return total, counts


def _add_counts(a: dict[str, dict[str, int]], b: dict[str, dict[str, int]]
                ) -> dict[str, dict[str, int]]:
    merged = {}
    for facet in FACETS:
        counts = dict(a.get(facet, {}))
        for value, n in b.get(facet, {}).items():
            counts[value] = counts.get(value, 0) + n
        merged[facet] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return merged


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)

