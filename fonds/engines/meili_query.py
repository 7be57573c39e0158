"""Meilisearch requests as pure functions, tested without a server (as sqlite-utils'
`search_sql`): filters that quote every value, search bodies, settings, documents."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fonds import fold, french
from fonds.engines import floor as similarity
from fonds.engines.base import (
    FACETS,
    Copy,
    Filters,
    Mode,
    Passage,
    SearchRequest,
    Sort,
    iso_date,
)
from fonds.highlight import MARK_END, MARK_START
from index_config import DIR as CONFIG_DIR

CROP_WORDS = 32
PRE, POST = "\x02", "\x03"  # placeholders, so the crop can be escaped safely
_ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,511}$")


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


def to_document(p: Passage, group: str = "", sig: fold.Signature | None = None
                ) -> dict[str, Any]:
    """A passage as a Meilisearch document; `group` is its document's near-duplicate group
    (the distinct attribute when folding), `sig` the document's signature, kept on one of
    its passages with its LSH bands (filterable: how later copies find it)."""
    date_key = p.date_key
    doc: dict[str, Any] = {
        "id": document_key(p.passage_id), "passage_id": p.passage_id, "doc_id": p.doc_id,
        "position": p.position, "page": p.page, "title": p.title, "heading": p.heading,
        "text": p.text, "url": p.url, "source": p.source, "doc_type": p.doc_type,
        "themes": list(p.themes), "departements": list(p.departements), "date": p.date,
        "year": p.year, "date_key": date_key,
        "page_breaks": [list(b) for b in p.page_breaks], "fold": group or p.doc_id,
    }
    if sig is not None:
        doc["fold_sig"] = sig.encode()
        doc["fold_bands"] = list(sig.bands())
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
                  floor: similarity.SimilarityFloor | None = None, distinct: str | None = None
                  ) -> dict[str, Any]:
    """The body of a search request: a pure function, tested without a server. Pages go
    by page/hitsPerPage when they can: then Meilisearch counts totalHits exhaustively.
    `distinct` = "fold": one hit per near-duplicate group (totalHits and facets count
    groups; a group's facet values are those of its best-ranked copy, as Meilisearch
    computes facets after distinct)."""
    start, end = request.window
    params: dict[str, Any] = {
        "distinct": distinct,
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
                  floor: similarity.SimilarityFloor | None, distinct: str | None = None
                  ) -> list[dict[str, Any]]:
    """Disjunctive facets: one count-only query per filtered facet, with the filters of the
    other facets (what choosing one of its values would give)."""
    out = []
    for facet in FACETS:
        if not request.filters.on(facet):
            continue
        one = SearchRequest(request.query, request.filters.without(facet), mode=request.mode,
                            semantic_ratio=request.semantic_ratio, limit=0)
        params = search_params(one, vector, floor, distinct)
        params |= {"indexUid": uid, "q": request.query, "facets": [facet]}
        out.append(params)
    return out


def fold_candidates_query(sigs: Sequence[fold.Signature], limit: int) -> dict[str, Any] | None:
    """The documents sharing an LSH band with one of the signatures (their first passage
    holds the signature), or None when none can fold."""
    bands = sorted({b for sig in sigs for b in sig.bands()})
    if not bands:
        return None
    return {"filter": [f"fold_bands IN [{', '.join(quote(b) for b in bands)}]", "position = 0"],
            "fields": ["doc_id", "fold", "fold_sig"], "limit": limit}


def copies_query(groups: Sequence[str], limit: int) -> dict[str, Any]:
    """Every document of some groups (one passage each), for « Également publié par »."""
    return {"filter": [f"fold IN [{', '.join(quote(g) for g in groups)}]", "position = 0"],
            "fields": ["doc_id", "url", "source", "date", "fold"], "limit": limit}


def copies_of(hits: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]
              ) -> dict[str, tuple[Copy, ...]]:
    """The other documents of each hit's group (rows: first passages of the groups' documents),
    oldest first."""
    members: dict[str, list[Copy]] = {}
    for row in rows:
        members.setdefault(str(row.get("fold")), []).append(Copy(
            str(row["doc_id"]), str(row.get("url") or ""), str(row.get("source") or ""),
            iso_date(row.get("date"))))
    out = {}
    for h in hits:
        others = [c for c in members.get(str(h.get("fold")), []) if c.doc_id != h["doc_id"]]
        if others:
            out[str(h["doc_id"])] = tuple(sorted(others, key=lambda c: (c.date or "9999",
                                                                        c.doc_id)))
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


def side_answers(answers: Sequence[Mapping[str, Any]]) -> tuple[tuple[int, int] | None, int | None]:
    years = None
    stats = (answers[0].get("facetStats") or {}).get("year") if answers else None
    if isinstance(stats, Mapping) and stats.get("min") is not None:
        years = (int(stats["min"]), int(stats["max"]))
    every_word = int(answers[1].get("totalHits", 0)) if len(answers) > 1 else None
    return years, every_word


def marked_words(hits: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The words Meilisearch highlighted in the page's snippets, folded, first seen first."""
    words: dict[str, None] = {}
    for h in hits:
        text = str((h.get("_formatted") or {}).get("text", ""))
        for piece in text.split(PRE)[1:]:
            for word in french.words(piece.split(POST)[0]):
                words.setdefault(word, None)
    return tuple(words)


def vector_of(row: Mapping[str, Any]) -> list[float] | None:
    """A document's vector as Meilisearch returns it ({"default": [..]} or with
    "embeddings"), or None."""
    value = (row.get("_vectors") or {}).get("default")
    if isinstance(value, dict):
        value = value.get("embeddings")
        if value and isinstance(value[0], list):
            value = value[0]
    return value if isinstance(value, list) and value else None
