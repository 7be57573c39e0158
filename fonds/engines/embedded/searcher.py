"""Query execution of the embedded engine: what matches, how it ranks, what a page shows.

What matches is decided once per search as a set of documents: the keyword side's matches
(any query word, typos included) and the semantic side's (a passage above the similarity
floor). Totals and facet counts are counted on these sets with the filters, in every mode
alike; ranking only orders them (tiers and BM25, cosine, or their fusion).
"""

from __future__ import annotations

import time

import numpy as np
import tantivy
from rapidfuzz import process
from rapidfuzz.distance import OSA

from fonds import french
from fonds.engines import ranking
from fonds.engines.base import (
    FACETS,
    FILTER_OF_FACET,
    MAX_WINDOW,
    DocHit,
    Filters,
    Mode,
    SearchRequest,
    SearchResult,
    Sort,
)
from fonds.engines.embedded import groups, matches, page
from fonds.engines.embedded.page import Ranked, Run, SemanticPassages
from fonds.engines.embedded.schema import PASSAGE
from fonds.engines.embedded.storage import Generation
from fonds.engines.floor import SimilarityFloor
from fonds.errors import FondsError
from fonds.query import ParsedQuery, parse, without_typos

# Passage hits read per ranked document before widening (a document has many passages).
PASSAGES_PER_DOC_GUESS = 4
MIN_PASSAGE_HITS = 40
MAX_PASSAGE_HITS = 20_000  # the widening stops here, whatever the page
# Hybrid fuses the keyword ranking this far beyond the page: a document ranked a little
# lower by words can still come up by meaning (tuned with the old engine's `need + 100`).
HYBRID_KEYWORD_MARGIN = 100
SUGGEST_CANDIDATES = 20_000  # archive words sharing a first letter, read for « did you mean »

class Searcher:
    def __init__(self, gen: Generation, config: ranking.RankingConfig, floor: SimilarityFloor,
                 fold: bool = True) -> None:
        self.gen = gen
        self.config = config
        self.floor = floor
        self.build = ranking.QueryBuilder(gen.schema, config)
        # Near-duplicates counted and shown once (the `fold_duplicates` setting).
        self.groups = groups.of(gen.table, gen.docs) if fold else None

    # -- the search ----------------------------------------------------------------------

    def search(self, request: SearchRequest, vector: np.ndarray | None) -> SearchResult:
        started = time.perf_counter()
        gen = self.gen
        parsed = parse(request.query)
        mode = request.mode
        if parsed.is_empty or (mode is Mode.HYBRID and request.semantic_ratio <= 0):
            mode = Mode.KEYWORD
        elif mode is Mode.HYBRID and request.semantic_ratio >= 1:
            mode = Mode.SEMANTIC
        if mode is not Mode.KEYWORD:
            if vector is None:
                raise FondsError("la recherche par le sens demande le vecteur de la requête")
            if len(gen.vectors) == 0:
                raise FondsError("cet index n'a pas de vecteurs : recherche par mots seulement")
        searcher = gen.index.searcher()
        # A word this archive uses often was typed right: looking for its typo variants
        # costs most of a query and only adds noise after the exact matches (the idea of
        # Typesense's typo_tokens_threshold). Rare or unknown words keep their typo budget.
        common = {t.word for t in parsed.terms()
                  if t.typos and searcher.doc_freq("exact", t.word)
                  >= self.config.typo_skip_doc_freq}
        run = Run(gen, searcher, without_typos(parsed, common), request.passages_per_doc)
        for term in parsed.terms() if mode is not Mode.SEMANTIC else ():  # words rank
            if term.typos and not searcher.doc_freq("exact", term.word):
                nearest = _nearest(gen, term.word, term.typos)
                if nearest is not None:
                    run.corrected[term.word] = nearest
        start, end = request.window

        if mode is Mode.SEMANTIC:
            keyword, in_domain = None, matches.in_domain(run, self.build)
        else:
            keyword, in_domain = matches.keyword_set(run, self.build)
        semantic = (self._semantic_set(run, vector, in_domain)
                    if mode is not Mode.KEYWORD and vector is not None else None)
        matched = _union(keyword, semantic, len(gen.table))
        allowed = gen.table.mask(request.filters)
        found = matched if allowed is None else matched & allowed
        docs_found = int(found.sum())
        total = self.groups.count(found) if self.groups is not None else docs_found
        facets = self._facets(matched, request.filters) if request.facets else {}
        partial, words = (matches.partial(run, self.build, allowed)
                          if keyword is not None and total else (False, ()))

        ranked, copies = groups.ranking(
            self.groups, lambda depth: self._ranked(run, request, mode, parsed, found, depth),
            end if end > start and total else 0, total, docs_found)
        hits = page.hits(run, self.build, ranked[start:end], copies)
        return SearchResult(total, tuple(hits), facets, _ms(started), partial=partial,
                            matched_words=words, years=gen.years)

    def _ranked(self, run: Run, request: SearchRequest, mode: Mode, parsed: ParsedQuery,
                found: np.ndarray, depth: int) -> Ranked:
        """The found documents best first, at least `depth` of them when there are."""
        if request.sort is Sort.DATE or parsed.is_empty:
            ranked = self._by_date(found, depth)
        elif mode is Mode.KEYWORD:
            ranked = self._keyword_matches(run, request.filters, found,
                                           min(depth, int(found.sum())))
        else:
            sem_ranked = self._semantic_ranked(run, found)
            if mode is Mode.SEMANTIC:
                return sem_ranked
            ranked = ranking.fuse(self._keyword_ranked(run, request.filters,
                                                       depth + HYBRID_KEYWORD_MARGIN),
                                  sem_ranked, request.semantic_ratio, self.config.rrf_k)
        # Ranking orders what matches, never adds to it.
        return [(d, s) for d, s in ranked if found[self.gen.table.index[d]]]

    # -- what matches ----------------------------------------------------------------------

    def _semantic_set(self, run: Run, vector: np.ndarray, words_found: bool = False
                      ) -> np.ndarray:
        """Documents with a passage above the floor; their passages kept for the page."""
        table = run.gen.table
        mask = np.zeros(len(table), dtype=bool)
        scores, row_docs, code_docs = run.gen.vectors.doc_scores(vector)
        if not len(scores):
            return mask
        # -1: a vector whose document is not committed (tantivy decides what is live).
        positions = run.gen.code_rows(code_docs)
        # Every document's best cosine, for ranking the union in hybrid mode: the floor
        # decides what matches, not how a keyword match ranks on meaning. Only the rows
        # scored count (an ANN search leaves the others at -inf).
        scored = np.flatnonzero(scores > -np.inf)
        best = np.full(len(code_docs), -np.inf, dtype=np.float32)
        np.maximum.at(best, row_docs[scored], scores[scored])
        run.doc_cosine = np.full(len(table), -np.inf, dtype=np.float32)
        known = positions >= 0
        run.doc_cosine[positions[known]] = best[known]
        threshold = self.floor.threshold(float(scores.max()), words_found)
        rows = scored[scores[scored] >= threshold]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        at = positions[row_docs[rows]]
        rows, at = rows[at >= 0], at[at >= 0]
        mask[at] = True
        run.semantic_passages = SemanticPassages(rows, scores[rows], at,
                                                 run.gen.vectors.passage_id, table.ids,
                                                 table.index)
        return mask

    def _facets(self, matched: np.ndarray, filters: Filters) -> dict[str, dict[str, int]]:
        """Disjunctive counts: each facet counted with the filters of the other facets, so
        a count says what choosing the value would give; selected values always show."""
        table = self.gen.table
        out: dict[str, dict[str, int]] = {}
        base: dict[str, dict[str, int]] | None = None
        for facet in FACETS:
            if filters.on(facet):
                allowed = table.mask(filters.without(facet))
                chosen = matched if allowed is None else matched & allowed
                counts = groups.facet_counts(self.groups, table, chosen)[facet]
                for value in _selected(filters, facet):
                    counts.setdefault(value, 0)
                out[facet] = counts
            else:
                if base is None:
                    allowed = table.mask(filters)
                    base = groups.facet_counts(self.groups, table, matched if allowed is None
                                               else matched & allowed)
                out[facet] = base[facet]
        return out

    # -- ranking ---------------------------------------------------------------------------

    def _by_date(self, found: np.ndarray, end: int) -> Ranked:
        docs = self.gen.docs
        ids = [self.gen.table.ids[i] for i in np.flatnonzero(found)]
        ids.sort(key=lambda d: (docs[d].date or "", d), reverse=True)
        return [(d, 0.0) for d in ids[:end]]

    def _keyword_ranked(self, run: Run, filters: Filters, need: int) -> Ranked:
        """At least `need` documents (when there are), best first, passages kept."""
        build = self.build
        run.query = build.with_filters(build.keyword(run.parsed, run.corrected), filters,
                                       PASSAGE)
        grouped = None
        # Tried only when enough documents have every word (their masks are known): else
        # the conjunction cannot fill the page and would be one search more.
        enough = run.slot_masks is None or int(
            np.logical_and.reduce(run.slot_masks).sum()) >= need
        if enough and build.every_word_first(run.parsed, run.searcher.num_docs):
            # The passages with every word rank first: as a conjunction they cost half the
            # union, and they are the whole top when there are enough of them.
            every = build.with_filters(build.keyword(run.parsed, run.corrected, every=True),
                                       filters, PASSAGE)
            grouped = self._grouped(run, every, need)
            if len(grouped) < need:
                grouped = None
        if grouped is None:
            grouped = self._grouped(run, run.query, need)
        for doc_id, items in grouped.items():
            run.keyword_passages[doc_id] = items[: run.per_doc]
        # Equal scores in document id order: tantivy breaks ties by segment, which depends
        # on how indexing threads cut them, so two builds of one catalog ranked apart.
        return sorted(((d, items[0][0]) for d, items in grouped.items()),
                      key=lambda kv: (-kv[1], kv[0]))

    def _grouped(self, run: Run, query: tantivy.Query, need: int
                 ) -> dict[str, list[tuple[float, tantivy.DocAddress]]]:
        """The best passages of `query` grouped by document, read deeper until `need`
        documents (or every hit, or MAX_PASSAGE_HITS)."""
        limit = max(need * PASSAGES_PER_DOC_GUESS, MIN_PASSAGE_HITS)
        while True:
            hits = run.searcher.search(query, limit=limit, count=False).hits
            grouped: dict[str, list[tuple[float, tantivy.DocAddress]]] = {}
            for (score, address), doc_id in zip(hits, page.doc_ids(run, hits), strict=True):
                if doc_id is not None:
                    grouped.setdefault(doc_id, []).append((score, address))
            if len(grouped) >= need or len(hits) < limit or limit >= MAX_PASSAGE_HITS:
                return grouped
            limit = min(limit * PASSAGES_PER_DOC_GUESS, MAX_PASSAGE_HITS)

    def _keyword_matches(self, run: Run, filters: Filters, found: np.ndarray, need: int
                         ) -> Ranked:
        """The keyword ranking of matching documents only (a passage can hold a lone typo
        of a document that does not match), read deeper until the page is full."""
        depth = need
        while True:
            ranked = [(d, s) for d, s in self._keyword_ranked(run, filters, depth)
                      if found[self.gen.table.index[d]]]
            if len(ranked) >= need or depth >= MAX_WINDOW * PASSAGES_PER_DOC_GUESS:
                return ranked
            depth *= PASSAGES_PER_DOC_GUESS

    def _semantic_ranked(self, run: Run, found: np.ndarray) -> Ranked:
        """The found documents by their best cosine (those above the floor in semantic
        mode; in hybrid, keyword matches below it too, so that fusion ranks them)."""
        if run.doc_cosine is None:
            return []
        cosine = np.where(found, run.doc_cosine, -np.inf)
        order = np.argsort(-cosine, kind="stable")[:MAX_WINDOW]
        ids = self.gen.table.ids
        return [(ids[i], float(cosine[i])) for i in order if np.isfinite(cosine[i])]

    # -- beside the search ---------------------------------------------------------------------

    def suggest(self, query: str) -> str | None:
        """The query with each unknown word replaced by the archive's most frequent word
        within its typo budget (« Vouliez-vous dire … ? »); None when nothing changes."""
        searcher = self.gen.index.searcher()
        changed = False
        out = []
        for word in french.words(query):
            # One typo more than search allows: within the budget, search already matched.
            budget = french.max_typos(word) + 1 if len(word) >= 4 else 0
            if not budget or word in french.stop_words() or searcher.doc_freq("exact", word):
                out.append(word)
                continue
            nearest = _nearest(self.gen, word, budget)
            out.append(nearest or word)
            changed = changed or nearest is not None
        return " ".join(out) if changed else None

    def similar(self, doc_id: str, limit: int) -> list[DocHit]:
        gen = self.gen
        if doc_id not in gen.docs or limit <= 0:
            return []
        limit = min(limit, MAX_WINDOW)
        vector = gen.vectors.doc_vector(doc_id)
        if vector is None:
            # No vectors: the words of the title stand in for meaning.
            run = Run(gen, gen.index.searcher(), parse(gen.docs[doc_id].title + " "), 1)
            ranked = [(d, s) for d, s in self._keyword_ranked(run, Filters(), limit + 1)
                      if d != doc_id]
            return page.hits(run, self.build, *groups.others(self.groups, doc_id, ranked, limit))
        run = Run(gen, gen.index.searcher(), ParsedQuery("", ()), 1)
        # A document against passages: only the absolute floor (its own passages are the
        # best match and would set a relative one).
        floor = SimilarityFloor(self.floor.absolute, relative=2.0)
        Searcher(gen, self.config, floor)._semantic_set(run, vector)
        run.semantic_passages.discard(doc_id)
        ranked = run.semantic_passages.best()
        return page.hits(run, self.build, *groups.others(self.groups, doc_id, ranked, limit))


def _nearest(gen: Generation, word: str, budget: int) -> str | None:
    """The archive's most frequent word within `budget` typos of `word` (same first
    letter: a typo there is rare and the scan stays short), or None."""
    terms, counts = gen.words_starting(word[:1], SUGGEST_CANDIDATES)
    found = process.extract(word, terms, scorer=OSA.distance, score_cutoff=budget, limit=None)
    best = min(((distance, -counts[i], term) for term, distance, i in found), default=None)
    return best[2] if best is not None else None


def _selected(filters: Filters, facet: str) -> tuple[str, ...]:
    values: tuple[str, ...] = getattr(filters, FILTER_OF_FACET[facet], ()) if (
        facet in FILTER_OF_FACET) else ()
    return values


def _union(a: np.ndarray | None, b: np.ndarray | None, size: int) -> np.ndarray:
    if a is None and b is None:
        return np.zeros(size, dtype=bool)
    if a is None:
        assert b is not None
        return b
    return a if b is None else a | b


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
