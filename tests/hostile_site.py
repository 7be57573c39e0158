"""What a hostile or broken web server does: the replica's hostile mode (tests only).

Each case is a link on one article of the replica and an answer under /hostile/: the crawl
must finish, record each with a status and a reason, and leave nothing half-written.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from replica.pdf import Section, make_pdf

SLOW_S = 4.0  # longer than the tests' request timeout
BOMB_MB = 300  # inflated size of the gzip bomb


@dataclass(frozen=True)
class Case:
    path: str
    label: str
    expect: str  # what the catalog should say: a fragment of the error, or "active"


CASES = (
    Case("/hostile/erreur-serveur.pdf", "Erreur 500", "HTTP 500"),
    Case("/hostile/indisponible.pdf", "Toujours 503", "HTTP 503"),
    Case("/hostile/lent.pdf", "Délai dépassé", "délai dépassé"),
    Case("/hostile/tronque.pdf", "Réponse tronquée", "tronquée"),
    Case("/hostile/boucle.pdf", "Redirections en boucle", "redirections"),
    Case("/hostile/bombe.pdf", "Bombe gzip", "taille maximale"),
    Case("/hostile/enorme.pdf", "Fichier trop gros", "taille maximale"),
    Case("/hostile/type-html.pdf", "PDF servi comme HTML", "active"),
    Case("/hostile/image.pdf", "Image nommée .pdf", "non reconnu"),
    Case("/hostile/vers-prive.pdf", "Redirection vers le réseau interne", "hors de la liste"),
)


def links() -> str:
    return "".join(f"<p><a href=\"{c.path}\">{c.label}</a></p>" for c in CASES)


def small_pdf() -> bytes:
    return make_pdf("Document servi avec un mauvais type",
                    [Section("Contenu", ("Un vrai PDF annoncé comme une page HTML.",))],
                    "2020-01-01")


@cache
def _bomb() -> bytes:
    return gzip.compress(b"\0" * (BOMB_MB * 2**20), compresslevel=9)


PRIVATE_URL = "http://10.255.255.1/interne.pdf"


def answer(path: str, send: Callable[..., None], raw: Callable[[bytes], None],
           max_bytes: int) -> bool:
    """Answer a /hostile/ path; False when the path is not one of ours."""
    if path == "/hostile/erreur-serveur.pdf":
        send(500, b"Erreur interne", "text/plain")
    elif path == "/hostile/indisponible.pdf":
        send(503, b"Indisponible", "text/plain", {"Retry-After": "0"})
    elif path == "/hostile/lent.pdf":
        time.sleep(SLOW_S)
        send(200, small_pdf(), "application/pdf")
    elif path == "/hostile/tronque.pdf":
        body = small_pdf()
        # Announces the whole file, sends a third, closes the connection.
        raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body[:len(body) // 3])
    elif path in ("/hostile/boucle.pdf", "/hostile/boucle-retour.pdf"):
        other = "/hostile/boucle-retour.pdf" if path == "/hostile/boucle.pdf" else (
            "/hostile/boucle.pdf")
        send(302, headers={"Location": other})
    elif path == "/hostile/bombe.pdf":
        send(200, _bomb(), "application/pdf", {"Content-Encoding": "gzip"})
    elif path == "/hostile/enorme.pdf":
        # Declares more than the cap; the client must stop before reading it all.
        size = max_bytes + 2**20
        raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: "
            + str(size).encode() + b"\r\nConnection: close\r\n\r\n%PDF-1.4\n"
            + b"0" * min(size, 4 * 2**20))
    elif path == "/hostile/type-html.pdf":
        send(200, small_pdf(), "text/html; charset=utf-8")
    elif path == "/hostile/image.pdf":
        send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, "application/pdf")
    elif path == "/hostile/vers-prive.pdf":
        send(302, headers={"Location": PRIVATE_URL})
    else:
        return False
    return True


class Hostile:
    """The replica's HostileMode: pass `SiteState(hostile=Hostile())`."""

    def links(self) -> str:
        return links()

    def answer(self, path: str, send: Callable[..., None], raw: Callable[[bytes], None],
               max_bytes: int) -> bool:
        return answer(path, send, raw, max_bytes)
