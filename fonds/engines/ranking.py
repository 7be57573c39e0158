"""How the embedded engine turns a parsed query into a tantivy query, and fuses rankings.

Ranking follows Meilisearch's rules, as tiers of constant scores added to BM25: documents
matching more query words first, then exact words over typos, then words close together;
BM25 orders within a tier. Tiers hold for questions in plain language too: on both dev
sets, counting matched words beat term weighting alone (README, "Performance and quality").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import tantivy

from fonds import french
from fonds.engines.base import Filters
from fonds.query import ParsedQuery, Slot

Occur = tantivy.Occur
Q = tantivy.Query

TITLE_BOOST = 1.0  # the short title field scores high on its own; 1.5 and 2 lost on both sets
HEADING_BOOST = 1.2
TYPO_SCORE = 0.3  # a typo or prefix match weighs less than a typical exact BM25 match
WORD_TIER = 1000.0
EXACT_TIER = 100.0
PROXIMITY_TIER = 50.0
PROXIMITY_SLOP = 6
RRF_K = 60


def _should(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return Q.boolean_query([(Occur.Should, q) for q in queries])


def _must(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return Q.boolean_query([(Occur.Must, q) for q in queries])


@dataclass(frozen=True)
class Fields:
    """Which fields a query reads: a passage's, or the whole document's (for counting)."""

    text: str
    title: str | None
    heading: str | None
    exact: str


PASSAGE = Fields("text", "title", "heading", "exact")
DOCUMENT = Fields("doc_text", None, None, "doc_exact")


def _exact_term(schema: tantivy.Schema, stem: str, f: Fields = PASSAGE) -> tantivy.Query:
    parts = [Q.term_query(schema, f.text, stem)]
    if f.title:
        parts.append(Q.boost_query(Q.term_query(schema, f.title, stem), TITLE_BOOST))
    if f.heading:
        parts.append(Q.boost_query(Q.term_query(schema, f.heading, stem), HEADING_BOOST))
    return _should(parts)


def _phrase(schema: tantivy.Schema, words: tuple[str, ...], f: Fields = PASSAGE
            ) -> tantivy.Query | None:
    stops = french.stop_words()
    kept = [(i, french.stem(w)) for i, w in enumerate(words) if w not in stops]
    if not kept:
        return None
    if len(kept) == 1:
        return _exact_term(schema, kept[0][1], f)
    first = kept[0][0]
    offsets = [(i - first, stem) for i, stem in kept]
    fields = [name for name in (f.text, f.title) if name]
    return _should([Q.phrase_query(schema, name, offsets, 1) for name in fields])


def exact_query(schema: tantivy.Schema, slot: Slot, f: Fields = PASSAGE) -> tantivy.Query:
    """The slot's words as written (stemmed), or one of its synonym phrases: BM25-scored."""
    options = [_must([_exact_term(schema, t.stem, f) for t in slot.terms])]
    for alternative in slot.alternatives:
        phrase = _phrase(schema, alternative, f)
        if phrase is not None:
            options.append(phrase)
    return _should(options)


def loose_query(schema: tantivy.Schema, slot: Slot, f: Fields = PASSAGE) -> tantivy.Query | None:
    """Typo and prefix matches of a one-word slot, on whole unstemmed words (the `exact`
    field holds title, heading and text, so each is one automaton walk)."""
    if len(slot.terms) != 1:
        return None
    term = slot.terms[0]
    parts = []
    if term.typos:
        parts.append(Q.fuzzy_term_query(schema, f.exact, term.word, term.typos, True, False))
    if term.prefix:
        parts.append(Q.fuzzy_term_query(schema, f.exact, term.word, term.typos, True, True))
    return _should(parts) if parts else None


def keyword_query(schema: tantivy.Schema, parsed: ParsedQuery) -> tantivy.Query:
    """Only Should clauses: a document matches when any slot does (partial matches are the
    fallback), and each expensive typo query is evaluated once."""
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for slot in parsed.slots:
        exact = exact_query(schema, slot)
        loose = loose_query(schema, slot)
        clauses.append((Occur.Should, exact))  # BM25 orders within a tier
        if len(parsed.slots) > 1:
            either = exact if loose is None else _should([exact, loose])
            clauses.append((Occur.Should, Q.const_score_query(either, WORD_TIER)))
        elif loose is not None:
            clauses.append((Occur.Should, Q.const_score_query(loose, TYPO_SCORE)))
        # Every slot matched as typed counts, even one that allowed no typo.
        clauses.append((Occur.Should, Q.const_score_query(exact, EXACT_TIER)))
    stems = [t.stem for t in parsed.terms()]
    if len(stems) > 1:
        clauses.append((Occur.Should, Q.const_score_query(
            Q.phrase_query(schema, "text", stems, PROXIMITY_SLOP), PROXIMITY_TIER)))
    return Q.boolean_query(clauses)


def match_query(schema: tantivy.Schema, parsed: ParsedQuery, f: Fields) -> tantivy.Query:
    """What matches, without ranking: any slot, exactly or with typos (for counts)."""
    options = []
    for slot in parsed.slots:
        options.append(exact_query(schema, slot, f))
        loose = loose_query(schema, slot, f)
        if loose is not None:
            options.append(loose)
    return _should(options)


def with_filters(schema: tantivy.Schema, match: tantivy.Query | None, f: Filters, kind: str
                 ) -> tantivy.Query:
    """Entries of one kind (passage or doc) that match and pass the filters. Filters are
    term-set and range queries: values are data, never parsed as syntax."""
    clauses = [(Occur.Must, Q.term_query(schema, "kind", kind))]
    if match is not None:
        clauses.append((Occur.Must, match))
    for field, values in (("themes", f.themes), ("departements", f.departements),
                          ("doc_type", f.doc_types), ("source", f.sources),
                          ("doc_id", f.doc_ids)):
        if values:
            clauses.append((Occur.Must, Q.term_set_query(schema, field, list(values))))
    if f.year_from is not None or f.year_to is not None:
        clauses.append((Occur.Must, Q.range_query(
            schema, "year", tantivy.FieldType.Integer, f.year_from, f.year_to)))
    return Q.boolean_query(clauses)


def fuse(keyword: list[tuple[str, float]], semantic: list[tuple[str, float]], ratio: float
         ) -> list[tuple[str, float]]:
    """Reciprocal rank fusion, the semantic ratio weighting the meaning side."""
    scores: dict[str, float] = defaultdict(float)
    for rank, (doc_id, _) in enumerate(keyword):
        scores[doc_id] += (1 - ratio) / (RRF_K + rank + 1)
    for rank, (doc_id, _) in enumerate(semantic):
        scores[doc_id] += ratio / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
