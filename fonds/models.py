"""Records shared by every stage: documents, observations of them, runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import unquote


class DocStatus(StrEnum):
    ACTIVE = "active"  # present at its source (or imported) and kept
    GONE = "gone"  # absent from its source for several runs; file and record kept
    FAILED = "failed"  # could not be fetched or is not a usable document


class ExtractionStatus(StrEnum):
    PENDING = "pending"  # new or changed since the last ingest
    OK = "ok"
    PARTIAL = "partial"  # some pages without usable text
    NO_TEXT = "no_text"  # « texte non extractible »: findable by title and metadata only
    FAILED = "failed"


class FailureKind(StrEnum):
    """Why an extraction failed: the file itself, or a cause that may go away."""

    DOCUMENT = "document"  # broken, encrypted, empty...: retried only on request
    TRANSIENT = "transient"  # timeout, crashed worker, lost file: retried by the next ingest


class RunKind(StrEnum):
    CRAWL = "crawl"
    INGEST = "ingest"
    IMPORT = "import"
    REINDEX = "reindex"


class Outcome(StrEnum):
    """What recording an observation did to the catalog."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class Observation:
    """One document seen at one URL, by a crawl or an import.

    sha256 is None when the content could not be obtained (404, unreadable file):
    the URL is still recorded, as failed, with its error.
    """

    url: str
    sha256: str | None = None
    file_path: str | None = None  # relative to the data dir
    media_type: str | None = None
    size: int | None = None
    title: str | None = None
    source: str | None = None
    doc_type: str | None = None
    themes: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()
    published: str | None = None  # ISO date
    error: str | None = None
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Link:
    """An article that links a document: the context a bare PDF lacks."""

    article_url: str
    article_title: str = ""
    link_text: str = ""
    themes: tuple[str, ...] = ()  # the article's categories, as theme names
    article_date: str | None = None  # ISO date of the article


@dataclass(frozen=True)
class Document:
    id: str
    canonical_url: str
    urls: tuple[str, ...]
    sha256: str | None
    file_path: str | None
    media_type: str | None
    size: int | None
    title: str | None
    source: str | None
    doc_type: str | None
    themes: tuple[str, ...]
    departements: tuple[str, ...]
    published: str | None
    first_seen: str
    last_seen: str
    status: DocStatus
    extraction_status: ExtractionStatus
    error: str | None
    meta: Mapping[str, object]
    # Filled by the ingest stage: what it found, and the version of the file it read.
    ingested_sha256: str | None = None
    indexed: bool = False
    pages: int | None = None
    language: str | None = None
    notes: tuple[str, ...] = ()
    auto_title: str | None = None
    auto_themes: tuple[str, ...] = ()
    auto_departements: tuple[str, ...] = ()
    auto_doc_type: str | None = None
    auto_published: str | None = None
    failure_kind: FailureKind | None = None
    failed_attempts: int = 0

    # What users see: the source's values win, the ingest's guesses fill the gaps. The
    # title is the one exception: the ingest chooses it (ingest/titles.py) from the source's
    # title, the file's own and the links to it, so auto_title comes first.
    @property
    def display_title(self) -> str:
        name = str(self.meta.get("file_name") or "") or self.canonical_url
        return self.auto_title or self.title or readable_file_name(name)

    @property
    def all_themes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.themes, *self.auto_themes]))

    @property
    def all_departements(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.departements, *self.auto_departements]))

    @property
    def display_doc_type(self) -> str:
        return self.doc_type or self.auto_doc_type or "document"

    @property
    def display_date(self) -> str | None:
        return self.published or self.auto_published

    @property
    def needs_ingest(self) -> bool:
        return self.status is DocStatus.ACTIVE and (
            self.ingested_sha256 != self.sha256 or self.extraction_status is
            ExtractionStatus.PENDING)


@dataclass(frozen=True)
class PassageRecord:
    """A passage as the catalog keeps it (the index holds a derived copy)."""

    id: str
    doc_id: str
    position: int
    page: int | None
    heading: str
    text: str
    text_hash: str
    ocr: bool = False
    # (character offset in text, page) where each later page starts inside the passage
    page_breaks: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page of the character at `offset` (a snippet's start)."""
        return page_at(self.page, self.page_breaks, offset)


def page_at(page: int | None, breaks: tuple[tuple[int, int], ...], offset: int) -> int | None:
    """The page of a character of a passage: its start page, moved by each break before it."""
    for start, number in breaks:
        if offset < start:
            break
        page = number
    return page


def readable_file_name(name: str) -> str:
    """« anct_kit-aidants%20connect.pdf » → « Anct kit aidants connect »: the last resort
    for a title, when neither the source nor the file has one."""
    stem = unquote(name.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1])
    stem = re.sub(r"\.[A-Za-z0-9]{2,5}$", "", stem)
    words = " ".join(re.sub(r"[_+\-]+|(?<![0-9])\.(?![0-9])", " ", stem).split())
    return (words[:1].upper() + words[1:]) if words else "Document sans titre"


@dataclass(frozen=True)
class Run:
    id: int
    kind: RunKind
    started: str
    finished: str | None  # None: still running, or killed
    counts: Mapping[str, int]
    errors: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "kind": str(self.kind),
            "started": self.started,
            "finished": self.finished,
            "counts": dict(self.counts),
            "errors": list(self.errors),
        }
