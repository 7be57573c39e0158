"""The page of a search: each ranked document with its best passages, highlighted."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tantivy

from fonds.engines import ranking
from fonds.engines.base import Copy, DocHit, Filters, PassageHit
from fonds.engines.embedded.schema import PASSAGE, first
from fonds.engines.embedded.storage import Generation
from fonds.highlight import Matcher, highlight
from fonds.models import page_at
from fonds.query import ParsedQuery

# Stored passages read per document on a page when picking its best ones.
PASSAGE_FETCH_FACTOR = 8

Ranked = list[tuple[str, float]]


class SemanticPassages:
    """Passages above the similarity floor, best first, with their documents' table rows:
    kept as arrays and grouped by document only for the documents a page shows."""

    def __init__(self, rows: np.ndarray, scores: np.ndarray, positions: np.ndarray,
                 passage_id: Callable[[int], str], table_ids: list[str],
                 index: Mapping[str, int]) -> None:
        self.rows, self.scores, self.positions = rows, scores, positions
        self.passage_id = passage_id
        self.table_ids, self.index = table_ids, index  # the doc table's
        self.present = np.zeros(len(table_ids), dtype=bool)
        self.present[positions] = True

    @classmethod
    def empty(cls) -> SemanticPassages:
        none = np.empty(0, dtype=np.int64)
        return cls(none, np.empty(0, dtype=np.float32), none, str, [], {})

    def __contains__(self, doc_id: str) -> bool:
        position = self.index.get(doc_id)
        return position is not None and bool(self.present[position])

    def get(self, doc_id: str) -> list[tuple[str, float]]:
        """(passage id, cosine) of one document, best first."""
        if doc_id not in self:
            return []
        at = np.flatnonzero(self.positions == self.index[doc_id])
        return [(self.passage_id(int(self.rows[i])), float(self.scores[i])) for i in at]

    def discard(self, doc_id: str) -> None:
        if doc_id in self:
            self.present[self.index[doc_id]] = False

    def best(self) -> list[tuple[str, float]]:
        """Each document present with its best cosine, best first (ties by id)."""
        positions, first = np.unique(self.positions, return_index=True)
        ranked = [(self.table_ids[p], float(self.scores[i]))
                  for p, i in zip(positions.tolist(), first.tolist(), strict=True)
                  if self.present[p]]
        return sorted(ranked, key=lambda kv: (-kv[1], kv[0]))


@dataclass
class Run:
    """What one search carries between its steps: one searcher, so addresses stay valid."""

    gen: Generation
    searcher: tantivy.Searcher
    parsed: ParsedQuery
    per_doc: int
    query: tantivy.Query | None = None  # passages
    keyword_passages: dict[str, list[tuple[float, tantivy.DocAddress]]] = field(
        default_factory=dict)
    semantic_passages: SemanticPassages = field(default_factory=SemanticPassages.empty)
    doc_cosine: np.ndarray | None = None  # best cosine per document of the doc table
    # Query words the archive has nowhere as typed → its nearest word (what was meant).
    corrected: dict[str, str] = field(default_factory=dict)
    slot_masks: list[np.ndarray] | None = None  # documents holding each query word



def doc_ids(run: Run, hits: list[tuple[Any, tantivy.DocAddress]]) -> list[str | None]:
    """Document of each hit from a fast field: no stored document is read for ranking."""
    if not hits:
        return []
    ords = run.searcher.fast_field_values("doc_ord", [address for _, address in hits])
    return [run.gen.by_ord.get(int(o)) if o is not None else None for o in ords]



def passages_of(run: Run, build: ranking.QueryBuilder, ids: list[str],
                query: tantivy.Query | None) -> None:
    """Best passages (by score, or in reading order without a query) of some documents."""
    wanted = [d for d in ids if d not in run.keyword_passages]
    if not wanted:
        return
    restricted = build.with_filters(None, Filters(doc_ids=tuple(wanted)), PASSAGE)
    limit = len(wanted) * run.per_doc * PASSAGE_FETCH_FACTOR
    if query is not None:
        restricted = tantivy.Query.boolean_query([(tantivy.Occur.Must, query),
                                                  (tantivy.Occur.Must, restricted)])
        hits = run.searcher.search(restricted, limit=limit, count=False).hits
    else:
        hits = run.searcher.search(restricted, limit=limit, count=False,
                                   order_by_field="position",
                                   order=tantivy.Order.Asc).hits
    for (score, address), doc_id in zip(hits, doc_ids(run, hits), strict=True):
        items = run.keyword_passages.setdefault(doc_id, []) if doc_id else []
        if doc_id and len(items) < run.per_doc:
            items.append((float(score) if query is not None else 0.0, address))

def fetch(run: Run, passage_ids: list[str]) -> dict[str, dict[str, list[Any]]]:
    if not passage_ids:
        return {}
    query = tantivy.Query.term_set_query(run.gen.schema, "passage_id", passage_ids)
    found = {}
    for _, address in run.searcher.search(query, limit=len(passage_ids), count=False).hits:
        doc = run.searcher.doc(address).to_dict()
        found[first(doc, "passage_id")] = doc
    return found

def hits(run: Run, build: ranking.QueryBuilder, page: Ranked,
         copies: Mapping[str, tuple[Copy, ...]] | None = None) -> list[DocHit]:
    per_doc = run.per_doc
    page_ids = [d for d, _ in page]
    # Documents on the page without passages yet: their best keyword passages (hybrid,
    # date sort), else their first ones.
    if not run.parsed.is_empty:
        if run.query is None:
            run.query = build.keyword(run.parsed)
        passages_of(run, build, [d for d in page_ids if d not in run.semantic_passages],
                          run.query)
    passages_of(run, build, [d for d in page_ids if d not in run.semantic_passages], None)
    wanted = [pid for d in page_ids if len(run.keyword_passages.get(d, [])) < per_doc
              for pid, _ in run.semantic_passages.get(d)[:per_doc]]
    fetched = fetch(run, wanted)
    matcher = Matcher(run.parsed)
    hits = []
    for doc_id, score in page:
        chosen = [(s, run.searcher.doc(a).to_dict())
                  for s, a in run.keyword_passages.get(doc_id, [])[:per_doc]]
        seen = {first(doc, "passage_id") for _, doc in chosen}
        for pid, sem_score in run.semantic_passages.get(doc_id):
            if len(chosen) >= per_doc:
                break
            if pid not in seen and pid in fetched:
                chosen.append((sem_score, fetched[pid]))
                seen.add(pid)
        info = run.gen.docs[doc_id]
        passages = []
        for passage_score, doc in chosen:
            text = first(doc, "text", "")
            snippet = highlight(text, matcher)
            breaks = tuple((int(a), int(b)) for a, b in json.loads(first(doc, "page_breaks",
                                                                         "[]")))
            passages.append(PassageHit(
                passage_id=first(doc, "passage_id"),
                page=page_at(first(doc, "page"), breaks, snippet.start),
                position=first(doc, "position", 0), text=text, highlight=snippet.html,
                score=float(passage_score)))
        hits.append(info.hit(float(score), tuple(passages), (copies or {}).get(doc_id, ())))
    return hits
