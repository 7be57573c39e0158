"""The Meilisearch engine (scale): the official client, settings from index_config/.

Passages are Meilisearch documents with `distinctAttribute` = doc_id, so a search returns
one hit per document and facet counts (document-level fields, deduplicated by distinct)
count documents. Filters are built by `build_filter`, a pure function that quotes every
value. Writes wait on their tasks and fail loudly; `rebuild` fills `<index>_new` and swaps.
The UI process gets a search-only key and never the admin key.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from fonds import french
from fonds.engines import floor as similarity
from fonds.engines.base import (
    FACETS,
    FILTER_OF_FACET,
    MAX_WINDOW,
    DocHit,
    Filters,
    Mode,
    Passage,
    PassageHit,
    SearchRequest,
    SearchResult,
    Sort,
)
from fonds.errors import FondsError
from fonds.highlight import MARK_END, MARK_START
from fonds.settings import Settings
from index_config import DIR as CONFIG_DIR

BATCH = 1000
DELETE_BATCH = 200  # doc ids per deletion filter
LIST_PAGE = 1000  # documents per page when listing document ids
TASK_TIMEOUT_MS = 600_000
TASK_POLL_MS = 100
CROP_WORDS = 32
PRE, POST = "\x02", "\x03"  # placeholders, so the crop can be escaped safely
_ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,511}$")
# Errors that mean "nothing recorded yet", the only ones meta() forgives.
_ABSENT = frozenset({"index_not_found", "document_not_found"})


def quote(value: str) -> str:
    """A filter value as a Meilisearch string literal: backslashes and quotes escaped."""
    cleaned = value.replace("\x00", "")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_filter(filters: Filters) -> list[str]:
    """Meilisearch filter expressions (ANDed); every value is a quoted literal."""
    expressions = []
    for name, values in (("themes", filters.themes), ("departements", filters.departements),
                         ("doc_type", filters.doc_types), ("source", filters.sources),
                         ("doc_id", filters.doc_ids)):
        if values:
            expressions.append(f"{name} IN [{', '.join(quote(v) for v in values)}]")
    if filters.year_from is not None:
        expressions.append(f"year >= {int(filters.year_from)}")
    if filters.year_to is not None:
        expressions.append(f"year <= {int(filters.year_to)}")
    return expressions


def document_key(passage_id: str) -> str:
    """Meilisearch ids allow [A-Za-z0-9_-]; anything else is hashed."""
    if _ID_OK.match(passage_id):
        return passage_id
    return hashlib.sha256(passage_id.encode("utf-8")).hexdigest()[:32]


def index_settings(dimensions: int | None) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(
        (CONFIG_DIR / "meilisearch.json").read_text(encoding="utf-8"))
    settings.pop("_comment", None)
    settings["stopWords"] = sorted(french.stop_words())
    settings["synonyms"] = french.meilisearch_synonyms()
    if dimensions:
        settings["embedders"]["default"]["dimensions"] = dimensions
    else:
        settings.pop("embedders")
    return settings


def to_document(p: Passage) -> dict[str, Any]:
    date_key = p.date_key
    doc: dict[str, Any] = {
        "id": document_key(p.passage_id), "passage_id": p.passage_id, "doc_id": p.doc_id,
        "position": p.position, "page": p.page, "title": p.title, "heading": p.heading,
        "text": p.text, "url": p.url, "source": p.source, "doc_type": p.doc_type,
        "themes": list(p.themes), "departements": list(p.departements), "date": p.date,
        "year": p.year, "date_key": date_key,
    }
    if p.vector is not None:
        doc["_vectors"] = {"default": [float(x) for x in np.asarray(p.vector).ravel()]}
    return doc


def formatted_snippet(text: str) -> str:
    """Meilisearch's crop with placeholder tags → our safe HTML snippet."""
    escaped = html.escape(text, quote=False)
    return escaped.replace(PRE, MARK_START).replace(POST, MARK_END).strip()


def score_threshold(floor: similarity.SimilarityFloor) -> float:
    """Meilisearch's ranking score of a semantic match is (1 + cosine) / 2 (its cosine
    distance mapped to [0, 1]); the floor's absolute cosine, in that unit."""
    return min(max((1.0 + floor.absolute) / 2.0, 0.0), 1.0)


def search_params(request: SearchRequest, vector: np.ndarray | None,
                  floor: similarity.SimilarityFloor | None = None) -> dict[str, Any]:
    """The body of a search request: a pure function, tested without a server. Pages go
    by page/hitsPerPage when they can: then Meilisearch counts totalHits exhaustively."""
    start, end = request.window
    params: dict[str, Any] = {
        "filter": build_filter(request.filters) or None,
        "facets": list(FACETS) if request.facets else [],
        "attributesToCrop": ["text"], "cropLength": CROP_WORDS, "cropMarker": "…",
        "attributesToHighlight": ["text"], "highlightPreTag": PRE, "highlightPostTag": POST,
        "showRankingScore": True,
    }
    size = end - start
    if size <= 0:
        params |= {"page": 1, "hitsPerPage": 0}
    elif start % size == 0:
        params |= {"page": start // size + 1, "hitsPerPage": size}
    else:
        params |= {"offset": start, "limit": size}
    if request.sort is Sort.DATE or not request.query.strip():
        params["sort"] = ["date_key:desc"]
    if request.mode is not Mode.KEYWORD and vector is not None and request.query.strip():
        ratio = 1.0 if request.mode is Mode.SEMANTIC else request.semantic_ratio
        params["hybrid"] = {"embedder": "default", "semanticRatio": ratio}
        params["vector"] = [float(x) for x in vector.ravel()]
        if floor is not None:
            params["rankingScoreThreshold"] = score_threshold(floor)
    return {k: v for k, v in params.items() if v is not None}


def facet_queries(uid: str, request: SearchRequest, vector: np.ndarray | None,
                  floor: similarity.SimilarityFloor | None) -> list[dict[str, Any]]:
    """Disjunctive facets: one count-only query per filtered facet, with the filters of the
    other facets (what choosing one of its values would give)."""
    out = []
    for facet in FACETS:
        if not request.filters.on(facet):
            continue
        one = SearchRequest(request.query, request.filters.without(facet), mode=request.mode,
                            semantic_ratio=request.semantic_ratio, limit=0)
        params = search_params(one, vector, floor)
        params |= {"indexUid": uid, "q": request.query, "facets": [facet]}
        out.append(params)
    return out


def side_queries(uid: str, request: SearchRequest) -> list[dict[str, Any]]:
    """Count-only queries beside a search: the archive's year span (facet stats of the
    whole index) and, for a query of several words, whether any document has them all
    (Meilisearch drops words from the end otherwise: the result is then partial)."""
    span = {"indexUid": uid, "q": "", "facets": ["year"], "page": 1, "hitsPerPage": 0}
    out = [span]
    if request.query.strip():
        out.append({"indexUid": uid, "q": request.query, "matchingStrategy": "all",
                    "filter": build_filter(request.filters) or None, "page": 1,
                    "hitsPerPage": 0})
    return [{k: v for k, v in q.items() if v is not None} for q in out]


def _side_answers(answers: list[Mapping[str, Any]]) -> tuple[tuple[int, int] | None, int | None]:
    years = None
    stats = (answers[0].get("facetStats") or {}).get("year") if answers else None
    if isinstance(stats, Mapping) and stats.get("min") is not None:
        years = (int(stats["min"]), int(stats["max"]))
    every_word = int(answers[1].get("totalHits", 0)) if len(answers) > 1 else None
    return years, every_word


def _marked_words(hits: list[Mapping[str, Any]]) -> tuple[str, ...]:
    """The words Meilisearch highlighted in the page's snippets, folded, first seen first."""
    words: dict[str, None] = {}
    for h in hits:
        text = str((h.get("_formatted") or {}).get("text", ""))
        for piece in text.split(PRE)[1:]:
            for word in french.words(piece.split(POST)[0]):
                words.setdefault(word, None)
    return tuple(words)


class MeiliEngine:
    # Meilisearch matches typos but offers no vocabulary to correct from: no « did you mean ».
    suggests = False

    def __init__(self, url: str, key: str, index: str = "fonds", timeout: int = 30) -> None:
        import meilisearch

        self.url = url
        self.uid = index
        self.client = meilisearch.Client(url, key or None, timeout=timeout)
        self.index = self.client.index(index)
        self._dimensions: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings, search_only: bool = False) -> MeiliEngine:
        if search_only:
            if not settings.meili_search_key and settings.meili_key:
                # Never hand the admin key to a reader: ask for the search key instead.
                raise FondsError("FONDS_MEILI_SEARCH_KEY manquant : l'interface n'utilise "
                                 "qu'une clé de recherche")
            return cls(settings.meili_url, settings.meili_search_key, settings.meili_index)
        return cls(settings.meili_url, settings.meili_key, settings.meili_index)

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
        docs = [to_document(p) for p in passages]
        for start in range(0, len(docs), BATCH):
            with self._errors("l'ajout de passages"):
                task = self.index.add_documents(docs[start:start + BATCH], primary_key="id")
            self._wait(task, "ajout de passages")

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

    def set_meta(self, meta: Mapping[str, Any]) -> None:
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
        floor = similarity.from_meta(self.meta()) if request.mode is not Mode.KEYWORD else None
        params = search_params(request, query_vector, floor)
        extra = facet_queries(self.uid, request, query_vector, floor) if request.facets else []
        side = side_queries(self.uid, request)
        with self._errors("la recherche"):
            raw = self.index.search(request.query, params)
            answers = self.client.multi_search(extra + side)["results"] if extra + side else []
        result = self._result(request, raw)
        facets = {k: dict(v) for k, v in result.facets.items()}
        for query, answer in zip(extra, answers, strict=False):
            (facet,) = query["facets"]
            counts = dict(answer.get("facetDistribution", {}).get(facet, {}))
            for value in getattr(request.filters, FILTER_OF_FACET.get(facet, ""), ()):
                counts.setdefault(value, 0)
            facets[facet] = counts
        years, every_word = _side_answers(answers[len(extra):])
        partial = bool(result.total) and every_word == 0 and len(request.query.split()) > 1
        words = _marked_words(raw.get("hits", [])) if partial else ()
        return SearchResult(result.total, result.hits, facets, result.took_ms,
                            partial=partial, matched_words=words, years=years)

    def _result(self, request: SearchRequest, raw: Mapping[str, Any]) -> SearchResult:
        hits = [h for h in raw.get("hits", [])]
        extra = self._more_passages(request, [h["doc_id"] for h in hits])
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
                passages=tuple([first, *others][: request.passages_per_doc])))
        total = raw.get("totalHits", raw.get("estimatedTotalHits", len(hits)))
        facets = {f: dict(raw.get("facetDistribution", {}).get(f, {})) for f in FACETS
                  } if request.facets else {}
        return SearchResult(int(total), tuple(doc_hits), facets,
                            float(raw.get("processingTimeMs", 0)))

    @staticmethod
    def _passage(h: Mapping[str, Any]) -> PassageHit:
        formatted = h.get("_formatted", {})
        return PassageHit(passage_id=h["passage_id"], page=h.get("page"),
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
                "fields": ["title", "_vectors"], "retrieve_vectors": True})
        rows = [dict(r) for r in own.results]
        if not rows:
            return []
        vectors = [np.asarray(_vector_of(r), dtype=np.float32) for r in rows
                   if _vector_of(r) is not None]
        exclude = f"doc_id != {quote(doc_id)}"
        request = SearchRequest("", limit=limit, passages_per_doc=1, facets=False)
        if not vectors:
            title = str(rows[0].get("title") or "")
            with self._errors("les documents similaires"):
                raw = self.index.search(title, {"filter": [exclude], "limit": limit,
                                                "showRankingScore": True})
            return list(self._result(request, raw).hits)
        mean = np.mean(np.stack(vectors), axis=0)
        norm = float(np.linalg.norm(mean))
        floor = similarity.from_meta(self.meta())
        with self._errors("les documents similaires"):
            raw = self.index.search("", {
                "vector": [float(x) for x in (mean / norm if norm else mean)],
                "hybrid": {"embedder": "default", "semanticRatio": 1.0},
                "filter": [exclude], "limit": limit, "showRankingScore": True,
                "rankingScoreThreshold": score_threshold(floor)})
        return list(self._result(request, raw).hits)


def _vector_of(row: Mapping[str, Any]) -> list[float] | None:
    """A document's vector as Meilisearch returns it ({"default": [..]} or with
    "embeddings"), or None."""
    value = (row.get("_vectors") or {}).get("default")
    if isinstance(value, dict):
        value = value.get("embeddings")
        if value and isinstance(value[0], list):
            value = value[0]
    return value if isinstance(value, list) and value else None
