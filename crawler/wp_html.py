"""WordPress pages read without knowing the theme: block themes (twentytwentythree:
`h1.wp-block-post-title`, a `<time>` without class, `rel="tag"` terms,
`wp-block-query-pagination-next`) and classic ones (`h1.entry-title`, `time.published`,
`rel="category tag"`, `a.next`) alike, preferring what themes do not write: Open Graph
and JSON-LD metadata, `rel` attributes, `<time datetime>`.

Pure functions over a parsel `Selector`, tested on saved pages of both themes.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawler.items import DocumentLink

DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".odt", ".rtf", ".xls", ".xlsx", ".ods",
                     ".ppt", ".pptx", ".odp")
# Uploads that are never documents of the archive (a post's pictures, media).
MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".avif", ".bmp", ".ico",
                  ".mp3", ".mp4", ".m4a", ".ogg", ".webm", ".mov", ".wav", ".zip", ".css",
                  ".js")
CONTENT = (".entry-content", ".wp-block-post-content", "[itemprop=articleBody]",
           ".post-content", "article", "main", "body")
ARTICLE = ("article", "main", "body")
TITLES = ("h1.entry-title", "h1.wp-block-post-title", ".wp-block-post-title",
          "article h1", "main h1", "h1")
LISTING_TITLES = (".wp-block-post-title a", ".entry-title a", "article h2 a", "article h3 a",
                  ".wp-block-post-template li h2 a", ".wp-block-post-template li h3 a")
NEXT_PAGE = ("link[rel~=next]", "a[rel~=next]", "a.wp-block-query-pagination-next",
             ".wp-block-query-pagination-next a", "a.next.page-numbers", "a.next",
             ".nav-previous a", ".nav-links .next")
EARLIEST, LATEST = 1900, 2100


def absolute(base_url: str, href: str) -> str | None:
    """An http(s) URL from a link of a page, without its fragment; None for what is not
    one (« http://[::1 » makes urllib raise: one bad link must not lose the page)."""
    try:
        url = urljoin(base_url, href.strip()).split("#", 1)[0]
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def host_of(url: Any) -> str:
    """The netloc of a URL from outside; "" when it has none or does not parse."""
    try:
        return urlsplit(url).netloc if isinstance(url, str) else ""
    except ValueError:
        return ""


def iso_date(value: Any) -> str | None:
    """The ISO date of a value from outside (REST `date`, `<time datetime>`, JSON-LD);
    None for anything that is not a plausible date (never an exception)."""
    if not isinstance(value, str):
        return None
    match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
    if not match:
        return None
    try:
        day = date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return day.isoformat() if EARLIEST <= day.year <= LATEST else None


def iso_stamp(value: Any) -> str | None:
    """A last-modified stamp as the site gave it, kept only when it parses (compared for
    equality between runs, never shown)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.strip()


# Text a reader sees: not the code of a <script> or <style> inside a title or a link.
VISIBLE = ".//text()[not(ancestor::script) and not(ancestor::style)]"


def text_of(node: Selector | Iterable[Selector], sep: str = " ") -> str:
    """Visible text, spaces normalised. `sep=""` for inline text (a title whose word is
    split by markup, « <b>ur</b>gent », stays one word)."""
    nodes = [node] if isinstance(node, Selector) else list(node)
    return " ".join(sep.join(t for n in nodes for t in n.xpath(VISIBLE).getall()).split())


def plain(rendered: Any) -> str:
    """`title.rendered` of the REST API: HTML with entities (« &#8217; », « &amp; »), and
    whatever markup an editor put in a title. Read by an HTML parser, as a browser would:
    « 5 < 6 » stays, <b> goes, a <script>'s code is not text."""
    if not isinstance(rendered, str) or not rendered.strip():
        return ""
    if "<" not in rendered:
        return " ".join(html.unescape(rendered).split())
    try:
        body = Selector(text=f"<body>{rendered}</body>", type="html").xpath("//body")
        return text_of(body, sep="")
    except ValueError:
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split())


def is_document_link(url: str) -> bool:
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return False
    suffix = PurePosixPath(path).suffix
    if suffix in DOCUMENT_SUFFIXES:
        return True
    if suffix in MEDIA_SUFFIXES:
        return False
    return "/wp-content/uploads/" in path or "/telecharger/" in path


def first(selector: Selector, queries: Iterable[str]) -> Selector | None:
    for query in queries:
        found = selector.css(query)
        if found:
            return found[0]
    return None


def json_ld(selector: Selector) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object of a page (Yoast and others put `@graph` lists in it)."""
    for raw in selector.css('script[type="application/ld+json"]::text').getall():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(v for k, v in item.items() if k == "@graph")
                yield item


def _meta(selector: Selector, name: str) -> list[str]:
    return [v.strip() for v in selector.css(f'meta[property="{name}"]::attr(content), '
                                            f'meta[name="{name}"]::attr(content)').getall()
            if v.strip()]


def _ld_values(selector: Selector, key: str) -> list[str]:
    values: list[str] = []
    for item in json_ld(selector):
        value = item.get(key)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v.strip():
                values.extend(p.strip() for p in v.split(",") if p.strip())
    return values


def article_title(selector: Selector) -> str:
    heading = first(selector, TITLES)
    if heading is not None and text_of(heading, sep=""):
        return text_of(heading, sep="")
    for value in [*_meta(selector, "og:title"), *_ld_values(selector, "headline")]:
        return " ".join(value.split())
    title = text_of(selector.css("head title"))
    return re.split(r"\s+[–—|-]\s+", title)[0] if title else ""


def article_date(selector: Selector) -> str | None:
    scope = first(selector, ARTICLE) or selector
    candidates = [*_meta(selector, "article:published_time"),
                  *_ld_values(selector, "datePublished"),
                  *scope.css("time.published::attr(datetime), time::attr(datetime)").getall()]
    for value in candidates:
        found = iso_date(value)
        if found:
            return found
    return None


def article_modified(selector: Selector) -> str | None:
    for value in [*_meta(selector, "article:modified_time"),
                  *_ld_values(selector, "dateModified")]:
        found = iso_stamp(value)
        if found:
            return found
    return None


def article_terms(selector: Selector) -> list[str]:
    """Category and tag names: `rel="category"`/`rel="tag"` links of the article (block
    themes mark categories `rel="tag"` too), `article:section`, JSON-LD articleSection."""
    scope = first(selector, ARTICLE) or selector
    names = [text_of(a) for a in scope.css('a[rel~="category"], a[rel~="tag"]')]
    names += _meta(selector, "article:section") + _ld_values(selector, "articleSection")
    return list(dict.fromkeys(" ".join(n.split()) for n in names if n.strip()))


def content(selector: Selector) -> Selector:
    return first(selector, CONTENT) or selector


def summary(root: Selector, limit: int = 500) -> str:
    return " ".join(" ".join(root.css("p ::text").getall()).split())[:limit]


def document_links(root: Selector, base_url: str) -> list[DocumentLink]:
    """Links to documents in an article's content, once each (the first non-empty text
    wins: a file block has the title link, then a « Télécharger » button)."""
    found: dict[str, str] = {}
    for anchor in root.css("a[href]"):
        # Only href is read: `.attrib` builds every attribute, and lxml raises on a
        # hostile attribute name (`<a href="x" {"@graph":>`), which lost the whole page.
        href = (anchor.xpath("@href").get() or "").strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        url = absolute(base_url, href)
        if url is None or not is_document_link(url):
            continue
        if not found.get(url):
            found[url] = text_of(anchor)
    return [DocumentLink(url, text) for url, text in found.items()]


def listing_links(selector: Selector, base_url: str) -> list[str]:
    urls = []
    for query in LISTING_TITLES:
        urls += selector.css(f"{query}::attr(href)").getall()
    found = (absolute(base_url, u) for u in urls if u.strip())
    return list(dict.fromkeys(u for u in found if u))


MENUS = ("nav a", ".wp-block-navigation a", ".wp-block-page-list a", ".menu a")
NOT_ARTICLES = ("/category/", "/tag/", "/author/", "/page/", "/feed", "/wp-json", "/wp-admin",
                "/wp-login", "/wp-content/", "/comments/", "/search/")


def menu_links(selector: Selector, base_url: str) -> list[str]:
    """Pages a site links from its menus (without API or sitemap, the only way to its
    pages: listings show posts only). Archives, feeds and files are not pages."""
    home = urlsplit(base_url)
    found = []
    for query in MENUS:
        for href in selector.css(f"{query}::attr(href)").getall():
            url = absolute(base_url, href)
            if url is None:
                continue
            parts = urlsplit(url)
            if (parts.netloc == home.netloc and parts.path.strip("/") and not parts.query
                    and not any(n in parts.path for n in NOT_ARTICLES)
                    and not is_document_link(url)):
                found.append(url)
    return list(dict.fromkeys(found))


def next_page(selector: Selector, base_url: str) -> str | None:
    for query in NEXT_PAGE:
        href = selector.css(f"{query}::attr(href)").get()
        url = absolute(base_url, href) if href and href.strip() else None
        if url:
            return url
    return None
