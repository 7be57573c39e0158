"""A progress line on the terminal during a crawl (stderr, only when it is a TTY): pages
fetched, documents found. Scrapy's own log goes to the data dir's crawl.log."""

from __future__ import annotations

import sys
import time
from typing import Any

from scrapy import signals

from crawler.items import ArticleItem, DocumentItem

EVERY_S = 0.5  # redraw at most this often


class Progress:
    def __init__(self, crawler: Any) -> None:
        self.stream = sys.stderr
        self.pages = self.articles = self.documents = 0
        self.drawn = 0.0
        self.name = ""

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        extension = cls(crawler)
        if extension.stream.isatty():
            crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
            crawler.signals.connect(extension.response, signal=signals.response_received)
            crawler.signals.connect(extension.item, signal=signals.item_scraped)
            crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        self.name = getattr(getattr(spider, "source", None), "name", spider.name)

    def response(self, **_: Any) -> None:
        self.pages += 1
        self._draw()

    def item(self, item: Any, **_: Any) -> None:
        if isinstance(item, ArticleItem):
            self.articles += 1
        elif isinstance(item, DocumentItem):
            self.documents += 1
        self._draw()

    def _draw(self, force: bool = False) -> None:
        moment = time.monotonic()
        if not force and moment - self.drawn < EVERY_S:
            return
        self.drawn = moment
        self.stream.write(f"\r\033[K{self.name} : {self.pages} pages reçues, "
                          f"{self.articles} articles, {self.documents} documents")
        self.stream.flush()

    def spider_closed(self, spider: Any) -> None:
        self._draw(force=True)
        self.stream.write("\n")
        self.stream.flush()
