"""How the embedded engine turns a parsed query into a tantivy query, and fuses rankings.

Ranking follows Meilisearch's rules, as tiers of constant scores added to BM25: documents
matching more query words first (a word matched with a typo counts), then exact words over
typos, then words close together; BM25 orders within a tier. (A tier for words matched
from the first one on, as Meilisearch drops words from the end, is in RankingConfig but
off: it lost 0.08 keyword nDCG@10 on PIAF.) Tiers hold for
questions in plain language too: on both dev sets, counting matched words beat term
weighting alone (README, "Performance and quality").
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import tantivy

from fonds import french
from fonds.engines.base import Filters
from fonds.query import ParsedQuery, Slot

Occur = tantivy.Occur
Q = tantivy.Query

# Leading-words tier: checked for the first few slots only (each level is one more nested
# query over the same clauses); beyond, the word count alone orders.
LEADING_SLOTS = 3
BM25_TF_MOST = 2.2  # k1 + 1: BM25's term-frequency factor never exceeds it (k1 = 1.2)
PHRASE_FIELDS = 2  # a synonym phrase is searched in text and title


@dataclass(frozen=True)
class RankingConfig:
    """The ranking's numbers in one record the engine is given, so that
    benchmarks/tune_ranking.py sweeps them by passing another one."""

    title_boost: float = 1.0  # the short title field scores high on its own; 1.5, 2 lost
    heading_boost: float = 1.2
    typo_score: float = 0.3  # a typo or prefix match weighs less than a typical exact match
    word_tier: float = 1000.0  # per query word matched, typos included
    # Per matched word counted from the first query word (Meilisearch's « last » strategy):
    # at 200 it cost 0.08 keyword nDCG@10 on 1,000 PIAF questions, so it is off.
    leading_tier: float = 0.0
    exact_tier: float = 100.0  # per query word matched as typed
    proximity_tier: float = 50.0
    proximity_slop: int = 6
    rrf_k: int = 60
    # A query word found in this many passages is searched without typos (the searcher).
    typo_skip_doc_freq: int = 20

    def with_value(self, name: str, raw: str) -> RankingConfig:
        """This config with one parameter set from text (for command-line sweeps)."""
        names = {f.name for f in dataclasses.fields(self)}
        if name not in names:
            raise ValueError(f"unknown ranking parameter {name!r}: {', '.join(sorted(names))}")
        current: Any = getattr(self, name)
        return dataclasses.replace(self, **{name: type(current)(float(raw))})


DEFAULT_RANKING = RankingConfig()


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


class QueryBuilder:
    """tantivy queries for one schema and one ranking config."""

    def __init__(self, schema: tantivy.Schema, config: RankingConfig = DEFAULT_RANKING
                 ) -> None:
        self.schema = schema
        self.config = config

    def _exact_term(self, stem: str, f: Fields = PASSAGE) -> tantivy.Query:
        parts = [Q.term_query(self.schema, f.text, stem)]
        if f.title:
            parts.append(Q.boost_query(Q.term_query(self.schema, f.title, stem),
                                       self.config.title_boost))
        if f.heading:
            parts.append(Q.boost_query(Q.term_query(self.schema, f.heading, stem),
                                       self.config.heading_boost))
        return _should(parts)

    def _phrase(self, words: tuple[str, ...], f: Fields = PASSAGE) -> tantivy.Query | None:
        stops = french.stop_words()
        kept = [(i, french.stem(w)) for i, w in enumerate(words) if w not in stops]
        if not kept:
            return None
        if len(kept) == 1:
            return self._exact_term(kept[0][1], f)
        first = kept[0][0]
        offsets: list[str | tuple[int, str]] = [(i - first, stem) for i, stem in kept]
        names = [name for name in (f.text, f.title) if name]
        return _should([Q.phrase_query(self.schema, name, offsets, 1) for name in names])

    def exact(self, slot: Slot, f: Fields = PASSAGE) -> tantivy.Query:
        """The slot's words as written (stemmed), or one of its synonym phrases."""
        options = [_must([self._exact_term(t.stem, f) for t in slot.terms])]
        for alternative in slot.alternatives:
            phrase = self._phrase(alternative, f)
            if phrase is not None:
                options.append(phrase)
        return _should(options)

    def loose(self, slot: Slot, f: Fields = PASSAGE) -> tantivy.Query | None:
        """Typo and prefix matches of a one-word slot, on whole unstemmed words (the `exact`
        field holds title, heading and text, so each is one automaton walk)."""
        if len(slot.terms) != 1:
            return None
        term = slot.terms[0]
        parts = []
        if term.typos:
            parts.append(Q.fuzzy_term_query(self.schema, f.exact, term.word, term.typos,
                                            True, False))
        if term.prefix:
            parts.append(Q.fuzzy_term_query(self.schema, f.exact, term.word, term.typos,
                                            True, True))
        return _should(parts) if parts else None

    def keyword(self, parsed: ParsedQuery, corrected: Mapping[str, str] | None = None,
                every: bool = False) -> tantivy.Query:
        """Only Should clauses: a document matches when any slot does (partial matches are
        the fallback). `corrected`: query words the archive has nowhere as typed, with the
        archive's nearest word; that word is what the user meant, so it scores as typed,
        BM25 included (« discrimnation emploi » ranks the discrimination fiches by
        « discrimination », not below a guide that only says « mode d'emploi »)."""
        corrected = corrected or {}
        c = self.config
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        either_of: list[tantivy.Query] = []
        for slot in parsed.slots:
            word = slot.terms[0].word if len(slot.terms) == 1 else ""
            exact = (self._exact_term(french.stem(corrected[word])) if word in corrected
                     else self.exact(slot))
            loose = self.loose(slot)
            either = exact if loose is None else _should([exact, loose])
            either_of.append(either)
            clauses.append((Occur.Should, exact))  # BM25 orders within a tier
            if len(parsed.slots) > 1:
                clauses.append((Occur.Must if every else Occur.Should,
                                Q.const_score_query(either, c.word_tier)))
            elif loose is not None:
                clauses.append((Occur.Should, Q.const_score_query(loose, c.typo_score)))
            # Every slot matched as typed counts, even one that allowed no typo.
            clauses.append((Occur.Should, Q.const_score_query(exact, c.exact_tier)))
        # Words matched from the first on: « discrimnation emploi » puts what has the
        # (misspelt) first word before what has only the second.
        depths = range(1, min(len(either_of), LEADING_SLOTS + 1)) if c.leading_tier else ()
        for depth in depths:
            clauses.append((Occur.Should, Q.const_score_query(
                _must(either_of[:depth]), c.leading_tier)))
        stems: list[str | tuple[int, str]] = [t.stem for t in parsed.terms()]
        if len(stems) > 1:
            clauses.append((Occur.Should, Q.const_score_query(
                Q.phrase_query(self.schema, "text", stems, c.proximity_slop),
                c.proximity_tier)))
        return Q.boolean_query(clauses)

    def every_word_first(self, parsed: ParsedQuery, entries: int) -> bool:
        """Whether a passage with every query word always outranks one without: its word
        tiers (`word_tier` each) exceed the most the other can score beyond its own word
        tiers (per word its exact tier and BM25, plus proximity and leading tiers). Then
        `keyword(every=True)` (word tiers as Must clauses: the same scores, on the passages
        with every word only) gives the top of the ranking when it has enough hits.
        BM25's most for one term in one field is (k1 + 1)·idf ≤ 2.2·ln(1 + 2N), N counting
        the deleted entries not merged away yet (taken as up to N again here); a phrase
        scores the sum of its terms' idf. About 100 per word at a million passages."""
        c = self.config
        if len(parsed.slots) < 2:
            return False
        most = BM25_TF_MOST * math.log(1 + 4 * max(entries, 1))
        fields = 1 + c.title_boost + c.heading_boost  # exact terms: text, title, heading
        per_slot = [c.exact_tier + most * (fields * len(slot.terms) + PHRASE_FIELDS * sum(
            len(alternative) for alternative in slot.alternatives)) for slot in parsed.slots]
        others = (sum(per_slot) - min(per_slot) + c.proximity_tier
                  + LEADING_SLOTS * c.leading_tier)
        return others < c.word_tier

    def match(self, parsed: ParsedQuery, f: Fields) -> tantivy.Query:
        """What matches, without ranking: any word, exactly or with typos (for counts)."""
        return _should(self.slot_matches(parsed, f))

    def match_all(self, parsed: ParsedQuery, f: Fields) -> tantivy.Query:
        """Every word, typos allowed."""
        return _must(self.slot_matches(parsed, f))

    def match_typed(self, parsed: ParsedQuery, f: Fields) -> tantivy.Query:
        """Any word as typed (or one of its synonyms)."""
        return _should([self.exact(slot, f) for slot in parsed.slots])

    def slot_matches(self, parsed: ParsedQuery, f: Fields) -> list[tantivy.Query]:
        """One query per slot (exactly or with typos): which words a document holds."""
        return [self.slot_match(slot, f) for slot in parsed.slots]

    def slot_match(self, slot: Slot, f: Fields) -> tantivy.Query:
        loose = self.loose(slot, f)
        exact = self.exact(slot, f)
        return exact if loose is None else _should([exact, loose])

    def with_filters(self, match: tantivy.Query | None, f: Filters, kind: str
                     ) -> tantivy.Query:
        """Entries of one kind (passage or doc) that match and pass the filters. Filters are
        term-set and range queries: values are data, never parsed as syntax."""
        clauses = [(Occur.Must, Q.term_query(self.schema, "kind", kind))]
        if match is not None:
            clauses.append((Occur.Must, match))
        for field, values in (("themes", f.themes), ("departements", f.departements),
                              ("doc_type", f.doc_types), ("source", f.sources),
                              ("doc_id", f.doc_ids)):
            if values:
                clauses.append((Occur.Must, Q.term_set_query(self.schema, field, list(values))))
        if f.year_from is not None or f.year_to is not None:
            clauses.append((Occur.Must, Q.range_query(
                self.schema, "year", tantivy.FieldType.Integer, f.year_from, f.year_to)))
        return Q.boolean_query(clauses)


def fuse(keyword: list[tuple[str, float]], semantic: list[tuple[str, float]], ratio: float,
         rrf_k: int = DEFAULT_RANKING.rrf_k) -> list[tuple[str, float]]:
    """Reciprocal rank fusion, the semantic ratio weighting the meaning side."""
    scores: dict[str, float] = defaultdict(float)
    for rank, (doc_id, _) in enumerate(keyword):
        scores[doc_id] += (1 - ratio) / (rrf_k + rank + 1)
    for rank, (doc_id, _) in enumerate(semantic):
        scores[doc_id] += ratio / (rrf_k + rank + 1)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
