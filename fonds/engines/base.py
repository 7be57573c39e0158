"""The SearchEngine protocol and the records that cross it.

Passages go in; documents come out: one hit per document with its best passages, facet
counts that count documents, and a total of matching documents.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

FACETS = ("themes", "departements", "doc_type", "source", "year")
# Facet name → the Filters attribute that filters on it (year is a range).
FILTER_OF_FACET = {"themes": "themes", "departements": "departements",
                   "doc_type": "doc_types", "source": "sources"}

# Deepest result a search ranks: offset + limit beyond it answers an empty page. Every
# candidate list is sized from this, never from a number a user sent.
MAX_WINDOW = 1000
MAX_PASSAGES_PER_DOC = 10
# Years a filter can name; anything beyond matches nothing, as it would (dates are ISO).
MIN_YEAR, MAX_YEAR = 0, 10_000
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def iso_date(value: object) -> str | None:
    """An ISO date (YYYY, YYYY-MM or YYYY-MM-DD, a real calendar day) or None: what an
    engine may store. A datetime keeps its date; anything else is no date."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    found = _ISO_DATE.match(value.strip())
    if found is None:
        return None
    rest = value.strip()[found.end():]
    if rest and not (rest[0] in "T " and found.group(3)):
        return None  # « 2020-05-12T10:00 » keeps its day; « 2020/05/12 » is not a date
    year, month, day = found.groups()
    try:
        if day:
            return datetime.date(int(year), int(month), int(day)).isoformat()
        if month:
            datetime.date(int(year), int(month), 1)
            return f"{year}-{month}"
        return year if int(year) > 0 else None
    except ValueError:
        return None


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
    date: str | None = None  # ISO date; anything else is dropped at construction
    heading: str = ""
    # (offset, page) where a later page starts inside the text: a snippet's own page
    page_breaks: tuple[tuple[int, int], ...] = ()
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # A date from a page or a record is data: a non-ISO one must not reach an index.
        object.__setattr__(self, "date", iso_date(self.date))

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date else None

    @property
    def date_key(self) -> int:
        """YYYYMMDD as a number (missing parts are 0), for sorting by date; 0 without date."""
        if not self.date:
            return 0
        return int(self.date.replace("-", "").ljust(8, "0"))


@dataclass(frozen=True)
class Filters:
    themes: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()  # INSEE codes
    doc_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    doc_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Years beyond what a date can hold match nothing, as they would: clamped, so that
        # no engine is handed a number it cannot represent.
        for name in ("year_from", "year_to"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{name} doit être une année entière, pas {value!r}")
                object.__setattr__(self, name, min(max(value, MIN_YEAR), MAX_YEAR))

    @property
    def is_empty(self) -> bool:
        return self == Filters()

    def without(self, facet: str) -> Filters:
        """These filters but those on one facet: what a disjunctive facet counts with."""
        if facet == "year":
            return dataclasses.replace(self, year_from=None, year_to=None)
        changes: dict[str, Any] = {FILTER_OF_FACET[facet]: ()}
        return dataclasses.replace(self, **changes)

    def on(self, facet: str) -> bool:
        if facet == "year":
            return self.year_from is not None or self.year_to is not None
        return bool(getattr(self, FILTER_OF_FACET[facet]))


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

    def __post_init__(self) -> None:
        # The record is the engines' edge: every number is checked here, whoever built it.
        for name in ("offset", "limit", "passages_per_doc"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} doit être un entier positif, pas {value!r}")
        if not isinstance(self.semantic_ratio, int | float) or not (
                math.isfinite(self.semantic_ratio) and 0 <= self.semantic_ratio <= 1):
            raise ValueError(f"semantic_ratio doit être entre 0 et 1, pas {self.semantic_ratio!r}")
        object.__setattr__(self, "limit", min(self.limit, MAX_WINDOW))
        object.__setattr__(self, "passages_per_doc",
                           min(self.passages_per_doc, MAX_PASSAGES_PER_DOC))

    @property
    def window(self) -> tuple[int, int]:
        """(start, end) of the page within the ranked window; empty beyond MAX_WINDOW."""
        start = min(self.offset, MAX_WINDOW)
        return start, min(start + self.limit, MAX_WINDOW)


@dataclass(frozen=True)
class PassageHit:
    passage_id: str
    page: int | None
    position: int
    text: str
    highlight: str  # cropped around the matches, matches between <mark> tags, the rest HTML-escaped
    score: float


@dataclass(frozen=True)
class DocFields:
    """What a result shows of its document: the same on each of its passages."""

    doc_id: str
    title: str
    url: str
    source: str
    doc_type: str
    themes: tuple[str, ...]
    departements: tuple[str, ...]
    date: str | None
    # The near-duplicate group (fonds/fold.py): copies of one publication share it; empty
    # when the engine has none (the document is its own group).
    fold: str = field(default="", kw_only=True)

    @property
    def group(self) -> str:
        return self.fold or self.doc_id

    def copy(self) -> Copy:
        return Copy(self.doc_id, self.url, self.source, self.date)

    def hit(self, score: float, passages: tuple[PassageHit, ...],
            copies: tuple[Copy, ...] = ()) -> DocHit:
        shown = {f.name: getattr(self, f.name) for f in fields(DocFields)}
        return DocHit(**shown, score=score, passages=passages, copies=copies)


@dataclass(frozen=True)
class Copy:
    """Another publication of a result's document (a near-duplicate folded into it)."""

    doc_id: str
    url: str
    source: str
    date: str | None

    def as_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "url": self.url, "source": self.source,
                "date": self.date}


@dataclass(frozen=True)
class DocHit(DocFields):
    score: float
    passages: tuple[PassageHit, ...]
    # The other copies of this document the engine folded into this result, oldest first.
    copies: tuple[Copy, ...] = field(default=(), kw_only=True)

    def as_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "title": self.title, "url": self.url,
            "source": self.source, "doc_type": self.doc_type, "themes": list(self.themes),
            "departements": list(self.departements), "date": self.date,
            "score": round(self.score, 6),
            "passages": [{"page": p.page, "text": p.text, "highlight": p.highlight}
                         for p in self.passages],
            "copies": [c.as_json() for c in self.copies],
        }


@dataclass(frozen=True)
class SearchResult:
    """`total` counts the matching documents one can page through (up to MAX_WINDOW of
    them are ranked), the same definition in every mode, whatever the page asked.
    `matched_words` are the query words the keyword side matched when no document has them
    all (`partial`); otherwise empty. `years` is the archive's (first, last) year."""

    total: int
    hits: tuple[DocHit, ...]
    facets: Mapping[str, Mapping[str, int]]
    took_ms: float
    partial: bool = False
    matched_words: tuple[str, ...] = ()
    years: tuple[int, int] | None = None


class SearchEngine(Protocol):
    """What the CLI, the UI and the ingest need from a search engine: only what both engines
    do alike (engine-specific helpers, such as clearing an index, stay on the classes)."""

    # False when `suggest` can only answer None (the UI then offers no « Vouliez-vous dire »).
    suggests: bool

    def ensure_index(self, dimensions: int | None) -> None:
        """The index exists, with its settings (vectors of `dimensions`, or none)."""
    def upsert(self, passages: Sequence[Passage]) -> None:
        """Replace all passages of every document present in `passages`."""
    def delete_documents(self, doc_ids: Sequence[str]) -> None: ...
    def count(self) -> int:
        """Number of passages."""
    def document_ids(self) -> set[str]: ...
    def search(self, request: SearchRequest, query_vector: np.ndarray | None = None
               ) -> SearchResult: ...
    def similar(self, doc_id: str, limit: int = 5) -> list[DocHit]:
        """Documents nearest the mean of this document's passage vectors (its title's words
        without vectors), above the similarity floor; never the document itself."""
    def suggest(self, query: str) -> str | None:
        """The query with unknown words corrected from the archive's words, or None."""
    def rebuild(self) -> AbstractContextManager[SearchEngine]:
        """A fresh empty index to fill; it replaces the live one atomically on exit."""
    def meta(self) -> dict[str, Any]: ...
    def set_meta(self, meta: Mapping[str, Any]) -> None: ...
    def close(self) -> None: ...
