"""What a query's words match, as sets of documents (numpy masks over the doc table).

One tantivy search per query word (slot) collects the documents whose document entry holds
it, typos allowed; any word, every word and the partial notice are then numpy on these
masks. A mask depends only on the word and the commit, so masks are kept per doc table (a
commit makes a new one) in a bounded LRU: typing « conseils », then « conseils citoyens »,
reads « conseils » once, as a search engine's filter cache would.
"""

from __future__ import annotations

import operator
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
import tantivy

from fonds import french
from fonds.engines import ranking
from fonds.engines.doctable import DocTable
from fonds.engines.embedded.page import Run
from fonds.engines.embedded.schema import DOC
from fonds.query import Slot, Term

CACHE_BYTES = 64 * 2**20  # masks kept per commit: 1,300 words at 50,000 documents
IN_DOMAIN_NEEDS_EVERY_WORD = True


class MaskCache:
    """Slot → documents mask, least recently used dropped beyond CACHE_BYTES."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._masks: OrderedDict[Slot, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # Streamlit searches in several threads
        self.enabled = True

    def get(self, slot: Slot) -> np.ndarray | None:
        with self._lock:
            mask = self._masks.get(slot)
            if mask is not None:
                self._masks.move_to_end(slot)
            return mask

    def put(self, slot: Slot, mask: np.ndarray) -> None:
        if not self.enabled or mask.nbytes > self.budget:
            return
        mask.flags.writeable = False  # shared between searches: never changed in place
        with self._lock:
            if slot in self._masks:
                return
            self._masks[slot] = mask
            self._bytes += mask.nbytes
            while self._bytes > self.budget:
                _, dropped = self._masks.popitem(last=False)
                self._bytes -= dropped.nbytes

    def clear(self) -> None:
        with self._lock:
            self._masks.clear()
            self._bytes = 0


_CACHES: weakref.WeakKeyDictionary[DocTable, MaskCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()
_ENABLED = [True]


def cache_of(table: DocTable) -> MaskCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(table)
        if cache is None:
            cache = _CACHES[table] = MaskCache()
        cache.enabled = _ENABLED[0]
        return cache


def use_cache(enabled: bool) -> None:
    """Switch the mask cache (the bench measures searches without it too)."""
    _ENABLED[0] = enabled
    with _CACHES_LOCK:
        for cache in _CACHES.values():
            cache.clear()
            cache.enabled = enabled


def _entries(run: Run, query: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([
        (tantivy.Occur.Must, tantivy.Query.term_query(run.gen.schema, "kind", DOC)),
        (tantivy.Occur.Must, query)])


def doc_mask(run: Run, query: tantivy.Query) -> np.ndarray:
    """Documents whose document entry matches a query. Ordered by the doc_ord fast field:
    no BM25 scoring, and each hit carries its document's number, so no second lookup."""
    table = run.gen.table
    mask = np.zeros(len(table), dtype=bool)
    hits = run.searcher.search(_entries(run, query), limit=max(len(table), 1), count=False,
                               order_by_field="doc_ord").hits
    ords = np.fromiter(map(operator.itemgetter(0), hits), dtype=np.int64, count=len(hits))
    mask[run.gen.rows_of_ords(ords)] = True
    return mask


def any_document(run: Run, query: tantivy.Query) -> bool:
    """Whether some document entry matches (a top-1 search, not a mask)."""
    return bool(run.searcher.search(_entries(run, query), limit=1, count=False).hits)


def slot_masks(run: Run, build: ranking.QueryBuilder) -> list[np.ndarray]:
    """Per slot, the documents holding it (exactly or with typos), once per search."""
    if run.slot_masks is None:
        cache = cache_of(run.gen.table)
        masks = []
        for slot in run.parsed.slots:
            mask = cache.get(slot)
            if mask is None:
                mask = doc_mask(run, build.slot_match(slot, ranking.DOCUMENT))
                cache.put(slot, mask)
            masks.append(mask)
        run.slot_masks = masks
    return run.slot_masks


def keyword_set(run: Run, build: ranking.QueryBuilder) -> tuple[np.ndarray, bool]:
    """Documents with any query word (typos allowed), when the archive has one of the words
    as typed; else only those with every word. Without that foothold the partial fallback
    is noise: « xylophone quantique » found « quantité » alone (Meilisearch, which drops
    words from the end, never keeps a lone later word either).
    Also whether the query is in the archive's domain: one of its words is there as typed
    (the similarity floor is lower then)."""
    if run.parsed.is_empty:  # browsing: every document
        return np.ones(len(run.gen.table), dtype=bool), True
    slots = slot_masks(run, build)
    any_word = np.logical_or.reduce(slots)
    if not any_word.any():
        return any_word, False
    typed = any_document(run, build.match_typed(run.parsed, ranking.DOCUMENT))
    if len(slots) == 1:
        return any_word, typed
    every = np.logical_and.reduce(slots)
    if typed:
        # In the domain when some document has every word, or (looser) a word as typed.
        return any_word, bool(every.any()) or not IN_DOMAIN_NEEDS_EVERY_WORD
    return every, False


def in_domain(run: Run, build: ranking.QueryBuilder) -> bool:
    """keyword_set's second answer without its masks (all semantic mode needs): top-1
    searches only."""
    if run.parsed.is_empty:
        return True
    if not any_document(run, build.match_typed(run.parsed, ranking.DOCUMENT)):
        return False
    if len(run.parsed.slots) == 1 or not IN_DOMAIN_NEEDS_EVERY_WORD:
        return True
    return any_document(run, build.match_all(run.parsed, ranking.DOCUMENT))


def partial(run: Run, build: ranking.QueryBuilder, allowed: np.ndarray | None
            ) -> tuple[bool, tuple[str, ...]]:
    """Whether no document (among the allowed) has every query word; then the words some
    document has, a word the archive has nowhere as typed named as the word it matched."""
    if len(run.parsed.slots) < 2:
        return False, ()
    masks = slot_masks(run, build)
    if allowed is not None:
        masks = [m & allowed for m in masks]
    if np.logical_and.reduce(masks).any() or not any(m.any() for m in masks):
        return False, ()  # every word found together, or no word at all (meaning only)
    words = tuple(" ".join(_named(t, run.corrected) for t in slot.terms)
                  for slot, mask in zip(run.parsed.slots, masks, strict=True) if mask.any())
    return True, words


def _named(term: Term, corrected: Mapping[str, str]) -> str:
    """The word a notice names: the archive's word when a typo was corrected to another
    word (« discrimnation » → « discrimination »), the typed one when both have one stem
    (« recette » found as « recettes » is « recette »)."""
    nearest = corrected.get(term.word)
    return nearest if nearest and french.stem(nearest) != term.stem else term.word
