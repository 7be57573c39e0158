"""The crawl's side of the catalog: conditional-request validators, documents seen
again, absences counted only when they mean something, and the links from articles.

A mixin of `Catalog` (fonds/catalog.py), which provides the connection and transactions.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fonds.models import DocStatus, ExtractionStatus, Link


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Absences:
    """What a healthy crawl's end found missing from a source."""

    missing: int  # active documents not seen this run
    gone: tuple[str, ...] = ()  # URLs of those now gone (missing gone_after runs in a row)
    refused: str | None = None  # why none was counted (too many at once)


def _share(fraction: float) -> str:
    return {0.2: "cinquième", 0.25: "quart", 0.5: "tiers"}.get(fraction, f"{fraction:.0%}")


class CrawlCatalog:
    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    if TYPE_CHECKING:  # in fonds/catalog_versions.py (declared only: the MRO must find it)
        @staticmethod
        def _seen_again(db: sqlite3.Connection, doc_id: str, stamp: str) -> None: ...

    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        """ETag and Last-Modified of a URL whose file we hold, for a conditional request."""
        row = self.db.execute(
            "SELECT u.etag, u.last_modified FROM urls u JOIN documents d ON d.id = u.doc_id"
            " WHERE u.url = ? AND d.sha256 IS NOT NULL AND d.status != ?",
            (url, DocStatus.FAILED)).fetchone()
        if row is None or not (row["etag"] or row["last_modified"]):
            return None
        return row["etag"], row["last_modified"]

    def set_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE urls SET etag = ?, last_modified = ? WHERE url = ?",
                       (etag, last_modified, url))

    def seen_unchanged(self, url: str, revive: bool = True) -> str | None:
        """A 304, or an article whose `modified` has not moved: the URL and its document
        were seen now; returns the document id. `revive`: a gone document is back (active,
        and indexed again by the next ingest); False for a failed fetch of a document we
        hold, which proves it is still linked but not that it is there."""
        stamp = now()
        with self.transaction() as db:
            row = db.execute("SELECT doc_id FROM urls WHERE url = ?", (url,)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE urls SET last_seen = ? WHERE url = ?", (stamp, url))
            db.execute("UPDATE documents SET last_seen = ?, missed_runs = 0 WHERE id = ?",
                       (stamp, row["doc_id"]))
            if revive:
                self._revive(db, row["doc_id"])
                self._seen_again(db, row["doc_id"], stamp)
        return str(row["doc_id"])

    @staticmethod
    def _revive(db: sqlite3.Connection, doc_id: str) -> None:
        # The ingest took a gone document out of the index (indexed = 0): back, it must be
        # processed again, or a plain `fonds ingest` would call it unchanged forever.
        db.execute("UPDATE documents SET status = ?, error = NULL, extraction_status ="
                   " CASE WHEN indexed = 0 AND extraction_status != ? THEN ?"
                   " ELSE extraction_status END WHERE id = ? AND status = ?",
                   (DocStatus.ACTIVE, ExtractionStatus.FAILED, ExtractionStatus.PENDING,
                    doc_id, DocStatus.GONE))

    def doc_id_for(self, url: str) -> str | None:
        row = self.db.execute("SELECT doc_id FROM urls WHERE url = ?", (url,)).fetchone()
        return str(row["doc_id"]) if row else None

    def article_modified(self, url: str) -> str | None:
        """The `modified` stamp the site gave for an article we hold (None: unknown), so a
        crawl need not record an article that has not changed."""
        row = self.db.execute(
            "SELECT d.meta FROM urls u JOIN documents d ON d.id = u.doc_id WHERE u.url = ?"
            " AND d.status != ? AND d.sha256 IS NOT NULL", (url, DocStatus.FAILED)).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row["meta"]).get("modified")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None

    def mark_missing(self, source: str, seen_since: str, gone_after: int,
                     max_share: float = 0.2) -> Absences:
        """Active documents of a source not seen since the crawl started miss one more run;
        after `gone_after` runs they are gone (kept, with their file). A run that would
        count more than `max_share` of the source missing at once counts none: that is
        what an outage or a broken site looks like, not what editors do."""
        with self.transaction() as db:
            total = db.execute("SELECT COUNT(*) FROM documents WHERE source = ? AND status = ?",
                               (source, DocStatus.ACTIVE)).fetchone()[0]
            missing = db.execute(
                "SELECT COUNT(*) FROM documents WHERE source = ? AND status = ? AND"
                " last_seen < ?", (source, DocStatus.ACTIVE, seen_since)).fetchone()[0]
            if missing > 1 and missing > total * max_share:
                return Absences(missing, (), (
                    f"{missing} documents sur {total} absents d'un coup (plus d'un "
                    f"{_share(max_share)}) : aucun n'est compté absent ; vérifiez le site"))
            # The first healthy crawl without it dates its disappearance.
            db.execute("UPDATE documents SET missed_runs = missed_runs + 1, unavailable_since"
                       " = COALESCE(unavailable_since, ?) WHERE source = ? AND last_seen < ?"
                       " AND status = ?", (now(), source, seen_since, DocStatus.ACTIVE))
            gone = [r["canonical_url"] for r in db.execute(
                "UPDATE documents SET status = ?, error = ? WHERE source = ? AND status = ?"
                " AND missed_runs >= ? RETURNING canonical_url",
                (DocStatus.GONE, f"absent du site depuis {gone_after} collectes", source,
                 DocStatus.ACTIVE, gone_after)).fetchall()]
        return Absences(missing, tuple(gone))

    # -- links (where a document was found) ---------------------------------------

    def add_link(self, doc_id: str, link: Link) -> None:
        """Record (or refresh) that an article links this document."""
        stamp = now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO links (doc_id, article_url, article_title, link_text, themes,"
                " article_date, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?)"
                " ON CONFLICT(doc_id, article_url) DO UPDATE SET"
                " article_title = excluded.article_title, link_text = excluded.link_text,"
                " themes = excluded.themes, article_date = excluded.article_date,"
                " last_seen = excluded.last_seen",
                (doc_id, link.article_url, link.article_title, link.link_text,
                 json.dumps(list(link.themes)), link.article_date, stamp, stamp))

    def links(self, doc_id: str) -> list[Link]:
        """The articles that link a document, most recently seen first."""
        rows = self.db.execute(
            "SELECT * FROM links WHERE doc_id = ? ORDER BY last_seen DESC, article_url",
            (doc_id,))
        return [Link(r["article_url"], r["article_title"], r["link_text"],
                     tuple(json.loads(r["themes"])), r["article_date"]) for r in rows]
