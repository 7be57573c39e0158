"""Where a crawler may connect: global unicast addresses only (unless private is allowed).

The check is made twice: early in the downloader middleware (a clear reason before any
connection), and in the resolver the connection itself uses (`GuardedResolver`), so a
name that resolves to a public address for the check and to a private one for the
connection (DNS rebinding) is refused: the address checked is the address connected to.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PRIVATE = "adresse privée refusée"
UNRESOLVED = "nom de domaine introuvable"


def _embedded(address: Address) -> list[Address]:
    """The IPv4 addresses an IPv6 one carries (mapped, 6to4, Teredo, NAT64): each must be
    global too, or `2002:7f00:1::` reaches 127.0.0.1 through a relay."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    inner: list[Address] = []
    if address.ipv4_mapped:
        inner.append(address.ipv4_mapped)
    if address.sixtofour:
        inner.append(address.sixtofour)
    if address.teredo:
        inner.extend(address.teredo)
    if address in ipaddress.ip_network("64:ff9b::/96"):
        inner.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return inner


def is_global_address(address: Address) -> bool:
    """Global unicast: not private, shared (100.64/10), loopback, link-local, multicast,
    reserved or unspecified — and no private IPv4 address inside an IPv6 one."""
    if not address.is_global or address.is_multicast:
        return False
    return all(is_global_address(inner) for inner in _embedded(address))


def _is_local_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


@lru_cache(maxsize=1024)
def addresses(host: str) -> tuple[Address, ...]:
    """The addresses a host name stands for (itself for an IP literal); () when the
    lookup fails."""
    try:
        return (ipaddress.ip_address(host.strip("[]")),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return ()
    return tuple(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)


def refusal(host: str) -> str | None:
    """Why a host must not be reached (None: it may). A name that does not resolve is
    refused too: it proves nothing about where a later lookup would lead."""
    if _is_local_name(host):
        return f"{PRIVATE} : {host}"
    found = addresses(host)
    if not found:
        return f"{UNRESOLVED} : {host}"
    if not all(is_global_address(a) for a in found):
        return f"{PRIVATE} : {host}"
    return None


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's resolver, refusing non-global answers (unless private is allowed).

    Twisted connects to the address this resolver returns, so this is the check that
    counts; the middleware's is the early, readable one.
    """

    allow_private = False

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        fonds = crawler.settings.get("FONDS_SETTINGS")
        resolver.allow_private = bool(fonds and fonds.crawl_allow_private)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Any:  # noqa: N802
        if self.allow_private:
            return super().getHostByName(name, timeout)
        if _is_local_name(name):
            return defer.fail(DNSLookupError(f"{PRIVATE} : {name}"))
        deferred = super().getHostByName(name, timeout)
        deferred.addCallback(self._check, name)
        return deferred

    @staticmethod
    def _check(ip: str, name: str) -> str:
        if not is_global_address(ipaddress.ip_address(ip)):
            raise DNSLookupError(f"{PRIVATE} : {name} → {ip}")
        return ip
