"""The WordPress REST API (`/wp-json/wp/v2/posts|pages`): everything an article needs,
whatever the theme — title, dates, link, content (its document links) and term names.

Pure functions over decoded JSON; every value from the site is checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from crawler.wp_html import absolute, host_of, iso_date, iso_stamp, plain

KINDS = ("posts", "pages")
PER_PAGE = 100  # the API's maximum: 120 posts are 2 requests
MAX_PAGES = 1000  # X-WP-TotalPages from outside: bounded


@dataclass(frozen=True)
class Post:
    url: str
    title: str
    published: str | None
    modified: str | None
    content_html: str | None  # None: the API did not give it (fetch the page instead)
    terms: tuple[str, ...]  # category and tag names
    kind: str  # post or page


def api_url(base_url: str, kind: str, page: int = 1, pretty: bool = True) -> str:
    """Page `page` of posts or pages, terms embedded (no second lookup for their names).
    `pretty=False`: the `?rest_route=` form, for sites without pretty permalinks."""
    params = {"per_page": str(PER_PAGE), "page": str(page), "_embed": "wp:term"}
    if pretty:
        return f"{base_url}/wp-json/wp/v2/{kind}?{urlencode(params)}"
    return f"{base_url}/?{urlencode({'rest_route': f'/wp/v2/{kind}', **params})}"


def with_page(url: str, page: int) -> str:
    """The same API URL at another page: only the `page` parameter changes (a regex on
    « page=N » also rewrote « per_page=N »)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    query.append(("page", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def page_of(url: str) -> int:
    for key, value in parse_qsl(urlsplit(url).query):
        if key == "page" and value.isascii() and value.isdigit():
            return int(value)
    return 1


def total_pages(header: bytes | None) -> int:
    """X-WP-TotalPages, bounded; a missing or garbled header means one page."""
    text = (header or b"").decode("latin-1").strip()
    # isdigit alone accepts « ¹ » and other digits int() refuses
    return max(1, min(int(text), MAX_PAGES)) if text.isascii() and text.isdigit() else 1


def _rendered(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("rendered"), str):
        return str(value["rendered"])
    return None


def embedded_terms(post: Mapping[str, Any]) -> list[str] | None:
    """Names of the post's categories and tags from `_embed` (None: not embedded)."""
    embedded = post.get("_embedded")
    groups = embedded.get("wp:term") if isinstance(embedded, Mapping) else None
    if not isinstance(groups, list):
        return None
    names = []
    for group in groups:
        for term in group if isinstance(group, list) else []:
            if (isinstance(term, Mapping) and term.get("taxonomy") in ("category", "post_tag")
                    and isinstance(term.get("name"), str)):
                names.append(plain(term["name"]))
    return names


def term_ids(post: Mapping[str, Any]) -> list[int]:
    ids = []
    for key in ("categories", "tags"):
        value = post.get(key)
        ids += [i for i in value if isinstance(i, int)] if isinstance(value, list) else []
    return ids


def term_names(answer: Any) -> dict[int, str]:
    """/wp/v2/categories (or tags): id → name."""
    names = {}
    for term in answer if isinstance(answer, list) else []:
        if isinstance(term, Mapping) and isinstance(term.get("id"), int) and isinstance(
                term.get("name"), str):
            names[term["id"]] = plain(term["name"])
    return names


def parse_post(post: Any, names: Mapping[int, str], base_url: str) -> Post | None:
    """One entry of a posts/pages answer; None when it has no usable link on the site."""
    if not isinstance(post, Mapping):
        return None
    link = post.get("link")
    if not isinstance(link, str) or absolute(base_url, link) != link.split("#", 1)[0]:
        return None
    if host_of(link) != host_of(base_url):
        return None  # a post whose link leads elsewhere is not this site's page
    terms = embedded_terms(post)
    if terms is None:
        terms = [names[i] for i in term_ids(post) if i in names]
    title = plain(_rendered(post.get("title")) or "")
    kind = "page" if post.get("type") == "page" else "post"
    return Post(url=link, title=title, published=iso_date(post.get("date")),
                modified=iso_stamp(post.get("modified")),
                content_html=_rendered(post.get("content")),
                terms=tuple(dict.fromkeys(t for t in terms if t)), kind=kind)


def needs_names(posts: list[Any]) -> bool:
    """Posts that carry term ids but not their names (no `_embed` support)."""
    return any(isinstance(p, Mapping) and embedded_terms(p) is None and term_ids(p)
               for p in posts)
