"""Near-duplicate groups at search time: a group is counted once and shown once.

Each document entry records its group (fonds/fold.py, assigned when it was indexed). Here
the groups become codes over the doc table, so that a total counts distinct groups, a facet
value counts the groups with a copy carrying it (what choosing it would give), and a ranked
list keeps the best-ranked copy of each group with the others as its copies.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping

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
        by_code: dict[int, list[str]] = {}
        for position in np.flatnonzero(np.bincount(self.codes, minlength=self.size)[self.codes]
                                       > 1):
            by_code.setdefault(int(self.codes[position]), []).append(table.ids[position])
        # Only groups of several copies, each listed oldest first (then by id).
        self.members = {code: [docs[d].copy() for d in sorted(
            ids, key=lambda d: (docs[d].date or "9999", d))] for code, ids in by_code.items()}

    @property
    def folds_anything(self) -> bool:
        return bool(self.members)

    def count(self, mask: np.ndarray) -> int:
        """Distinct groups among the documents of a mask."""
        if not self.members:
            return int(mask.sum())
        return int(np.count_nonzero(np.bincount(self.codes[mask], minlength=self.size)))

    def facet_counts(self, chosen: np.ndarray) -> dict[str, dict[str, int]]:
        """As DocTable.facet_counts_mask, counting groups: a value counts a group once
        whichever of its copies carry it."""
        if not self.members:
            return self.table.facet_counts_mask(chosen)
        result = {}
        for facet in FACETS:
            docs, values = self.table.columns[facet]
            width = max(len(self.table.values[facet]), 1)
            keep = chosen[docs]
            pairs = np.unique(self.codes[docs[keep]] * width + values[keep])
            counts = np.bincount(pairs % width, minlength=width)
            found = [(self.table.values[facet][i], int(counts[i]))
                     for i in np.flatnonzero(counts)]
            result[facet] = dict(sorted(found, key=lambda kv: (-kv[1], kv[0])))
        return result

    def group_of(self, doc_id: str) -> int | None:
        position = self.table.index.get(doc_id)
        return int(self.codes[position]) if position is not None else None

    def fold(self, ranked: Ranked) -> tuple[Ranked, dict[str, tuple[Copy, ...]]]:
        """The best-ranked copy of each group, in order, and the other copies of each."""
        if not self.members:
            return ranked, {}
        seen: set[int] = set()
        out: Ranked = []
        copies: dict[str, tuple[Copy, ...]] = {}
        for doc_id, score in ranked:
            code = self.group_of(doc_id)
            if code is not None:
                if code in seen:
                    continue
                seen.add(code)
                if code in self.members:
                    copies[doc_id] = tuple(c for c in self.members[code] if c.doc_id != doc_id)
            out.append((doc_id, score))
        return out, copies


_CACHE: weakref.WeakKeyDictionary[DocTable, Groups] = weakref.WeakKeyDictionary()


def of(table: DocTable, docs: Mapping[str, DocInfo]) -> Groups:
    """The groups of a generation's documents, computed once per commit (a refresh makes a
    new doc table)."""
    groups = _CACHE.get(table)
    if groups is None:
        groups = _CACHE[table] = Groups(table, docs)
    return groups
