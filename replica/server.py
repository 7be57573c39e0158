"""The replica site, served on loopback: a WordPress-like resource centre and an official site.

Everything is generated in memory from content.py. The hard cases of real crawls are here
on purpose: a broken link, a redirect, an HTML error page served as .pdf, one PDF under two
URLs, a slow file, ETag / Last-Modified with 304 answers, robots.txt, sitemaps, wp-json.
The site can change between runs (`changed`, `removed`) to test incremental crawls.
"""

from __future__ import annotations

import hashlib
import html
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from fonds.errors import FondsError
from replica.content import ARTICLES, CATEGORIES, Article, Attachment
from replica.pdf import Section, make_pdf

PER_PAGE = 3
SLOW_SECONDS = 1.0
# Published a fixed time ago: Last-Modified must not move between runs.
PUBLISHED = formatdate(1_600_000_000, usegmt=True)


class HostileMode(Protocol):
    """Broken answers a test adds to the replica (tests/hostile_site.py): extra links on the
    first article, the answers to them, a windows-1252 article and a cut sitemap."""

    def links(self) -> str: ...
    def answer(self, path: str, send: Callable[..., None], raw: Callable[[bytes], None],
               max_bytes: int) -> bool: ...


@dataclass
class SiteState:
    """What the site publishes now; tests change it between two crawls."""

    removed: set[str] = field(default_factory=set)  # article slugs
    changed: set[str] = field(default_factory=set)  # attachment slugs with a new version
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    busy_once: set[str] = field(default_factory=set)  # paths already answered 503 once
    # Tests only: broken answers, an article in windows-1252 without a charset, an invalid
    # post sitemap. max_bytes is the crawler's size cap.
    hostile: HostileMode | None = None
    max_bytes: int = 5 * 2**20

    def articles(self) -> list[Article]:
        return [a for a in ARTICLES if a.slug not in self.removed]


def article_path(article: Article) -> str:
    year, month, _ = article.date.split("-")
    return f"/{year}/{month}/{article.slug}/"


def upload_path(article: Article, attachment: Attachment) -> str:
    year, month, _ = article.date.split("-")
    return f"/wp-content/uploads/{year}/{month}/{attachment.slug}"


def _page(title: str, body: str, base: str) -> bytes:
    return (f"<!DOCTYPE html><html lang=\"fr-FR\"><head><meta charset=\"UTF-8\">"
            f"<title>{html.escape(title)} – Villes et Territoires Occitanie</title>"
            f"<link rel=\"alternate\" type=\"application/json\" href=\"{base}/wp-json/\">"
            f"</head><body class=\"wordpress\"><header id=\"masthead\"><nav class=\"menu\">"
            f"<a href=\"/\">Accueil</a> <a href=\"/category/participation-des-habitants/\">"
            f"Participation des habitants</a> <a href=\"/contact/\">Contact</a></nav>"
            f"</header><main id=\"main\">{body}</main><footer>Villes et Territoires "
            f"Occitanie – centre de ressources politique de la ville – Mentions légales"
            f"</footer></body></html>").encode()


class ReplicaSite:
    def __init__(self, state: SiteState | None = None) -> None:
        self.state = state or SiteState()
        self.site_base = ""  # set when served
        self.official_base = ""
        self._pdf_cache: dict[tuple[str, bool], bytes] = {}

    # -- documents ---------------------------------------------------------------------

    def pdf(self, attachment: Attachment, date: str) -> bytes:
        changed = attachment.slug in self.state.changed
        key = (attachment.slug, changed)
        if key not in self._pdf_cache:
            sections = list(attachment.sections)
            if changed:
                sections.append(Section("6. Mise à jour", ("Cette version ajoute le bilan "
                                                          "de l'année suivante.",)))
            self._pdf_cache[key] = make_pdf(attachment.title, sections, date)
        return self._pdf_cache[key]

    def attachment_url(self, article: Article, attachment: Attachment) -> str:
        if attachment.official:
            return f"{self.official_base}/documents/{attachment.slug}"
        return f"{self.site_base}{upload_path(article, attachment)}"

    # -- pages ---------------------------------------------------------------------------

    def article_html(self, article: Article) -> bytes:
        cats = " ".join(f"<a href=\"/category/{c}/\" rel=\"category tag\">"
                        f"{html.escape(CATEGORIES[c])}</a>" for c in article.categories)
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
        links = "".join(f"<p><a href=\"{self.attachment_url(article, a)}\">"
                        f"{html.escape(a.link_text)}</a></p>" for a in article.attachments)
        links += self._hard_cases(article)
        if self.state.hostile is not None and article is ARTICLES[0]:
            links += self.state.hostile.links()
        body = (f"<article class=\"post type-post\"><header class=\"entry-header\">"
                f"<h1 class=\"entry-title\">{html.escape(article.title)}</h1>"
                f"<time class=\"entry-date published\" datetime=\"{article.date}T10:00:00+01:00\">"
                f"{article.date}</time><span class=\"cat-links\">{cats}</span></header>"
                f"<div class=\"entry-content\">{paragraphs}{links}</div></article>")
        return _page(article.title, body, self.site_base)

    def _hard_cases(self, article: Article) -> str:
        """Extra links on some articles, each a case a real crawl meets."""
        extra = {
            "journee-sante-conseils-citoyens-herault-lodeve":
                "<p><a href=\"/wp-content/uploads/2019/11/programme-introuvable.pdf\">"
                "Programme de la journée</a></p>",  # 404
            "guide-bonnes-pratiques-conseils-citoyens-herault":
                "<p><a href=\"/telecharger/guide-bonnes-pratiques/\">Version imprimable</a></p>"
                "<p><a href=\"/wp-content/uploads/copie/guide-bonnes-pratiques.pdf\">Copie du "
                "guide</a></p>",  # redirect, and the same file under a second URL
            "rencontres-territoriales-conseils-citoyens-herault-2018":
                "<p><a href=\"/wp-content/uploads/2018/11/diaporama.pdf\">Diaporama</a></p>"
                "<p><a href=\"/prive/notes-internes.pdf\">Notes internes</a></p>",
                # an HTML page served as .pdf; a section robots.txt forbids
            "circulaire-inclusion-numerique-plan-de-relance":
                "<p><a href=\"/wp-content/uploads/2021/02/annexe-technique.pdf\">Annexe "
                "technique</a></p>",  # 503 with Retry-After on the first request
            "etat-des-lieux-2019-conseils-citoyens-est-occitanie":
                "<p><a href=\"/wp-content/uploads/2019/07/annexes-lourdes.pdf\">Annexes</a></p>"
                "<p><a href=\"http://127.0.0.3:9/ailleurs.pdf\">Un site hors liste</a></p>",
                # a slow file; a domain outside the allow-list
        }
        return extra.get(article.slug, "")

    def listing_html(self, title: str, articles: list[Article], page: int, base: str) -> bytes:
        pages = max(1, -(-len(articles) // PER_PAGE))
        shown = articles[(page - 1) * PER_PAGE: page * PER_PAGE]
        items = "".join(f"<article class=\"post\"><h2 class=\"entry-title\"><a href=\""
                        f"{article_path(a)}\">{html.escape(a.title)}</a></h2><time datetime=\""
                        f"{a.date}\">{a.date}</time></article>" for a in shown)
        nav = ""
        if page < pages:
            nav = f"<a class=\"next page-numbers\" href=\"{base}page/{page + 1}/\">Suivant</a>"
        return _page(title, f"<h1>{html.escape(title)}</h1>{items}<nav>{nav}</nav>",
                     self.site_base)

    def sitemap(self, kind: str) -> bytes:
        if kind == "index":
            body = "".join(f"<sitemap><loc>{self.site_base}/{name}</loc></sitemap>"
                           for name in ("post-sitemap.xml", "category-sitemap.xml"))
            return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><sitemapindex xmlns=\"http://"
                    f"www.sitemaps.org/schemas/sitemap/0.9\">{body}</sitemapindex>").encode()
        if kind == "post" and self.state.hostile is not None:
            return b"<?xml version=\"1.0\"?><urlset><url><loc>http://"  # cut short
        if kind == "post":
            urls = [(f"{self.site_base}{article_path(a)}", a.date) for a in self.state.articles()]
        else:
            urls = [(f"{self.site_base}/category/{slug}/", None) for slug in CATEGORIES]
        body = "".join(f"<url><loc>{u}</loc>" + (f"<lastmod>{d}</lastmod>" if d else "")
                       + "</url>" for u, d in urls)
        return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><urlset xmlns=\"http://www."
                f"sitemaps.org/schemas/sitemap/0.9\">{body}</urlset>").encode()

    def wp_posts(self, page: int, per_page: int) -> tuple[bytes, int]:
        articles = self.state.articles()
        ids = {slug: i + 1 for i, slug in enumerate(CATEGORIES)}
        shown = articles[(page - 1) * per_page: page * per_page]
        posts = [{"id": 100 + ARTICLES.index(a), "date": f"{a.date}T10:00:00",
                  "link": f"{self.site_base}{article_path(a)}", "slug": a.slug,
                  "title": {"rendered": html.escape(a.title)},
                  "categories": [ids[c] for c in a.categories]} for a in shown]
        return json.dumps(posts).encode(), len(articles)

    def wp_categories(self) -> bytes:
        return json.dumps([{"id": i + 1, "slug": slug, "name": name}
                           for i, (slug, name) in enumerate(CATEGORIES.items())]).encode()


def _handler(site: ReplicaSite, official: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", kind: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _file(self, data: bytes) -> None:
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            headers = {"ETag": etag, "Last-Modified": PUBLISHED}
            if self.headers.get("If-None-Match") == etag:
                self._send(304, headers=headers)
            else:
                self._send(200, data, "application/pdf", headers)

        def _raw(self, data: bytes) -> None:
            """Bytes as they are, then the connection closed: broken answers."""
            self.wfile.write(data)
            self.wfile.flush()
            self.close_connection = True

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            path = url.path
            site.state.requests.append(("official" if official else "site", path,
                                        dict(self.headers)))
            if official:
                return self._official(path)
            articles = site.state.articles()
            if path == "/robots.txt":
                return self._send(200, (f"User-agent: *\nDisallow: /wp-admin/\nDisallow: "
                                        f"/prive/\nSitemap: {site.site_base}/sitemap.xml\n")
                                  .encode(), "text/plain")
            if path == "/sitemap.xml":
                return self._send(200, site.sitemap("index"), "application/xml")
            if path in ("/post-sitemap.xml", "/category-sitemap.xml"):
                kind = "post" if path.startswith("/post") else "category"
                return self._send(200, site.sitemap(kind), "application/xml")
            if path == "/wp-json/wp/v2/posts":
                query = parse_qs(url.query)
                page = int(query.get("page", ["1"])[0])
                per_page = int(query.get("per_page", ["10"])[0])
                body, total = site.wp_posts(page, per_page)
                pages = max(1, -(-total // per_page))
                if page > pages:
                    return self._send(400, b'{"code":"rest_post_invalid_page_number"}',
                                      "application/json")
                return self._send(200, body, "application/json",
                                  {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})
            if path == "/wp-json/wp/v2/categories":
                return self._send(200, site.wp_categories(), "application/json")
            if path in ("/", ""):
                return self._send(200, site.listing_html("Actualités", articles, 1, "/"))
            parts = path.strip("/").split("/")
            if parts[0] == "category" and len(parts) >= 2 and parts[1] in CATEGORIES:
                page = int(parts[3]) if len(parts) >= 4 and parts[2] == "page" else 1
                chosen = [a for a in articles if parts[1] in a.categories]
                if page > max(1, -(-len(chosen) // PER_PAGE)):
                    return self._send(404, _page("Introuvable", "<p>404</p>", ""))
                return self._send(200, site.listing_html(CATEGORIES[parts[1]], chosen, page,
                                                         f"/category/{parts[1]}/"))
            if site.state.hostile is not None and site.state.hostile.answer(
                    path, self._send, self._raw, site.state.max_bytes):
                return None
            for article in articles:
                if path == article_path(article):
                    if site.state.hostile is not None and article is ARTICLES[1]:
                        # windows-1252 bytes, and neither header nor page names a charset
                        page = site.article_html(article).decode().replace(
                            '<meta charset="UTF-8">', "")
                        return self._send(200, page.encode("cp1252", "replace"), "text/html")
                    return self._send(200, site.article_html(article))
                for attachment in article.attachments:
                    if not attachment.official and path == upload_path(article, attachment):
                        return self._file(site.pdf(attachment, article.date))
            guide = next(a for a in ARTICLES if a.slug.startswith("guide-bonnes-pratiques"))
            if path == "/telecharger/guide-bonnes-pratiques/":
                return self._send(301, headers={
                    "Location": site.site_base + upload_path(guide, guide.attachments[0])})
            if path == "/wp-content/uploads/copie/guide-bonnes-pratiques.pdf":
                return self._file(site.pdf(guide.attachments[0], guide.date))
            if path == "/wp-content/uploads/2018/11/diaporama.pdf":
                return self._send(200, _page("Erreur", "<p>Le fichier a été déplacé.</p>", ""),
                                  "text/html; charset=utf-8")
            if path == "/wp-content/uploads/2021/02/annexe-technique.pdf":
                if path not in site.state.busy_once:
                    site.state.busy_once.add(path)
                    return self._send(503, b"Service indisponible", "text/plain",
                                      {"Retry-After": "1"})
                circulaire = ARTICLES[0].attachments[0]
                return self._file(site.pdf(Attachment("annexe-technique.pdf", "Annexe",
                                                      "Annexe technique de la circulaire",
                                                      circulaire.sections[:2]), "2021-02-08"))
            if path == "/wp-content/uploads/2019/07/annexes-lourdes.pdf":
                time.sleep(SLOW_SECONDS)
                annexes = Attachment("annexes-lourdes.pdf", "Annexes", "Annexes de l'état des "
                                     "lieux 2019", ARTICLES[6].attachments[0].sections)
                return self._file(site.pdf(annexes, "2019-07-01"))
            return self._send(404, _page("Page introuvable", "<p>Erreur 404</p>", ""))

        def _official(self, path: str) -> None:
            for article in site.state.articles():
                for attachment in article.attachments:
                    if attachment.official and path == f"/documents/{attachment.slug}":
                        return self._file(site.pdf(attachment, article.date))
            if path == "/robots.txt":
                return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            return self._send(404, _page("Introuvable", "<p>404</p>", ""))

    return Handler


DEMO_PORT = 8765


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away (a killed crawl, a cancelled download) is not news."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _bind(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Fail loudly when a fixed port is taken: document ids are hashes of URLs, so the
    demo on another port would be another archive."""
    try:
        return _Server((host, port), handler)
    except OSError as exc:
        raise FondsError(f"le port {port} de {host} est déjà pris ({exc.strerror}) : "
                         "arrêtez l'autre programme ou choisissez un autre port "
                         "(fonds demo --site-port)") from None


class ServedSite:
    """The two servers, started in threads; a context manager that stops them."""

    def __init__(self, state: SiteState | None = None, port: int = 0) -> None:
        """port 0: any free port (tests); the demo uses a fixed one so that URLs, and so
        documents, stay the same from one run to the next."""
        self.site = ReplicaSite(state)
        self.main = _bind("127.0.0.1", port, _handler(self.site, False))
        self.official = _bind("127.0.0.2", port, _handler(self.site, True))
        self.site.site_base = f"http://127.0.0.1:{self.main.server_address[1]}"
        self.site.official_base = f"http://127.0.0.2:{self.official.server_address[1]}"
        self._threads = [threading.Thread(target=s.serve_forever, daemon=True)
                         for s in (self.main, self.official)]

    @property
    def base_url(self) -> str:
        return self.site.site_base

    def __enter__(self) -> ServedSite:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.main, self.official):
            server.shutdown()
            server.server_close()
