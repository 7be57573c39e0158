"""How the embedded engine turns a parsed query into a tantivy query, and fuses rankings.

Ranking follows Meilisearch's rules, as tiers of constant scores added to BM25: documents
matching more query words first, then exact words over typos, then words close together;
BM25 (title weighted) orders within a tier. Long queries (questions in plain language)
skip the tiers: there, term weighting beats counting words.
"""

from __future__ import annotations

from collections import defaultdict

import tantivy

from fonds import french
from fonds.engines.base import Filters
from fonds.query import ParsedQuery, Slot, Term

Occur = tantivy.Occur
Q = tantivy.Query

TITLE_BOOST = 2.0
HEADING_BOOST = 1.2
TYPO_SCORE = 0.3  # a typo match weighs less than a typical exact BM25 match
PREFIX_SCORE = 0.6
WORD_TIER = 1000.0
EXACT_TIER = 100.0
PROXIMITY_TIER = 50.0
PROXIMITY_SLOP = 6
TIER_MAX_WORDS = 4
RRF_K = 60


def _should(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return Q.boolean_query([(Occur.Should, q) for q in queries])


def _must(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return Q.boolean_query([(Occur.Must, q) for q in queries])


def _exact_term(schema: tantivy.Schema, stem: str) -> tantivy.Query:
    return _should([
        Q.term_query(schema, "text", stem),
        Q.boost_query(Q.term_query(schema, "title", stem), TITLE_BOOST),
        Q.boost_query(Q.term_query(schema, "heading", stem), HEADING_BOOST),
    ])


def _prefix(schema: tantivy.Schema, term: Term, distance: int) -> tantivy.Query:
    return _should([
        Q.fuzzy_term_query(schema, field, term.word, distance, True, True)
        for field in ("text_exact", "title_exact")
    ])


def _term(schema: tantivy.Schema, term: Term, exact_only: bool) -> tantivy.Query:
    parts = [_exact_term(schema, term.stem)]
    if term.prefix:
        parts.append(Q.const_score_query(_prefix(schema, term, 0), PREFIX_SCORE))
    if not exact_only and term.typos:
        fuzzy = _should([Q.fuzzy_term_query(schema, field, term.word, term.typos, True, False)
                         for field in ("text_exact", "title_exact")])
        parts.append(Q.const_score_query(fuzzy, TYPO_SCORE))
        if term.prefix:
            parts.append(Q.const_score_query(_prefix(schema, term, term.typos), TYPO_SCORE))
    return _should(parts)


def _phrase(schema: tantivy.Schema, words: tuple[str, ...]) -> tantivy.Query | None:
    stops = french.stop_words()
    kept = [(i, french.stem(w)) for i, w in enumerate(words) if w not in stops]
    if not kept:
        return None
    if len(kept) == 1:
        return _exact_term(schema, kept[0][1])
    first = kept[0][0]
    offsets = [(i - first, stem) for i, stem in kept]
    return _should([Q.phrase_query(schema, field, offsets, 1) for field in ("text", "title")])


def slot_query(schema: tantivy.Schema, slot: Slot, exact_only: bool = False) -> tantivy.Query:
    options = [_must([_term(schema, t, exact_only) for t in slot.terms])]
    for alternative in slot.alternatives:
        phrase = _phrase(schema, alternative)
        if phrase is not None:
            options.append(phrase)
    return _should(options)


def keyword_query(schema: tantivy.Schema, parsed: ParsedQuery) -> tantivy.Query:
    slots = [slot_query(schema, s) for s in parsed.slots]
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = [(Occur.Must, _should(slots))]
    if len(parsed.slots) <= TIER_MAX_WORDS:
        if len(slots) > 1:
            clauses += [(Occur.Should, Q.const_score_query(q, WORD_TIER)) for q in slots]
        clauses += [(Occur.Should, Q.const_score_query(slot_query(schema, s, True), EXACT_TIER))
                    for s in parsed.slots if any(t.typos for t in s.terms)]
        stems = [t.stem for t in parsed.terms()]
        if len(stems) > 1:
            clauses.append((Occur.Should, Q.const_score_query(
                Q.phrase_query(schema, "text", stems, PROXIMITY_SLOP), PROXIMITY_TIER)))
    return Q.boolean_query(clauses)


def with_filters(schema: tantivy.Schema, match: tantivy.Query, f: Filters) -> tantivy.Query:
    """Filters as term-set and range queries: values are data, never parsed as syntax."""
    clauses = [(Occur.Must, match)]
    for field, values in (("themes", f.themes), ("departements", f.departements),
                          ("doc_type", f.doc_types), ("source", f.sources),
                          ("doc_id", f.doc_ids)):
        if values:
            clauses.append((Occur.Must, Q.term_set_query(schema, field, list(values))))
    if f.year_from is not None or f.year_to is not None:
        clauses.append((Occur.Must, Q.range_query(
            schema, "year", tantivy.FieldType.Integer, f.year_from, f.year_to)))
    return match if len(clauses) == 1 else Q.boolean_query(clauses)


def fuse(keyword: list[tuple[str, float]], semantic: list[tuple[str, float]], ratio: float
         ) -> list[tuple[str, float]]:
    """Reciprocal rank fusion, the semantic ratio weighting the meaning side."""
    scores: dict[str, float] = defaultdict(float)
    for rank, (doc_id, _) in enumerate(keyword):
        scores[doc_id] += (1 - ratio) / (RRF_K + rank + 1)
    for rank, (doc_id, _) in enumerate(semantic):
        scores[doc_id] += ratio / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
