"""One spider per source family: `Source.family` picks it from SPIDERS."""

from __future__ import annotations

from crawler.spiders.wordpress import WordPressSpider

SPIDERS: dict[str, type[WordPressSpider]] = {"wordpress": WordPressSpider}
