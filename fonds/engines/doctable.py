"""Document-level fields as numpy columns: filters and facet counts without Python loops.

Facet values are the same on every passage of a document, so counting documents per
value is a bincount over the matched documents, whatever the number of passages.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from fonds.engines.base import FACETS, FILTER_OF_FACET, Filters


class DocTable:
    def __init__(self, rows: Iterable[tuple[str, dict[str, tuple[str, ...]], int | None]]) -> None:
        """rows: (doc id, {facet: values}, year)."""
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        pairs: dict[str, tuple[list[int], list[int]]] = {f: ([], []) for f in FACETS}
        self.values: dict[str, list[str]] = {f: [] for f in FACETS}
        self.value_index: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        years = []
        for doc_id, facets, year in rows:
            position = len(self.ids)
            self.ids.append(doc_id)
            self.index[doc_id] = position
            years.append(year or 0)
            for facet in FACETS:
                for value in facets.get(facet, ()):
                    ids = self.value_index[facet]
                    if value not in ids:
                        ids[value] = len(self.values[facet])
                        self.values[facet].append(value)
                    pairs[facet][0].append(position)
                    pairs[facet][1].append(ids[value])
        self.columns = {f: (np.array(d, dtype=np.int32), np.array(v, dtype=np.int32))
                        for f, (d, v) in pairs.items()}
        self.years = np.array(years, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, filters: Filters) -> np.ndarray | None:
        """Documents passing the filters; None when there are no filters."""
        if filters.is_empty:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        for facet, attr in FILTER_OF_FACET.items():
            wanted = getattr(filters, attr)
            if not wanted:
                continue
            ids = [self.value_index[facet][v] for v in wanted if v in self.value_index[facet]]
            docs, values = self.columns[facet]
            has = np.zeros(len(self.ids), dtype=bool)
            has[docs[np.isin(values, np.array(ids, dtype=np.int32))]] = True
            mask &= has
        if filters.doc_ids:
            has = np.zeros(len(self.ids), dtype=bool)
            has[[self.index[d] for d in filters.doc_ids if d in self.index]] = True
            mask &= has
        if filters.year_from is not None:
            mask &= (self.years >= filters.year_from) & (self.years > 0)
        if filters.year_to is not None:
            mask &= (self.years <= filters.year_to) & (self.years > 0)
        return mask

    def facet_counts_mask(self, chosen: np.ndarray) -> dict[str, dict[str, int]]:
        """Documents per value of every facet, among the chosen documents (a mask)."""
        result = {}
        for facet in FACETS:
            docs, values = self.columns[facet]
            counts = np.bincount(values[chosen[docs]], minlength=len(self.values[facet]))
            pairs = [(self.values[facet][i], int(counts[i])) for i in np.flatnonzero(counts)]
            result[facet] = dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))
        return result
