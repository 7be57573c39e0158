"""Item pipeline: files into the content-addressed store, observations into the catalog.

Nothing is indexed here (the ingest does it from disk). Everything comes in items: the
article that links a document rides with it, and discovery requests say how they went.
At the end of a run the pipeline decides what the run proves: a run that discovered
nothing (the site down, every request refused) is a failed run and counts no absence;
a run with gaps (an API page, a sitemap or an article that failed) counts none either;
only a healthy run marks documents missing, and not too many at once (Catalog.mark_missing).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.items import ArticleItem, DiscoveryItem, DocumentItem, theme_of
from crawler.settings import LOG_NAME, fonds_settings
from fonds import media
from fonds.catalog import Catalog, now
from fonds.files import FileStore, FileTooLarge
from fonds.models import Link, Observation, Outcome, RunKind

COUNTS = ("new", "changed", "unchanged", "gone", "failed", "missing", "bytes", "bytes_pages",
          "requests")
# Per document, the outcome that tells most (a file new under one URL, unchanged under
# its copy, is new; a document fetched at one URL and broken at another is not failed).
PRECEDENCE = (Outcome.NEW, Outcome.CHANGED, Outcome.UNCHANGED, Outcome.FAILED)
MAX_LISTED = 200


def _expected(url: str, content_type: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    if suffix in media.BY_SUFFIX:
        return media.BY_SUFFIX[suffix]
    kind = content_type.split(";")[0].strip().lower()
    return kind if kind in media.EXTENSIONS else media.PDF


def _referrers(links: list[Link]) -> dict[str, Any]:
    return {"referrers": [{"url": k.article_url, "text": k.link_text} for k in links]}


class CatalogPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = fonds_settings(crawler)
        self.settings = settings
        self.catalog = Catalog(settings.catalog_path)
        self.store = FileStore(settings.data_dir, settings.max_file_mb * 2**20)
        self.source = ""
        self.outcomes: dict[str, Outcome] = {}  # doc id → what this run did to it
        self.listed: dict[str, dict[str, str]] = {}  # doc id → url (and title)
        self.expected: dict[str, list[Link]] = {}  # document URL → the articles linking it
        self.answered: set[str] = set()  # document URLs that got an answer or an error
        self.discovery: list[DiscoveryItem] = []
        self.broken: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.articles = 0
        self.file_bytes = 0
        self.started = now()
        self.run_id = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> CatalogPipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        self.source = (spider or self.crawler.spider).source.name
        self.run_id = self.catalog.start_run(RunKind.CRAWL)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, ArticleItem):
            self._article(item)
        elif isinstance(item, DocumentItem):
            self._document(item)
        elif isinstance(item, DiscoveryItem):
            self.discovery.append(item)
        return item

    # -- recording ------------------------------------------------------------------------

    def _count(self, doc_id: str | None, outcome: Outcome, url: str, title: str = "") -> None:
        if doc_id is None:
            return
        before = self.outcomes.get(doc_id)
        if before is None or PRECEDENCE.index(outcome) < PRECEDENCE.index(before):
            self.outcomes[doc_id] = outcome
            self.listed[doc_id] = {"url": url, "title": title} if title else {"url": url}

    def _fail(self, url: str, error: str, links: list[Link]) -> None:
        outcome, doc_id = self.catalog.record(Observation(
            url=url, source=self.source, error=error, meta=_referrers(links)))
        # Still linked: not absent, even if this fetch failed.
        self.catalog.seen_unchanged(url, revive=False)
        self._count(doc_id, outcome, url)
        self.errors.append(f"{url} : {error}")
        for link in links or [Link("")]:
            self.broken.append({"url": url, "error": error, "article_url": link.article_url,
                                "article_title": link.article_title,
                                "link_text": link.link_text})

    def _article(self, item: ArticleItem) -> None:
        self.articles += 1
        for document in item.documents:
            self.expected.setdefault(document.url, []).append(item.link(document))
        if item.modified and self.catalog.article_modified(item.url) == item.modified:
            # The site says it has not changed since we recorded it: nothing to store.
            self._count(self.catalog.seen_unchanged(item.url), Outcome.UNCHANGED, item.url)
            return
        stored = self.store.put_bytes(item.body_html.encode("utf-8"), "html")
        obs = Observation(
            url=item.url, sha256=stored.sha256, file_path=stored.relative_path,
            media_type=media.HTML, size=stored.size, title=item.title, source=self.source,
            doc_type="article", themes=tuple(theme_of(c) for c in item.categories),
            published=item.published,
            meta={"summary": item.summary, "categories": item.categories, "kind": item.kind,
                  "documents": [d.url for d in item.documents]}
            | ({"modified": item.modified} if item.modified else {}))
        outcome, doc_id = self.catalog.record(obs)
        self._count(doc_id, outcome, item.url, item.title)

    def _links_of(self, item: DocumentItem) -> list[Link]:
        links = list(self.expected.get(item.url, ()))
        if item.link is not None and item.link not in links:
            links.insert(0, item.link)
        return links

    def _document(self, item: DocumentItem) -> None:
        self.answered.update((item.url, item.final_url))
        links = self._links_of(item)
        if item.status == 304:
            self._count(self.catalog.seen_unchanged(item.url), Outcome.UNCHANGED, item.url)
            return
        if item.error:
            self._fail(item.url, item.error, links)
            return
        actual = media.sniff(item.body[:4096])
        try:
            final = self.store.put_bytes(item.body, media.EXTENSIONS[actual])
        except FileTooLarge as exc:
            self._fail(item.url, str(exc), links)
            return
        error = "fichier vide" if not item.body else media.mismatch(
            _expected(item.url, item.content_type), actual)
        # No title from the link text: the ingest builds titles (the file's own first,
        # the link text with its article's title when it is generic: Catalog.links).
        obs = Observation(
            url=item.url, sha256=final.sha256, file_path=final.relative_path,
            media_type=actual, size=final.size, source=self.source, error=error,
            meta=_referrers(links) | {"final_url": item.final_url})
        outcome, doc_id = self.catalog.record(obs)
        if item.final_url != item.url:  # a redirect: both URLs lead to the document
            self.catalog.record(Observation(url=item.final_url, sha256=final.sha256,
                                            file_path=final.relative_path, media_type=actual,
                                            size=final.size, source=self.source,
                                            error=error))
        self.catalog.set_validators(item.url, item.etag, item.last_modified)
        self.file_bytes += len(item.body)
        if error:
            self.errors.append(f"{item.url} : {error}")
            for link in links:
                self.broken.append({"url": item.url, "error": error,
                                    "article_url": link.article_url,
                                    "article_title": link.article_title,
                                    "link_text": link.link_text})
        self._count(doc_id, outcome, item.url)

    # -- the end of a run -------------------------------------------------------------------

    def _unanswered(self) -> None:
        """A link whose request vanished (a redirect loop ends in Scrapy's duplicate filter,
        without an error) still gets its line in the catalog."""
        for url, links in self.expected.items():
            if url not in self.answered:
                self._fail(url, "aucune réponse exploitable (redirections en boucle ?)", links)

    def _record_links(self) -> None:
        for url, links in self.expected.items():
            doc_id = self.catalog.doc_id_for(url)
            for link in dict.fromkeys(links) if doc_id else ():
                self.catalog.add_link(doc_id, link)

    def verdict(self, finished: bool, capped: int,
                crashed: int = 0) -> tuple[bool, bool, str | None]:
        """(healthy, failed, reason): failed when nothing was discovered; healthy when
        discovery ran to its end without a gap (a page our code failed on is one)."""
        gaps = [d for d in self.discovery if not d.ok and not d.optional]
        if not self.articles:
            seen = [d.error for d in self.discovery if d.error][:3]
            why = " ; ".join(dict.fromkeys(seen)) or "aucune réponse"
            return False, True, f"aucun article trouvé sur le site ({why})"
        if capped:
            return False, False, f"plafond de {self.settings.crawl_max_requests} requêtes " \
                                 "atteint (crawl_max_requests)"
        if not finished:
            return False, False, "collecte interrompue"
        if crashed:
            return False, False, (f"{crashed} page(s) illisible(s) par le robot (erreur du "
                                  "programme, détail dans le journal)")
        if gaps:
            return False, False, (f"{len(gaps)} requête(s) de découverte en échec, "
                                  f"dont {gaps[0].url} ({gaps[0].error})")
        return True, False, None

    def close_spider(self, spider: Any = None) -> None:
        stats = self.crawler.stats
        capped = int(stats.get_value("fonds/capped", 0))
        finished = stats.get_value("finish_reason") in (None, "finished")
        if not capped:
            self._unanswered()
        self._record_links()
        crashed = int(stats.get_value("spider_exceptions/count", 0))
        healthy, failed, reason = self.verdict(finished, capped, crashed)
        counts: Counter[str] = Counter({k: 0 for k in COUNTS})
        counts.update(str(o) for o in self.outcomes.values())
        lists: dict[str, list[dict[str, str]]] = {str(o): [] for o in PRECEDENCE}
        for doc_id, outcome in self.outcomes.items():
            lists[str(outcome)].append(self.listed[doc_id])
        gone: tuple[str, ...] = ()
        refused = None
        if healthy:
            absences = self.catalog.mark_missing(self.source, self.started,
                                                 self.settings.gone_after_runs)
            refused = absences.refused
            counts["missing"] = 0 if refused else absences.missing
            counts["gone"] = len(absences.gone)
            gone = absences.gone
        response_bytes = int(stats.get_value("downloader/response_bytes", 0))
        counts["bytes"] = self.file_bytes
        counts["bytes_pages"] = max(0, response_bytes - self.file_bytes)
        counts["requests"] = int(stats.get_value("downloader/request_count", 0))
        counts["articles"] = self.articles
        if capped:
            counts["capped"] = capped
        blocked = int(stats.get_value("fonds/outside_allow_list", 0))
        if blocked:
            counts["outside_allow_list"] = blocked
        details = {
            "source": self.source, "healthy": healthy, "failed": failed, "reason": reason,
            "refused": refused, "log": str(self.settings.data_dir / LOG_NAME),
            "new": lists["new"][:MAX_LISTED], "changed": lists["changed"][:MAX_LISTED],
            "gone": [{"url": u} for u in gone[:MAX_LISTED]],
            "failures": lists["failed"][:MAX_LISTED], "broken_links": self.broken[:MAX_LISTED],
            "discovery_errors": [f"{d.url} : {d.error}" for d in self.discovery
                                 if not d.ok and not d.optional][:MAX_LISTED],
            "warnings": [d.error for d in self.discovery if d.kind == "category" and d.error],
        }
        self.catalog.finish_run(self.run_id, dict(counts), self.errors, details)
        self.catalog.close()
