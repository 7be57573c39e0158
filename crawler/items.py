"""What spiders yield. Spiders never store or index: pipelines do."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ArticleItem:
    url: str
    title: str
    published: str | None
    categories: list[str]
    summary: str
    body_html: str
    documents: list[str] = field(default_factory=list)  # document URLs it links to


@dataclass
class DocumentItem:
    url: str  # the URL the article linked to
    final_url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    referrer: str | None = None
    link_text: str | None = None
    error: str | None = None
