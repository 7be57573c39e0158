"""The WordPress family: a resource centre's posts and the documents they link to.

Discovery through the REST API (dates and categories without HTML parsing) when it
answers, the sitemaps, and the category listings with their pagination; documents under
wp-content/uploads and on the official sites of the allow-list, one hop from an article.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.items import ArticleItem, DocumentItem
from crawler.middlewares import RequestCapReached
from crawler.sources import Source

DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".odt")
# Statuses our callbacks see instead of Scrapy dropping them: every outcome is recorded.
DOCUMENT_STATUSES = [304, 400, 401, 403, 404, 410, 429, 500, 502, 503, 504]


_FAILURES = {"TimeoutError": "délai dépassé", "DNSLookupError": "nom de domaine introuvable",
             "ConnectionRefusedError": "connexion refusée",
             "ResponseFailed": "réponse tronquée ou connexion coupée",
             "ConnectionLost": "réponse tronquée ou connexion coupée",
             "PotentialDataLoss": "réponse tronquée ou connexion coupée",
             "ResponseDataLossError": "réponse tronquée ou connexion coupée"}


def failure_reason(error: BaseException) -> str:
    """A download failure in one French line for the catalog (Scrapy's are English)."""
    text = str(error)
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


def is_document_link(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith(DOCUMENT_SUFFIXES) or "/wp-content/uploads/" in path


class WordPressSpider(scrapy.Spider):
    name = "wordpress"

    def __init__(self, source: Source | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(source, Source):  # `scrapy crawl wordpress -a source=NAME`
            from crawler.sources import load_sources, pick

            source = pick(load_sources(), source)[0]
        self.source = source
        self.allowed_hosts = source.allowed_hosts
        self.links: dict[str, tuple[str, str]] = {}  # document URL → (article, link text)

    async def start(self) -> Any:  # Scrapy ≥ 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        base = self.source.base_url
        yield scrapy.Request(f"{base}/wp-json/wp/v2/posts?per_page=100&page=1",
                             callback=self.parse_api, errback=self.ignore,
                             meta={"handle_httpstatus_all": True})
        yield scrapy.Request(f"{base}/sitemap.xml", callback=self.parse_sitemap,
                             errback=self.ignore)
        for category in self.source.categories:
            yield scrapy.Request(f"{base}/category/{category}/", callback=self.parse_listing,
                                 errback=self.ignore)

    def ignore(self, failure: Any) -> None:
        self.logger.info("discovery request failed: %s", failure.value)

    # -- discovery ------------------------------------------------------------------------

    def parse_api(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status != 200:
            return
        try:
            posts = json.loads(response.text)
        except (ValueError, AttributeError):
            return
        for post in posts if isinstance(posts, list) else []:
            link = post.get("link")
            if link:
                yield response.follow(link, callback=self.parse_article,
                                      meta={"api_date": post.get("date")})
        pages = int(response.headers.get("X-WP-TotalPages", b"1") or 1)
        page = int(re.search(r"[?&]page=(\d+)", response.url).group(1))  # type: ignore[union-attr]
        if page < pages:
            yield response.follow(re.sub(r"page=\d+", f"page={page + 1}", response.url),
                                  callback=self.parse_api, meta={"handle_httpstatus_all": True})

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        response.selector.remove_namespaces()
        for loc in response.xpath("//sitemap/loc/text()").getall():
            yield response.follow(loc.strip(), callback=self.parse_sitemap, errback=self.ignore)
        for loc in response.xpath("//url/loc/text()").getall():
            url = loc.strip()
            callback = self.parse_listing if "/category/" in url else self.parse_article
            yield response.follow(url, callback=callback, errback=self.ignore)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("h2.entry-title a::attr(href), "
                                 "article .entry-title a::attr(href)").getall():
            yield response.follow(href, callback=self.parse_article)
        following = response.css("a.next::attr(href)").get()
        if following:
            yield response.follow(following, callback=self.parse_listing, errback=self.ignore)

    # -- articles and documents ---------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[Any]:
        title = " ".join(response.css("h1.entry-title ::text").getall()).strip()
        if not title:
            return
        published = (response.css("time.published::attr(datetime), "
                                  "time.entry-date::attr(datetime)").get()
                     or response.meta.get("api_date") or "")[:10] or None
        categories = [c.strip() for c in response.css('a[rel~="category"]::text').getall()]
        body = response.css("div.entry-content").get() or ""
        paragraphs = response.css("div.entry-content p ::text").getall()
        summary = " ".join(" ".join(paragraphs).split())[:500]
        documents = []
        for link in response.css("div.entry-content a"):
            href = link.attrib.get("href")
            if not href:
                continue
            url = response.urljoin(href)
            if not is_document_link(url) and "/telecharger/" not in url:
                continue
            if urlsplit(url).netloc not in self.allowed_hosts:
                self.crawler.stats.inc_value("fonds/outside_allow_list")
                continue
            text = " ".join(" ".join(link.css("::text").getall()).split())
            documents.append(url)
            self.links.setdefault(url, (response.url, text))
            # A link that does not name a file is likely a redirect: its target may be
            # requested directly too, and the duplicate filter would drop this URL unseen.
            redirecting = not urlsplit(url).path.lower().endswith(DOCUMENT_SUFFIXES)
            yield scrapy.Request(url, callback=self.parse_document, errback=self.document_error,
                                 dont_filter=redirecting,
                                 meta={"document": True, "referrer": response.url,
                                       "link_text": text,
                                       "handle_httpstatus_list": DOCUMENT_STATUSES})
        yield ArticleItem(url=response.url, title=title, published=published,
                          categories=categories, summary=summary, body_html=body,
                          documents=documents)

    def parse_document(self, response: Response) -> DocumentItem:
        requested = (response.request.meta.get("redirect_urls") or [response.url])[0]
        return DocumentItem(
            url=requested, final_url=response.url, status=response.status,
            body=response.body if response.status == 200 else b"",
            content_type=response.headers.get("Content-Type", b"").decode("latin-1"),
            etag=(response.headers.get("ETag") or b"").decode("latin-1") or None,
            last_modified=(response.headers.get("Last-Modified") or b"").decode("latin-1")
            or None,
            referrer=response.meta.get("referrer"), link_text=response.meta.get("link_text"),
            error=None if response.status in (200, 304) else f"HTTP {response.status}")

    def document_error(self, failure: Any) -> DocumentItem | None:
        if isinstance(failure.value, RequestCapReached):
            return None  # not fetched this run; not a failure of the document
        request = failure.request
        return DocumentItem(url=request.url, final_url=request.url, status=0,
                            referrer=request.meta.get("referrer"),
                            link_text=request.meta.get("link_text"),
                            error=failure_reason(failure.value))

