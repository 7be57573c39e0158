"""Item pipeline: files into the content-addressed store, observations into the catalog.

Nothing is indexed here (the ingest does it from disk). At the end of a crawl that ran to
its end, documents of the source that were not seen miss a run; after `gone_after_runs`
they are gone, kept with their file.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.items import ArticleItem, DocumentItem
from fonds import media
from fonds.catalog import Catalog, now
from fonds.files import FileStore, FileTooLarge
from fonds.models import Observation, Outcome, RunKind

COUNTS = ("new", "changed", "unchanged", "gone", "failed", "bytes", "requests")


def theme_of(category: str) -> str:
    """Category names of the resource centre are the taxonomy's themes, in lower case."""
    return category.strip().lower()


def _expected(url: str, content_type: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    if suffix in media.BY_SUFFIX:
        return media.BY_SUFFIX[suffix]
    kind = content_type.split(";")[0].strip().lower()
    return kind if kind in media.EXTENSIONS else media.PDF


class CatalogPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.data_dir = Path(settings.get("FONDS_DATA_DIR"))
        self.catalog = Catalog(Path(settings.get("FONDS_CATALOG")))
        self.store = FileStore(self.data_dir, settings.getint("FONDS_MAX_FILE_MB") * 2**20)
        self.gone_after = settings.getint("FONDS_GONE_AFTER_RUNS")
        self.counts: Counter[str] = Counter({k: 0 for k in COUNTS})
        self.errors: list[str] = []
        self.answered: set[str] = set()  # document URLs that got an answer or an error
        self.started = now()
        self.run_id = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> CatalogPipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        self.run_id = self.catalog.start_run(RunKind.CRAWL)

    def _source(self) -> str:
        return self.crawler.spider.source.name

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, ArticleItem):
            self._article(item)
        elif isinstance(item, DocumentItem):
            self._document(item)
        return item

    def _count(self, outcome: Outcome, url: str, error: str | None = None) -> None:
        self.counts[str(outcome)] += 1
        if outcome is Outcome.FAILED and error:
            self.errors.append(f"{url} : {error}")

    def _fail(self, url: str, error: str, meta: dict[str, Any]) -> None:
        outcome, _ = self.catalog.record(Observation(url=url, source=self._source(),
                                                     error=error, meta=meta))
        self._count(outcome, url, error)

    def _article(self, item: ArticleItem) -> None:
        stored = self.store.put_bytes(item.body_html.encode("utf-8"), "html")
        obs = Observation(
            url=item.url, sha256=stored.sha256, file_path=stored.relative_path,
            media_type=media.HTML, size=stored.size, title=item.title, source=self._source(),
            doc_type="article", themes=tuple(theme_of(c) for c in item.categories),
            published=item.published,
            meta={"summary": item.summary, "categories": item.categories,
                  "documents": item.documents})
        outcome, _ = self.catalog.record(obs)
        self._count(outcome, item.url)

    def _document(self, item: DocumentItem) -> None:
        self.answered.update((item.url, item.final_url))
        links = self.crawler.spider.links
        referrer, link_text = links.get(item.url, (item.referrer, item.link_text))
        meta = {"referrers": [{"url": referrer, "text": link_text}]} if referrer else {}
        if item.status == 304:
            self.catalog.seen_unchanged(item.url)
            self.counts["unchanged"] += 1
            return
        if item.error:
            self._fail(item.url, item.error, meta)
            return
        actual = media.sniff(item.body[:4096])
        try:
            final = self.store.put_bytes(item.body, media.EXTENSIONS[actual])
        except FileTooLarge as exc:
            self._fail(item.url, str(exc), meta)
            return
        error = "fichier vide" if not item.body else media.mismatch(
            _expected(item.url, item.content_type), actual)
        title = re.sub(r"^(Télécharger|Accéder à|Lire) (le |la |l'|l’)?", "",
                       link_text or "").strip() or None
        obs = Observation(
            url=item.url, sha256=final.sha256, file_path=final.relative_path,
            media_type=actual, size=final.size, title=title, source=self._source(),
            error=error, meta=meta | {"final_url": item.final_url})
        outcome, _ = self.catalog.record(obs)
        if item.final_url != item.url:  # a redirect: both URLs lead to the document
            self.catalog.record(Observation(url=item.final_url, sha256=final.sha256,
                                            file_path=final.relative_path, media_type=actual,
                                            size=final.size, source=self._source(),
                                            error=error))
        self.catalog.set_validators(item.url, item.etag, item.last_modified)
        self.counts["bytes"] += len(item.body)
        self._count(outcome, item.url, error)

    def _unanswered(self) -> None:
        """A link whose request vanished (a redirect loop ends in Scrapy's duplicate filter,
        without an error) still gets its line in the catalog."""
        for url, (referrer, text) in self.crawler.spider.links.items():
            if url not in self.answered:
                self._fail(url, "aucune réponse exploitable (redirections en boucle ?)",
                           {"referrers": [{"url": referrer, "text": text}]})

    def close_spider(self, spider: Any = None) -> None:
        stats = self.crawler.stats
        reason = stats.get_value("finish_reason")
        capped = int(stats.get_value("fonds/capped", 0))
        if capped:
            self.counts["capped"] = capped
        if reason in (None, "finished") and not capped:  # a partial run proves no absence
            self._unanswered()
            self.counts["gone"] += self.catalog.mark_missing(self._source(), self.started,
                                                             self.gone_after)
        self.counts["requests"] = int(stats.get_value("downloader/request_count", 0))
        blocked = int(stats.get_value("fonds/outside_allow_list", 0))
        if blocked:
            self.counts["outside_allow_list"] = blocked
        self.catalog.finish_run(self.run_id, dict(self.counts), self.errors)
        self.catalog.close()

