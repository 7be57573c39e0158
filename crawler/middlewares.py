"""Downloader middlewares: the allow-list and private-address guard, conditional requests."""

from __future__ import annotations

import asyncio
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.response import response_status_message

from crawler.addresses import refusal
from crawler.settings import fonds_settings
from fonds.catalog import Catalog
from fonds.settings import Settings


def is_private(host: str) -> bool:
    """Not somewhere a crawler should reach: a non-global address, a local name, or a
    name that does not resolve (kept for callers; `refusal` says why)."""
    return refusal(host) is not None


class RequestCapReached(IgnoreRequest):
    """FONDS_CRAWL_MAX_REQUESTS reached: the request is dropped, nothing is recorded."""


class SafetyMiddleware:
    """No request outside the source's hosts (robots.txt of those hosts aside), and none to
    private addresses unless crawl_allow_private — also after a redirect, since the
    redirect middleware sends the new request through here again. The resolver checks
    again the address actually connected to (crawler.addresses.GuardedResolver)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = fonds_settings(crawler)
        self.allow_private = settings.crawl_allow_private
        # A hard cap: Scrapy's CLOSESPIDER_PAGECOUNT counts responses and lets every
        # request already scheduled through.
        self.max_requests = settings.crawl_max_requests
        self.sent = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> SafetyMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlsplit(request.url)
        allowed = getattr(self.crawler.spider, "allowed_hosts", None)
        if allowed is not None and host.netloc not in allowed:
            raise IgnoreRequest(f"hors de la liste autorisée : {host.netloc}")
        refused = None if self.allow_private else refusal(host.hostname or "")
        if refused:
            raise IgnoreRequest(refused)
        if self.max_requests and self.sent >= self.max_requests:
            self.crawler.stats.inc_value("fonds/capped")
            raise RequestCapReached("plafond de requêtes atteint")
        self.sent += 1


class ConditionalRequestMiddleware:
    """If-None-Match / If-Modified-Since for documents we already hold: an unchanged file
    is answered 304 and not downloaded again."""

    def __init__(self, settings: Settings) -> None:
        self.catalog = Catalog(settings.catalog_path)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        return cls(fonds_settings(crawler))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if not request.meta.get("document"):
            return
        known = self.catalog.validators(request.url)
        if known is None:
            return
        etag, last_modified = known
        if etag:
            request.headers.setdefault("If-None-Match", etag)
        if last_modified:
            request.headers.setdefault("If-Modified-Since", last_modified)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, waiting first: the Retry-After a server asks for (capped), else an
    exponential backoff. The wait does not block other requests (asyncio sleep)."""

    MAX_WAIT_S = 120.0

    async def process_response(self, request: Request, response: Response,
                               spider: Spider | None = None) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retries = request.meta.get("retry_times", 0)
        if retries >= request.meta.get("max_retry_times", self.max_retry_times):
            return self._retry(request, response_status_message(response.status)) or response
        wait = _retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = min(2.0 ** retries, 30.0)
        await asyncio.sleep(min(wait, self.MAX_WAIT_S))
        return self._retry(request, response_status_message(response.status)) or response


def _retry_after(value: bytes | None) -> float | None:
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None  # a header from outside: garbage is no wait, never a crash
