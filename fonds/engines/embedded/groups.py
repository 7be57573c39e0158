"""Near-duplicate groups at search time: a group is counted once and shown once.

Each document entry records its group (fonds/fold.py, assigned when it was indexed). Here
the groups become codes over the doc table, so that a total counts distinct groups, a facet
value counts the groups with a copy carrying it (what choosing it would give), and a ranked
list keeps the best-ranked copy of each group with the others as its copies.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping

import numpy as np

from fonds.engines.base import FACETS, Copy
from fonds.engines.doctable import DocTable
from fonds.engines.embedded.schema import DocInfo

Ranked = list[tuple[str, float]]


class Groups:
    def __init__(self, table: DocTable, docs: Mapping[str, DocInfo]) -> None:
        keys = [docs[d].group if d in docs else d for d in table.ids]
        names, codes = np.unique(np.array(keys, dtype=object), return_inverse=True) if (
            keys) else (np.array([], dtype=object), np.zeros(0, dtype=np.int64))
        self.codes = np.asarray(codes, dtype=np.int64)
        self.size = len(names)
        self.table = table
        # Documents with another copy: the only ones folding changes anything for.
        self.shared = np.bincount(self.codes, minlength=self.size)[self.codes] > 1
        by_code: dict[int, list[str]] = {}
        for position in np.flatnonzero(self.shared):
            by_code.setdefault(int(self.codes[position]), []).append(table.ids[position])
        # Only groups of several copies, each listed oldest first (then by id).
        self.members = {code: [docs[d].copy() for d in sorted(
            ids, key=lambda d: (docs[d].date or "9999", d))] for code, ids in by_code.items()}

    def count(self, mask: np.ndarray) -> int:
        """Distinct groups among the documents of a mask."""
        shared = mask & self.shared
        return int(np.count_nonzero(mask & ~self.shared)) + len(np.unique(self.codes[shared]))

    def facet_counts(self, chosen: np.ndarray) -> dict[str, dict[str, int]]:
        """As DocTable.facet_counts_mask, counting groups: a value counts a group once
        whichever of its copies carry it."""
        shared = chosen & self.shared
        if not shared.any():
            return self.table.facet_counts_mask(chosen)
        result = self.table.facet_counts_mask(chosen & ~self.shared)
        for facet in FACETS:
            docs, values = self.table.columns[facet]
            width = max(len(self.table.values[facet]), 1)
            keep = shared[docs]
            pairs = np.unique(self.codes[docs[keep]] * width + values[keep])
            counts = np.bincount(pairs % width, minlength=width)
            merged = dict(result[facet])
            for i in np.flatnonzero(counts):
                value = self.table.values[facet][i]
                merged[value] = merged.get(value, 0) + int(counts[i])
            result[facet] = dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))
        return result

    def group_of(self, doc_id: str) -> int | None:
        position = self.table.index.get(doc_id)
        return int(self.codes[position]) if position is not None else None

    def fold(self, ranked: Ranked, limit: int | None = None
             ) -> tuple[Ranked, dict[str, tuple[Copy, ...]]]:
        """The best-ranked copy of each group, in order (the first `limit` of them), and
        the other copies of each."""
        if not self.members:
            return ranked[:limit], {}
        seen: set[int] = set()
        out: Ranked = []
        copies: dict[str, tuple[Copy, ...]] = {}
        index = self.table.index
        for doc_id, score in ranked:
            if limit is not None and len(out) >= limit:
                break
            position = index.get(doc_id)
            if position is not None and self.shared[position]:
                code = int(self.codes[position])
                if code in seen:
                    continue
                seen.add(code)
                copies[doc_id] = tuple(c for c in self.members[code] if c.doc_id != doc_id)
            out.append((doc_id, score))
        return out, copies


def ranking(groups: Groups | None, rank: Callable[[int], Ranked], end: int, total: int,
            docs_found: int) -> tuple[Ranked, dict[str, tuple[Copy, ...]]]:
    """The first `end` results of `rank(depth)` (at least `depth` documents best first),
    folded: read deeper while copies folded away leave the page short."""
    if not end:
        return [], {}
    depth = end
    while True:
        ranked = rank(depth)
        if groups is None:
            return ranked, {}
        folded, copies = groups.fold(ranked, end)
        if len(folded) >= min(end, total) or depth >= docs_found:
            return folded, copies
        depth = min(depth * 4, docs_found)


def facet_counts(groups: Groups | None, table: DocTable, chosen: np.ndarray
                 ) -> dict[str, dict[str, int]]:
    return groups.facet_counts(chosen) if groups is not None else table.facet_counts_mask(chosen)


def others(groups: Groups | None, doc_id: str, ranked: Ranked, limit: int
           ) -> tuple[Ranked, dict[str, tuple[Copy, ...]]]:
    """Documents similar to one but its own copies, each group once (`limit` of them)."""
    if groups is None:
        return ranked[:limit], {}
    own = groups.group_of(doc_id)
    return groups.fold([(d, s) for d, s in ranked if groups.group_of(d) != own], limit)


_CACHE: weakref.WeakKeyDictionary[DocTable, Groups] = weakref.WeakKeyDictionary()


def of(table: DocTable, docs: Mapping[str, DocInfo]) -> Groups:
    """The groups of a generation's documents, computed once per commit (a refresh makes a
    new doc table)."""
    groups = _CACHE.get(table)
    if groups is None:
        groups = _CACHE[table] = Groups(table, docs)
    return groups
