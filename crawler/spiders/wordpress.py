"""The WordPress family: a resource centre's posts and pages and the documents they link to.

Discovery through the REST API first (title, dates, terms and content of every post and
page, whatever the theme); when a site has no API, its sitemaps (core `wp-sitemap.xml`,
plugins' `sitemap_index.xml`, `sitemap.xml`), its home page and category listings with
their pagination, read without theme assumptions (crawler/wp_html.py). Documents under
wp-content/uploads and on the official sites of the allow-list, one hop from an article.

Every discovery request reports how it went (DiscoveryItem): the pipeline needs to know
whether the run saw the site before it may count anything as absent.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawler import wp_api, wp_html
from crawler.items import ArticleItem, DiscoveryItem, DocumentItem, DocumentLink
from crawler.middlewares import RequestCapReached
from crawler.sources import Source
from fonds.models import Link

# Statuses our callbacks see instead of Scrapy dropping them: every outcome is recorded.
DOCUMENT_STATUSES = [304, 400, 401, 403, 404, 410, 429, 500, 502, 503, 504]
# Discovery answers our callbacks judge themselves (redirects are still followed).
DISCOVERY_STATUSES = [s for s in DOCUMENT_STATUSES if s != 304]
SITEMAPS = ("wp-sitemap.xml", "sitemap_index.xml", "sitemap.xml")
# Sitemaps of authors and taxonomies list no article (posts sitemaps list them all).
SKIPPED_SITEMAPS = ("users", "author", "taxonomies", "category", "post_tag", "tag-sitemap")

_FAILURES = {"TimeoutError": "délai dépassé", "DNSLookupError": "nom de domaine introuvable",
             "ConnectionRefusedError": "connexion refusée",
             "ResponseFailed": "réponse tronquée ou connexion coupée",
             "ConnectionLost": "réponse tronquée ou connexion coupée",
             "PotentialDataLoss": "réponse tronquée ou connexion coupée",
             "ResponseDataLossError": "réponse tronquée ou connexion coupée"}
is_document_link = wp_html.is_document_link


def failure_reason(error: BaseException) -> str:
    """A download failure in one French line for the catalog (Scrapy's are English)."""
    text = str(error)
    if "adresse privée" in text or "hors de la liste" in text or "introuvable :" in text:
        return text[:200]
    if "robots.txt" in text:
        return "interdit par robots.txt"
    if "took longer than" in text:
        return "délai dépassé"
    if "max size" in text or "DOWNLOAD_MAXSIZE" in text:
        return "taille maximale dépassée (FONDS_MAX_FILE_MB)"
    if "max redirections" in text:
        return "trop de redirections (boucle ?)"
    name = type(error).__name__
    return _FAILURES.get(name) or text[:200] or name


def page_html(title: str, content: str) -> str:
    """An article from the API as a page of its own, for the archive and the ingest."""
    safe = html.escape(title)
    return (f"<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{safe}"
            f"</title></head><body><article><h1>{safe}</h1>{content}</article></body></html>")


class WordPressSpider(scrapy.Spider):
    name = "wordpress"

    def __init__(self, source: Source | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(source, Source):  # `scrapy crawl wordpress -a source=NAME`
            from crawler.sources import load_sources, pick

            source = pick(load_sources(), source)[0]
        self.source = source
        self.allowed_hosts = source.allowed_hosts
        self.names: dict[int, str] | None = None  # term id → name, when not embedded
        self.waiting: list[tuple[Response, list[Any]]] = []  # API pages awaiting names
        self.html_started = False

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """A bare `scrapy crawl wordpress` gets fonds' settings here, at crawl time."""
        super().update_settings(settings)
        if settings.get("FONDS_SETTINGS") is None:
            from crawler.settings import scrapy_settings
            from fonds.settings import load_settings

            settings.setdict(scrapy_settings(load_settings()), priority="spider")

    async def start(self) -> Any:  # Scrapy ≥ 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        yield self._api(wp_api.api_url(self.source.base_url, "posts"), "posts", pretty=True)

    def _api(self, url: str, kind: str, pretty: bool) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_api, errback=self.api_failed,
                              meta={"handle_httpstatus_list": DISCOVERY_STATUSES, "kind": kind,
                                    "pretty": pretty})

    # -- the REST API ---------------------------------------------------------------------

    def api_failed(self, failure: Any) -> Iterator[Any]:
        request = failure.request
        yield from self._api_unusable(request.url, request.meta, failure_reason(failure.value),
                                      isinstance(failure.value, RequestCapReached))

    def _api_unusable(self, url: str, meta: dict[str, Any], reason: str,
                      absent: bool) -> Iterator[Any]:
        """An API answer we cannot use. On the first posts page it means « no API here »
        (or down): try the other URL form, then the HTML; later pages are a gap."""
        first = meta.get("kind") == "posts" and wp_api.page_of(url) == 1
        if first and meta.get("pretty"):
            yield DiscoveryItem(url, "api", ok=False, optional=True, error=reason)
            yield self._api(wp_api.api_url(self.source.base_url, "posts", pretty=False),
                            "posts", pretty=False)
        elif first:
            yield DiscoveryItem(url, "api", ok=False, optional=absent, error=reason)
            yield from self._start_html()
        else:
            yield DiscoveryItem(url, "api", ok=False, optional=meta.get("kind") == "pages"
                                and absent, error=reason)

    def parse_api(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        posts: Any = None
        if response.status == 200:
            try:
                posts = json.loads(response.text)
            except (ValueError, AttributeError):
                posts = None
        if not isinstance(posts, list):
            reason = (f"API : réponse HTTP {response.status}" if response.status != 200
                      else "API : réponse qui n'est pas une liste JSON")
            yield from self._api_unusable(response.url, meta, reason,
                                          absent=response.status in (400, 401, 403, 404))
            return
        if wp_api.page_of(response.url) == 1:
            pages = wp_api.total_pages(response.headers.get("X-WP-TotalPages"))
            for page in range(2, pages + 1):
                yield self._api(wp_api.with_page(response.url, page), meta["kind"],
                                meta["pretty"])
            if meta["kind"] == "posts":
                pages_url = wp_api.api_url(self.source.base_url, "pages", pretty=meta["pretty"])
                yield self._api(pages_url, "pages", meta["pretty"])
                if self.source.categories:  # sources.toml names them: do they exist?
                    yield scrapy.Request(
                        self._terms_url(meta["pretty"]) + "&slug=" + ",".join(
                            self.source.categories), callback=self.parse_categories,
                        errback=lambda failure: None, dont_filter=True,
                        meta={"handle_httpstatus_list": DISCOVERY_STATUSES})
        if self.names is None and wp_api.needs_names(posts):
            self.waiting.append((response, posts))
            if len(self.waiting) == 1:
                yield scrapy.Request(self._terms_url(meta["pretty"]), callback=self.parse_terms,
                                     errback=self.terms_failed, dont_filter=True,
                                     meta={"handle_httpstatus_list": DISCOVERY_STATUSES})
            return
        yield from self._posts(response, posts)

    def _terms_url(self, pretty: bool) -> str:
        base = self.source.base_url
        if pretty:
            return f"{base}/wp-json/wp/v2/categories?per_page=100"
        return f"{base}/?rest_route=/wp/v2/categories&per_page=100"

    def parse_categories(self, response: Response) -> Iterator[DiscoveryItem]:
        """A configured category the site does not have: said, not fatal (the API lists
        every post anyway)."""
        try:
            answer = json.loads(response.text)
        except (ValueError, AttributeError):
            return
        if response.status != 200 or not isinstance(answer, list):
            return
        known = {t.get("slug") for t in answer if isinstance(t, dict)}
        for slug in self.source.categories:
            if slug not in known:
                yield DiscoveryItem(response.url, "category", ok=False, optional=True,
                                    error=f"catégorie « {slug} » de sources.toml introuvable "
                                          "sur le site")

    def parse_terms(self, response: Response) -> Iterator[Any]:
        try:
            self.names = wp_api.term_names(json.loads(response.text))
        except (ValueError, AttributeError):
            self.names = {}
        yield from self._release()

    def terms_failed(self, failure: Any) -> Iterator[Any]:
        self.names = {}
        yield from self._release()

    def _release(self) -> Iterator[Any]:
        waiting, self.waiting = self.waiting, []
        for response, posts in waiting:
            yield from self._posts(response, posts)

    def _posts(self, response: Response, posts: list[Any]) -> Iterator[Any]:
        found = 0
        elsewhere: set[str] = set()  # hosts of links that are not the source's
        for entry in posts:
            post = wp_api.parse_post(entry, self.names or {}, self.source.base_url)
            if post is None:
                host = wp_html.host_of(entry.get("link") if isinstance(entry, dict) else None)
                if host and host != self.source.host:
                    elsewhere.add(host)
                continue
            found += 1
            if post.content_html is None:  # the API withholds content: read the page
                yield scrapy.Request(post.url, callback=self.parse_article,
                                     errback=self.article_failed,
                                     meta={"post": post,
                                           "handle_httpstatus_list": DISCOVERY_STATUSES})
                continue
            root = Selector(text=post.content_html or "<div></div>", type="html")
            yield from self._article(ArticleItem(
                url=post.url, title=post.title, published=post.published,
                categories=list(post.terms), summary=wp_html.summary(root),
                body_html=page_html(post.title, post.content_html), modified=post.modified,
                kind=post.kind,
                documents=wp_html.document_links(root, post.url)))
        if posts and not found and elsewhere:  # base_url names another host than the site's
            yield DiscoveryItem(response.url, "api", ok=False, error=(
                f"l'API donne des articles sur {', '.join(sorted(elsewhere))} et non sur "
                f"{self.source.host} : corrigez base_url dans sources.toml"))
            return
        yield DiscoveryItem(response.url, "api", ok=True, articles=found)

    # -- without the API: sitemaps and listings ---------------------------------------------

    def _start_html(self) -> Iterator[scrapy.Request]:
        if self.html_started:
            return
        self.html_started = True
        base = self.source.base_url
        for name in SITEMAPS:
            yield self._discovery(f"{base}/{name}", self.parse_sitemap, optional=True)
        yield self._discovery(f"{base}/", self.parse_listing, optional=True)
        for category in self.source.categories:
            yield self._discovery(f"{base}/category/{category}/", self.parse_listing,
                                  optional=False)

    def _discovery(self, url: str, callback: Any, optional: bool) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.discovery_failed,
                              meta={"handle_httpstatus_list": DISCOVERY_STATUSES,
                                    "optional": optional})

    def discovery_failed(self, failure: Any) -> DiscoveryItem:
        request = failure.request
        kind = "sitemap" if request.callback == self.parse_sitemap else "listing"
        return DiscoveryItem(request.url, kind, ok=False, error=failure_reason(failure.value))

    def _unanswered(self, response: Response, kind: str) -> DiscoveryItem | None:
        if response.status == 200:
            return None
        optional = response.meta.get("optional", False) and response.status == 404
        what = {"sitemap": "plan du site", "listing": "liste d'articles"}[kind]
        return DiscoveryItem(response.url, kind, ok=False, optional=optional,
                             error=f"{what} : HTTP {response.status}")

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        failed = self._unanswered(response, "sitemap")
        if failed:
            yield failed
            return
        try:
            selector = Selector(text=response.text, type="xml")
            selector.remove_namespaces()
        except (ValueError, AttributeError):
            selector = None
        def locs(xpath: str) -> list[str]:
            found = (wp_html.absolute(response.url, loc)
                     for loc in (selector.xpath(xpath).getall() if selector else []))
            return [u for u in found if u]

        children, entries = locs("//sitemap/loc/text()"), locs("//url/loc/text()")
        if not children and not entries:
            yield DiscoveryItem(response.url, "sitemap", ok=False,
                                error="plan du site illisible ou vide")
            return
        for loc in children:
            if not any(s in loc.lower() for s in SKIPPED_SITEMAPS):
                yield self._discovery(loc, self.parse_sitemap, optional=False)
        skip = any(s in response.url.lower() for s in SKIPPED_SITEMAPS)
        articles = [] if skip else entries
        for url in articles:
            yield self._article_request(url)
        yield DiscoveryItem(response.url, "sitemap", ok=True, articles=len(articles))

    def parse_listing(self, response: Response) -> Iterator[Any]:
        failed = self._unanswered(response, "listing")
        if failed:
            yield failed
            return
        selector = Selector(text=response.text, type="html")
        links = [u for u in wp_html.listing_links(selector, response.url)
                 if urlsplit(u).netloc == self.source.host]
        if response.url.rstrip("/") == self.source.base_url:  # the home page's menus
            links += [u for u in wp_html.menu_links(selector, response.url) if u not in links]
        for url in links:
            yield self._article_request(url)
        following = wp_html.next_page(selector, response.url)
        if following and urlsplit(following).netloc == self.source.host:
            yield self._discovery(following, self.parse_listing, optional=False)
        yield DiscoveryItem(response.url, "listing", ok=True, articles=len(links))

    def _article_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_article, errback=self.article_failed,
                              meta={"handle_httpstatus_list": DISCOVERY_STATUSES})

    # -- articles and documents ---------------------------------------------------------------

    def article_failed(self, failure: Any) -> DiscoveryItem:
        # An article we could not read is a gap in what the run saw, not an absence.
        return DiscoveryItem(failure.request.url, "article", ok=False,
                             error=failure_reason(failure.value))

    def parse_article(self, response: Response) -> Iterator[Any]:
        if response.status != 200:
            yield DiscoveryItem(response.url, "article", ok=False,
                                optional=response.status in (404, 410),
                                error=f"article : HTTP {response.status}")
            return
        try:
            selector = Selector(text=response.text, type="html")
        except (ValueError, AttributeError):
            return  # not a page (a file behind an article-looking URL)
        post: wp_api.Post | None = response.meta.get("post")
        title = (post.title if post else "") or wp_html.article_title(selector)
        if not title:
            return
        root = wp_html.content(selector)
        body = root.get() or ""
        terms = list(post.terms) if post and post.terms else wp_html.article_terms(selector)
        yield from self._article(ArticleItem(
            url=response.url, title=title,
            published=(post.published if post else None) or wp_html.article_date(selector),
            modified=(post.modified if post else None) or wp_html.article_modified(selector),
            categories=terms, summary=wp_html.summary(root),
            body_html=page_html(title, body), kind=post.kind if post else "post",
            documents=wp_html.document_links(root, response.url)))

    def _article(self, item: ArticleItem) -> Iterator[Any]:
        kept = []
        for document in item.documents:
            if urlsplit(document.url).netloc not in self.allowed_hosts:
                self.crawler.stats.inc_value("fonds/outside_allow_list")
                continue
            kept.append(document)
            yield self._document_request(document, item.link(document))
        item.documents = kept
        yield item

    def _document_request(self, document: DocumentLink, link: Link) -> scrapy.Request:
        # A link that does not name a file is likely a redirect: its target may be
        # requested directly too, and the duplicate filter would drop this URL unseen.
        path = urlsplit(document.url).path.lower()
        redirecting = not path.endswith(wp_html.DOCUMENT_SUFFIXES)
        return scrapy.Request(document.url, callback=self.parse_document,
                              errback=self.document_error, dont_filter=redirecting,
                              meta={"document": True, "link": link,
                                    "handle_httpstatus_list": DOCUMENT_STATUSES})

    def parse_document(self, response: Response) -> DocumentItem:
        requested = (response.request.meta.get("redirect_urls") or [response.url])[0]
        return DocumentItem(
            url=requested, final_url=response.url, status=response.status,
            body=response.body if response.status == 200 else b"",
            content_type=response.headers.get("Content-Type", b"").decode("latin-1"),
            etag=(response.headers.get("ETag") or b"").decode("latin-1") or None,
            last_modified=(response.headers.get("Last-Modified") or b"").decode("latin-1")
            or None,
            link=response.meta.get("link"),
            error=None if response.status in (200, 304) else f"HTTP {response.status}")

    def document_error(self, failure: Any) -> DocumentItem | None:
        if isinstance(failure.value, RequestCapReached):
            return None  # not fetched this run; not a failure of the document
        request = failure.request
        return DocumentItem(url=request.url, final_url=request.url, status=0,
                            link=request.meta.get("link"),
                            error=failure_reason(failure.value))
