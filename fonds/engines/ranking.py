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
from fonds.query import ParsedQuery, Slot

Occur = tantivy.Occur
Q = tantivy.Query

TITLE_BOOST = 2.0
HEADING_BOOST = 1.2
TYPO_SCORE = 0.3  # a typo or prefix match weighs less than a typical exact BM25 match
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


def exact_query(schema: tantivy.Schema, slot: Slot) -> tantivy.Query:
    """The slot's words as written (stemmed), or one of its synonym phrases: BM25-scored."""
    options = [_must([_exact_term(schema, t.stem) for t in slot.terms])]
    for alternative in slot.alternatives:
        phrase = _phrase(schema, alternative)
        if phrase is not None:
            options.append(phrase)
    return _should(options)


def loose_query(schema: tantivy.Schema, slot: Slot) -> tantivy.Query | None:
    """Typo and prefix matches of a one-word slot, on whole unstemmed words (the `exact`
    field holds title, heading and text, so each is one automaton walk)."""
    if len(slot.terms) != 1:
        return None
    term = slot.terms[0]
    parts = []
    if term.typos:
        parts.append(Q.fuzzy_term_query(schema, "exact", term.word, term.typos, True, False))
    if term.prefix:
        parts.append(Q.fuzzy_term_query(schema, "exact", term.word, term.typos, True, True))
    return _should(parts) if parts else None


def keyword_query(schema: tantivy.Schema, parsed: ParsedQuery) -> tantivy.Query:
    """Only Should clauses: a document matches when any slot does (partial matches are the
    fallback), and each expensive typo query is evaluated once."""
    tiered = len(parsed.slots) <= TIER_MAX_WORDS
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for slot in parsed.slots:
        exact = exact_query(schema, slot)
        loose = loose_query(schema, slot)
        clauses.append((Occur.Should, exact))  # BM25 orders within a tier
        if tiered and len(parsed.slots) > 1:
            either = exact if loose is None else _should([exact, loose])
            clauses.append((Occur.Should, Q.const_score_query(either, WORD_TIER)))
        elif loose is not None:
            clauses.append((Occur.Should, Q.const_score_query(loose, TYPO_SCORE)))
        if tiered and loose is not None:
            clauses.append((Occur.Should, Q.const_score_query(exact, EXACT_TIER)))
    stems = [t.stem for t in parsed.terms()]
    if tiered and len(stems) > 1:
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
