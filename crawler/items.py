"""What spiders yield. Spiders never store or index: pipelines do.

Everything the pipeline needs travels in the items (the article a document was linked
from rides with the document), so the pipeline never reads spider state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fonds.models import Link


def theme_of(category: str) -> str:
    """Category names of the resource centre are the taxonomy's themes, in lower case."""
    return " ".join(category.split()).lower()


@dataclass(frozen=True)
class DocumentLink:
    """A link from an article to a document, as found in the article's content."""

    url: str
    text: str


@dataclass
class ArticleItem:
    url: str
    title: str
    published: str | None  # ISO date
    categories: list[str]
    summary: str
    body_html: str
    documents: list[DocumentLink] = field(default_factory=list)
    modified: str | None = None  # the site's own last-modified stamp (REST `modified`)
    kind: str = "post"  # post or page

    def link(self, document: DocumentLink) -> Link:
        return Link(article_url=self.url, article_title=self.title, link_text=document.text,
                    themes=tuple(theme_of(c) for c in self.categories),
                    article_date=self.published)


@dataclass
class DocumentItem:
    url: str  # the URL the article linked to
    final_url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    link: Link | None = None  # the article that linked it (first seen this run)
    error: str | None = None


@dataclass(frozen=True)
class DiscoveryItem:
    """One discovery request (API page, sitemap, listing) and how it went: the pipeline
    decides from these whether the run saw the site (healthy), part of it, or nothing."""

    url: str
    kind: str  # api, sitemap, listing
    ok: bool
    articles: int = 0  # articles (or sitemap entries) it led to
    error: str | None = None  # French; None when ok or merely absent
    optional: bool = False  # a probe whose absence (404) is normal: not an error
