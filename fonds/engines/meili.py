"""The Meilisearch engine (scale): the official client, settings from index_config/.

Passages are Meilisearch documents with `distinctAttribute` = doc_id, so a search returns
one hit per document and facet counts (document-level fields, deduplicated by distinct)
count documents. Request bodies are pure functions (meili_query.py; filters quote every
value). Writes wait on their tasks and fail loudly; `rebuild` fills `<index>_new` and swaps.
The UI process gets a search-only key and never the admin key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from fonds.engines import floor as similarity
from fonds.engines.base import (
    FACETS,
    FILTER_OF_FACET,
    MAX_WINDOW,
    Copy,
    DocHit,
    Filters,
    Mode,
    Passage,
    PassageHit,
    SearchRequest,
    SearchResult,
)
from fonds.engines.meili_query import (
    build_filter,
    copies_of,
    copies_query,
    facet_queries,
    fold_candidates_query,
    formatted_snippet,
    index_settings,
    marked_words,
    quote,
    score_threshold,
    search_params,
    side_answers,
    side_queries,
    to_document,
    vector_of,
)
from fonds.errors import FondsError
from fonds.fold import FoldIndex, Signature, signature
from fonds.models import page_at
from fonds.settings import Settings

BATCH = 1000
DELETE_BATCH = 200  # doc ids per deletion filter
LIST_PAGE = 1000  # documents per page when listing document ids
TASK_TIMEOUT_MS = 600_000
TASK_POLL_MS = 100
# Errors that mean "nothing recorded yet", the only ones meta() forgives.
_ABSENT = frozenset({"index_not_found", "document_not_found"})
META_FRESH_S = 10.0  # how long a search reuses the index's meta
FOLD_META = "fold_groups"  # meta key: every passage of the index has its group


class MeiliEngine:
    # Meilisearch matches typos but offers no vocabulary to correct from: no « did you mean ».
    suggests = False

    def __init__(self, url: str, key: str, index: str = "fonds", timeout: int = 30,
                 fold: bool = True) -> None:
        import meilisearch

        self.url = url
        self.uid = index
        self.fold = fold  # near-duplicates as one result, on an index that records groups
        self.client = meilisearch.Client(url, key or None, timeout=timeout)
        self.index = self.client.index(index)
        self._dimensions: int | None = None
        self._search_meta: tuple[float, dict[str, Any]] | None = None  # (read at, meta)

    @classmethod
    def from_settings(cls, settings: Settings, search_only: bool = False) -> MeiliEngine:
        if search_only:
            if not settings.meili_search_key and settings.meili_key:
                # Never hand the admin key to a reader: ask for the search key instead.
                raise FondsError("FONDS_MEILI_SEARCH_KEY manquant : l'interface n'utilise "
                                 "qu'une clé de recherche")
            return cls(settings.meili_url, settings.meili_search_key, settings.meili_index,
                       fold=settings.fold_duplicates)
        return cls(settings.meili_url, settings.meili_key, settings.meili_index,
                   fold=settings.fold_duplicates)

    # -- plumbing ------------------------------------------------------------------

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        import meilisearch.errors as errors

        try:
            yield
        except errors.MeilisearchCommunicationError:
            raise FondsError(f"Meilisearch injoignable à {self.url} ({doing})") from None
        except errors.MeilisearchTimeoutError:
            raise FondsError(f"Meilisearch ne répond pas à temps ({doing})") from None
        except errors.MeilisearchApiError as exc:
            raise FondsError(f"Meilisearch a refusé {doing} : {exc.code} {exc.message}"
                             ) from None

    def _wait(self, task: Any, doing: str) -> None:
        with self._errors(doing):
            done = self.client.wait_for_task(task.task_uid, timeout_in_ms=TASK_TIMEOUT_MS,
                                             interval_in_ms=TASK_POLL_MS)
        if done.status != "succeeded":
            error = done.error or {}
            raise FondsError(f"Meilisearch : la tâche {doing} a échoué "
                             f"({error.get('code', done.status)}: {error.get('message', '')})")

    def _exists(self) -> bool:
        import meilisearch.errors as errors

        try:
            self.client.get_raw_index(self.uid)
            return True
        except errors.MeilisearchApiError as exc:
            if exc.code == "index_not_found":
                return False
            raise

    # -- writing -------------------------------------------------------------------

    def ensure_index(self, dimensions: int | None) -> None:
        """Create the index if needed and apply index_config/ settings (idempotent); the
        embedder's `dimensions`, else those recorded, else no vectors."""
        if dimensions is None:
            dimensions = self._dimensions or self.meta().get("embedder", {}).get("dim")
        self._dimensions = dimensions or self._dimensions
        with self._errors("la création de l'index"):
            exists = self._exists()
        if not exists:
            with self._errors("la création de l'index"):
                task = self.client.create_index(self.uid, {"primaryKey": "id"})
            self._wait(task, "création de l'index")
            # Every passage of a new index has its group: searches may fold on it (an
            # older index has none until `fonds reindex`).
            self.set_meta({FOLD_META: True})
        with self._errors("les réglages"):
            task = self.index.update_settings(index_settings(dimensions))
        self._wait(task, "réglages")

    def upsert(self, passages: Sequence[Passage]) -> None:
        if not passages:
            return
        with_vector = next((p for p in passages if p.vector is not None), None)
        if with_vector is not None and self._dimensions is None:
            self.ensure_index(int(np.asarray(with_vector.vector).size))
        self.delete_documents(sorted({p.doc_id for p in passages}))
        docs = self._documents(passages)
        for start in range(0, len(docs), BATCH):
            with self._errors("l'ajout de passages"):
                task = self.index.add_documents(docs[start:start + BATCH], primary_key="id")
            self._wait(task, "ajout de passages")

    def _documents(self, passages: Sequence[Passage]) -> list[dict[str, Any]]:
        """The passages as documents, each with its document's near-duplicate group: that
        of an indexed copy sharing an LSH band and close enough (fonds/fold.py), else new."""
        by_doc: dict[str, list[Passage]] = {}
        for p in passages:
            by_doc.setdefault(p.doc_id, []).append(p)
        sigs = {d: signature(p.text for p in sorted(items, key=lambda p: p.position))
                for d, items in by_doc.items()}
        folds = FoldIndex()
        query = fold_candidates_query(list(sigs.values()), BATCH)
        if query is not None:
            with self._errors("la recherche des copies"):
                found = self.index.get_documents(query)
            for row in (dict(r) for r in found.results):
                if row.get("doc_id") not in sigs:
                    folds.add(str(row["doc_id"]), Signature.decode(row.get("fold_sig")),
                              str(row.get("fold") or row["doc_id"]))
        groups = {d: folds.assign(d, sig) for d, sig in sigs.items()}
        first = {d: min(p.position for p in items) for d, items in by_doc.items()}
        return [to_document(p, groups[p.doc_id],
                            sigs[p.doc_id] if p.position == first[p.doc_id] else None)
                for p in passages]

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        for start in range(0, len(doc_ids), DELETE_BATCH):
            chunk = Filters(doc_ids=tuple(doc_ids[start:start + DELETE_BATCH]))
            with self._errors("la suppression"):
                task = self.index.delete_documents(filter=build_filter(chunk))
            self._wait(task, "suppression")

    def clear(self) -> None:
        """Every passage removed (tests and tools; not part of the protocol)."""
        with self._errors("la remise à zéro"):
            task = self.index.delete_all_documents()
        self._wait(task, "remise à zéro")

    @contextmanager
    def rebuild(self) -> Iterator[MeiliEngine]:
        """Fill `<index>_new`, then swap it with the live index in one task."""
        fresh = MeiliEngine(self.url, self.client.config.api_key or "", f"{self.uid}_new")
        with self._errors("la reconstruction"):
            if fresh._exists():
                self._wait(self.client.delete_index(fresh.uid), "nettoyage")
        fresh.ensure_index(self._dimensions)
        yield fresh
        with self._errors("la bascule d'index"):
            exists = self._exists()
        if not exists:
            self.ensure_index(fresh._dimensions)
        with self._errors("la bascule d'index"):
            task = self.client.swap_indexes([{"indexes": [self.uid, fresh.uid]}])
        self._wait(task, "bascule d'index")
        with self._errors("le nettoyage"):
            self._wait(self.client.delete_index(fresh.uid), "nettoyage")
        meta = fresh.meta()
        if meta:
            self.set_meta(meta)

    def meta(self) -> dict[str, Any]:
        """What set_meta recorded; {} only when nothing was (an unreachable server is an
        error: ingest must not pick another embedder because of it)."""
        import meilisearch.errors as errors

        with self._errors("la lecture des métadonnées"):
            try:
                doc = self.client.index(f"{self.uid}_meta").get_document("meta")
            except errors.MeilisearchApiError as exc:
                if exc.code in _ABSENT:
                    return {}
                raise
        data = dict(doc)  # a Mapping, or the client's Document (iterates as items)
        try:
            meta = json.loads(data.get("json", "{}"))
        except (TypeError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def meta_for_search(self) -> dict[str, Any]:
        """meta() as searches read it: kept META_FRESH_S seconds, so that a search is not
        one request more (the floor and the fold flag change only with an ingest)."""
        now = time.monotonic()
        if self._search_meta is None or now - self._search_meta[0] > META_FRESH_S:
            self._search_meta = now, self.meta()
        return self._search_meta[1]

    def set_meta(self, meta: Mapping[str, Any]) -> None:
        self._search_meta = None
        merged = similarity.with_floor({**self.meta(), **meta})
        with self._errors("l'écriture des métadonnées"):
            task = self.client.index(f"{self.uid}_meta").add_documents(
                [{"id": "meta", "json": json.dumps(merged)}], primary_key="id")
        self._wait(task, "métadonnées")

    def close(self) -> None:
        pass

    # -- reading -------------------------------------------------------------------

    def count(self) -> int:
        with self._errors("le comptage"):
            return int(self.index.get_stats().number_of_documents)

    def document_ids(self) -> set[str]:
        """One passage per document (the first: every document has a position 0), so the
        listing pages through documents, not every passage."""
        ids: set[str] = set()
        offset = 0
        while True:
            with self._errors("la liste des documents"):
                page = self.index.get_documents({"fields": ["doc_id"], "limit": LIST_PAGE,
                                                 "offset": offset, "filter": "position = 0"})
            ids |= {dict(r)["doc_id"] for r in page.results}
            offset += LIST_PAGE
            if offset >= page.total:
                return ids

    def search(self, request: SearchRequest, query_vector: np.ndarray | None = None
               ) -> SearchResult:
        if request.mode is not Mode.KEYWORD and query_vector is None and request.query.strip():
            raise FondsError("la recherche par le sens demande le vecteur de la requête")
        meta = self.meta_for_search()
        floor = similarity.from_meta(meta) if request.mode is not Mode.KEYWORD else None
        distinct = "fold" if self.fold and meta.get(FOLD_META) else None
        params = search_params(request, query_vector, floor, distinct)
        extra = (facet_queries(self.uid, request, query_vector, floor, distinct)
                 if request.facets else [])
        side = side_queries(self.uid, request)
        with self._errors("la recherche"):
            raw = self.index.search(request.query, params)
            answers = self.client.multi_search(extra + side)["results"] if extra + side else []
        result = self._result(request, raw, folded=distinct is not None)
        facets = {k: dict(v) for k, v in result.facets.items()}
        for query, answer in zip(extra, answers, strict=False):
            (facet,) = query["facets"]
            counts = dict(answer.get("facetDistribution", {}).get(facet, {}))
            for value in getattr(request.filters, FILTER_OF_FACET.get(facet, ""), ()):
                counts.setdefault(value, 0)
            facets[facet] = counts
        years, every_word = side_answers(answers[len(extra):])
        partial = bool(result.total) and every_word == 0 and len(request.query.split()) > 1
        words = marked_words(raw.get("hits", [])) if partial else ()
        return SearchResult(result.total, result.hits, facets, result.took_ms,
                            partial=partial, matched_words=words, years=years)

    def _result(self, request: SearchRequest, raw: Mapping[str, Any], folded: bool = False
                ) -> SearchResult:
        hits = [h for h in raw.get("hits", [])]
        extra = self._more_passages(request, [h["doc_id"] for h in hits])
        copies = self._copies(hits) if folded else {}
        doc_hits = []
        for h in hits:
            first = self._passage(h)
            others = [p for p in extra.get(h["doc_id"], []) if p.passage_id != first.passage_id]
            doc_hits.append(DocHit(
                doc_id=h["doc_id"], title=h.get("title") or "", url=h.get("url") or "",
                source=h.get("source") or "", doc_type=h.get("doc_type") or "",
                themes=tuple(h.get("themes") or ()), departements=tuple(h.get("departements")
                                                                        or ()),
                date=h.get("date"), score=float(h.get("_rankingScore", 0.0)),
                passages=tuple([first, *others][: request.passages_per_doc]),
                fold=h.get("fold") or "", copies=copies.get(h["doc_id"], ())))
        total = raw.get("totalHits", raw.get("estimatedTotalHits", len(hits)))
        facets = {f: dict(raw.get("facetDistribution", {}).get(f, {})) for f in FACETS
                  } if request.facets else {}
        return SearchResult(int(total), tuple(doc_hits), facets,
                            float(raw.get("processingTimeMs", 0)))

    def _copies(self, hits: Sequence[Mapping[str, Any]]) -> dict[str, tuple[Copy, ...]]:
        """The other documents of each hit's group, oldest first."""
        groups = sorted({str(h["fold"]) for h in hits if h.get("fold")})
        if not groups:
            return {}
        with self._errors("la liste des copies"):
            found = self.index.get_documents(copies_query(groups, BATCH))
        return copies_of(hits, [dict(r) for r in found.results])

    @staticmethod
    def _passage(h: Mapping[str, Any]) -> PassageHit:
        formatted = h.get("_formatted", {})
        text = h.get("text", "")
        marked = str(formatted.get("text", ""))
        first_match = marked.split("<mark>", 1)[1].split("</mark>", 1)[0] if (
            "<mark>" in marked) else ""
        start = max(text.find(first_match), 0) if first_match else 0
        breaks = tuple((int(a), int(b)) for a, b in h.get("page_breaks") or ())
        return PassageHit(passage_id=h["passage_id"], page=page_at(h.get("page"), breaks, start),
                          position=h.get("position", 0), text=h.get("text", ""),
                          highlight=formatted_snippet(formatted.get("text", h.get("text", ""))),
                          score=float(h.get("_rankingScore", 0.0)))

    def _more_passages(self, request: SearchRequest, doc_ids: list[str]
                       ) -> dict[str, list[PassageHit]]:
        """The next best passages of each document on the page, in one multi-search."""
        if request.passages_per_doc <= 1 or not doc_ids or not request.query.strip():
            return {}
        queries = []
        for doc_id in doc_ids:
            one = SearchRequest(request.query, Filters(doc_ids=(doc_id,)), mode=Mode.KEYWORD,
                                limit=request.passages_per_doc, facets=False)
            params = search_params(one, None)
            params |= {"indexUid": self.uid, "q": request.query, "distinct": "passage_id"}
            queries.append(params)
        with self._errors("la recherche des passages"):
            answers = self.client.multi_search(queries)["results"]
        return {doc_id: [self._passage(h) for h in answer.get("hits", [])]
                for doc_id, answer in zip(doc_ids, answers, strict=True)}

    def suggest(self, query: str) -> str | None:
        """Meilisearch already matches typos; it has no « did you mean » to offer."""
        return None

    def similar(self, doc_id: str, limit: int = 5) -> list[DocHit]:
        """As the embedded engine: nearest the mean of the document's passage vectors,
        above the floor; the title's words when the index has no vectors."""
        limit = min(max(limit, 0), MAX_WINDOW)
        if not limit:
            return []
        with self._errors("les documents similaires"):
            own = self.index.get_documents({
                "filter": build_filter(Filters(doc_ids=(doc_id,))), "limit": BATCH,
                "fields": ["title", "fold", "_vectors"], "retrieve_vectors": True})
        rows = [dict(r) for r in own.results]
        if not rows:
            return []
        vectors = [np.asarray(vector_of(r), dtype=np.float32) for r in rows
                   if vector_of(r) is not None]
        exclude = f"doc_id != {quote(doc_id)}"
        if self.fold and rows[0].get("fold"):  # nor its own copies
            exclude += f" AND fold != {quote(str(rows[0]['fold']))}"
        request = SearchRequest("", limit=limit, passages_per_doc=1, facets=False)
        if not vectors:
            title = str(rows[0].get("title") or "")
            with self._errors("les documents similaires"):
                raw = self.index.search(title, {"filter": [exclude], "limit": limit,
                                                "showRankingScore": True})
            return list(self._result(request, raw).hits)
        mean = np.mean(np.stack(vectors), axis=0)
        norm = float(np.linalg.norm(mean))
        floor = similarity.from_meta(self.meta_for_search())
        with self._errors("les documents similaires"):
            raw = self.index.search("", {
                "vector": [float(x) for x in (mean / norm if norm else mean)],
                "hybrid": {"embedder": "default", "semanticRatio": 1.0},
                "filter": [exclude], "limit": limit, "showRankingScore": True,
                "rankingScoreThreshold": score_threshold(floor)})
        return list(self._result(request, raw).hits)
