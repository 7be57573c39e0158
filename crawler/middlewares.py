"""Downloader middlewares: the allow-list and private-address guard, conditional requests."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.response import response_status_message

from fonds.catalog import Catalog


@lru_cache(maxsize=1024)
def _addresses(host: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return ()
    return tuple(ipaddress.ip_address(info[4][0]) for info in infos)


def is_private(host: str) -> bool:
    """Loopback, private, link-local or reserved: not somewhere a crawler should reach."""
    return any(a.is_loopback or a.is_private or a.is_link_local or a.is_reserved
               or a.is_unspecified for a in _addresses(host))


class RequestCapReached(IgnoreRequest):
    """FONDS_CRAWL_MAX_REQUESTS reached: the request is dropped, nothing is recorded."""


class SafetyMiddleware:
    """No request outside the source's hosts (robots.txt of those hosts aside), and none to
    private addresses unless FONDS_CRAWL_ALLOW_PRIVATE — also after a redirect, since the
    redirect middleware sends the new request through here again."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool("FONDS_ALLOW_PRIVATE")
        # A hard cap: Scrapy's CLOSESPIDER_PAGECOUNT counts responses and lets every
        # request already scheduled through.
        self.max_requests = crawler.settings.getint("FONDS_MAX_REQUESTS", 0)
        self.sent = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> SafetyMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlsplit(request.url)
        allowed = getattr(self.crawler.spider, "allowed_hosts", None)
        if allowed is not None and host.netloc not in allowed:
            raise IgnoreRequest(f"hors de la liste autorisée : {host.netloc}")
        if not self.allow_private and host.hostname and is_private(host.hostname):
            raise IgnoreRequest(f"adresse privée refusée : {host.hostname}")
        if self.max_requests and self.sent >= self.max_requests:
            self.crawler.stats.inc_value("fonds/capped")
            raise RequestCapReached("plafond de requêtes atteint")
        self.sent += 1


class ConditionalRequestMiddleware:
    """If-None-Match / If-Modified-Since for documents we already hold: an unchanged file
    is answered 304 and not downloaded again."""

    def __init__(self, catalog_path: str) -> None:
        self.catalog = Catalog(Path(catalog_path))

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        return cls(crawler.settings.get("FONDS_CATALOG"))

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
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
