"""The SearchEngine protocol and the records that cross it.

Passages go in; documents come out: one hit per document with its best passages, facet
counts that count documents, and a total of matching documents.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

FACETS = ("themes", "departements", "doc_type", "source", "year")


class Mode(StrEnum):
    KEYWORD = "keyword"
    SEMANTIC = "semantic"
    HYBRID = "hybrid"


class Sort(StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"  # newest first


@dataclass(frozen=True)
class Passage:
    doc_id: str
    passage_id: str  # doc id + position: stable across re-ingests of unchanged text
    position: int
    page: int | None
    title: str
    text: str
    url: str = ""
    source: str = ""
    doc_type: str = ""
    themes: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()
    date: str | None = None  # ISO date
    heading: str = ""
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date and self.date[:4].isdigit() else None


@dataclass(frozen=True)
class Filters:
    themes: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()  # INSEE codes
    doc_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    doc_ids: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self == Filters()


NO_FILTERS = Filters()


# Hybrid search's weight of meaning against words, tuned on the dev sets (README,
# "Performance and quality"): the UI's « Mixte » and `fonds search --mode hybrid`.
DEFAULT_SEMANTIC_RATIO = 0.6


@dataclass(frozen=True)
class SearchRequest:
    query: str
    filters: Filters = NO_FILTERS
    mode: Mode = Mode.KEYWORD
    semantic_ratio: float = DEFAULT_SEMANTIC_RATIO  # hybrid: 0 = keyword only, 1 = meaning only
    sort: Sort = Sort.RELEVANCE
    offset: int = 0
    limit: int = 10
    passages_per_doc: int = 3
    facets: bool = True


@dataclass(frozen=True)
class PassageHit:
    passage_id: str
    page: int | None
    position: int
    text: str
    highlight: str  # cropped around the matches, matches between <mark> tags, the rest HTML-escaped
    score: float


@dataclass(frozen=True)
class DocHit:
    doc_id: str
    title: str
    url: str
    source: str
    doc_type: str
    themes: tuple[str, ...]
    departements: tuple[str, ...]
    date: str | None
    score: float
    passages: tuple[PassageHit, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "title": self.title, "url": self.url,
            "source": self.source, "doc_type": self.doc_type, "themes": list(self.themes),
            "departements": list(self.departements), "date": self.date,
            "score": round(self.score, 6),
            "passages": [{"page": p.page, "text": p.text, "highlight": p.highlight}
                         for p in self.passages],
        }


@dataclass(frozen=True)
class SearchResult:
    total: int  # matching documents
    hits: tuple[DocHit, ...]
    facets: Mapping[str, Mapping[str, int]]
    took_ms: float


class SearchEngine(Protocol):
    """What the CLI, the UI and the ingest need from a search engine."""

    name: str

    def apply_settings(self) -> None: ...
    def upsert(self, passages: Sequence[Passage]) -> None:
        """Replace all passages of every document present in `passages`."""
    def delete_documents(self, doc_ids: Sequence[str]) -> None: ...
    def clear(self) -> None: ...
    def count(self) -> int:
        """Number of passages."""
    def document_ids(self) -> set[str]: ...
    def search(self, request: SearchRequest, query_vector: np.ndarray | None = None
               ) -> SearchResult: ...
    def similar(self, doc_id: str, limit: int = 5, filters: Filters = NO_FILTERS
                ) -> list[DocHit]: ...
    def suggest(self, query: str) -> str | None:
        """The query with unknown words corrected from the archive's words, or None."""
    def rebuild(self) -> AbstractContextManager[SearchEngine]:
        """A fresh empty index to fill; it replaces the live one atomically on exit."""
    def meta(self) -> dict[str, Any]: ...
    def set_meta(self, meta: Mapping[str, Any]) -> None: ...
    def close(self) -> None: ...


def iter_batches(items: Sequence[Passage], size: int) -> Iterator[Sequence[Passage]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
