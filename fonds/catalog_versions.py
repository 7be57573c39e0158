"""The versions side of the catalog: every content a document's URLs served, with the
dates it was first and last seen, and what changed from the one before.

A mixin of `Catalog` (fonds/catalog.py), which provides the connection and transactions.
A version follows documents.sha256: whenever a crawl or an import gives a document new
bytes, the catalog adds a version; the files stay in files/ (nothing deletes them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, closing
from pathlib import Path
from typing import TYPE_CHECKING

from fonds.models import PassageRecord
from fonds.versions import Version, compare, load_diff, unavailable

MAX_CHANGED = 50  # documents listed as changed by the last runs


def _version(row: sqlite3.Row) -> Version:
    diff, error = load_diff(row["diff"])
    return Version(row["doc_id"], row["number"], row["sha256"], row["size"], row["pages"],
                   row["file_path"], row["media_type"], row["first_seen"], row["last_seen"],
                   diff, error)


def version_counts(catalog_path: Path, doc_ids: Iterable[str]) -> dict[str, int] | None:
    """How many versions each document has, read without writing (a search may run on
    a read-only archive); None when the catalog cannot be read."""
    ids = list(dict.fromkeys(doc_ids))
    if not catalog_path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{catalog_path.resolve().as_uri()}?mode=ro",
                                     uri=True, timeout=10.0)) as db:
            counts = {i: 0 for i in ids}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for doc_id, n in db.execute(
                        f"SELECT doc_id, COUNT(*) FROM versions WHERE doc_id IN ({marks})"
                        " GROUP BY doc_id", chunk):
                    counts[doc_id] = n
            return counts
    except sqlite3.Error:
        return None


class VersionCatalog:
    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    if TYPE_CHECKING:  # in fonds/catalog_ingest.py (declared only: the MRO must find it)
        def passages(self, doc_id: str) -> list[PassageRecord]: ...

    # -- written by record(), seen_unchanged() and save_ingest() -------------------------

    @staticmethod
    def _track_version(db: sqlite3.Connection, doc_id: str, stamp: str,
                       confirmed: bool) -> None:
        """After a document was recorded: its content is a new version when it differs
        from the latest one; `confirmed` (the observation carried these bytes) moves the
        latest version's last_seen."""
        doc = db.execute("SELECT sha256, size, file_path, media_type FROM documents"
                         " WHERE id = ?", (doc_id,)).fetchone()
        if doc is None or doc["sha256"] is None:
            return
        last = db.execute("SELECT id, number, sha256 FROM versions WHERE doc_id = ?"
                          " ORDER BY number DESC LIMIT 1", (doc_id,)).fetchone()
        if last is None or last["sha256"] != doc["sha256"]:
            db.execute(
                "INSERT INTO versions (doc_id, number, sha256, size, file_path, media_type,"
                " first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?)",
                (doc_id, last["number"] + 1 if last else 1, doc["sha256"], doc["size"],
                 doc["file_path"], doc["media_type"], stamp, stamp))
        elif confirmed:
            db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", (stamp, last["id"]))

    @staticmethod
    def _seen_again(db: sqlite3.Connection, doc_id: str, stamp: str) -> None:
        """The document answered with the content we hold (a 304): it is there."""
        db.execute("UPDATE documents SET unavailable_since = NULL WHERE id = ?", (doc_id,))
        db.execute("UPDATE versions SET last_seen = ? WHERE id = (SELECT id FROM versions"
                   " WHERE doc_id = ? ORDER BY number DESC LIMIT 1)", (stamp, doc_id))

    def _diff_cell(self, doc_id: str, sha256: str | None,
                   passages: Sequence[PassageRecord]) -> str | None:
        """What changed from the text the ingest is replacing to this version's, as the
        versions.diff cell; None when the ingest is not replacing another version's text.
        Computed before the write transaction (it is the slow part)."""
        row = self.db.execute("SELECT ingested_sha256 FROM documents WHERE id = ?",
                              (doc_id,)).fetchone()
        if sha256 is None or row is None or row["ingested_sha256"] == sha256:
            return None
        base = row["ingested_sha256"]
        if base is None:
            earlier = self.db.execute(
                "SELECT COUNT(*) FROM versions WHERE doc_id = ? AND sha256 != ?",
                (doc_id, sha256)).fetchone()[0]
            return unavailable("la version précédente n'a jamais été indexée") if earlier \
                else None
        old = self.passages(doc_id)
        if not old:
            return unavailable("la version précédente n'avait pas de texte extrait")
        if not passages:
            return unavailable("le texte de cette version n'a pas pu être extrait")
        return compare(old, passages, base).dumps()

    @staticmethod
    def _store_ingest(db: sqlite3.Connection, doc_id: str, sha256: str | None,
                      diff: str | None, pages: object) -> None:
        """The ingest's findings on the version it read: its pages, its diff."""
        if sha256 is None:
            return
        db.execute("UPDATE versions SET diff = COALESCE(?, diff), pages = COALESCE(?, pages)"
                   " WHERE id = (SELECT id FROM versions WHERE doc_id = ? AND sha256 = ?"
                   " ORDER BY number DESC LIMIT 1)",
                   (diff, pages if isinstance(pages, int) and pages > 0 else None, doc_id,
                    sha256))

    # -- read ---------------------------------------------------------------------------

    def versions(self, doc_id: str) -> list[Version]:
        """A document's versions, the first seen first."""
        return [_version(r) for r in self.db.execute(
            "SELECT * FROM versions WHERE doc_id = ? ORDER BY number", (doc_id,))]

    def version(self, doc_id: str, number: int) -> Version | None:
        row = self.db.execute("SELECT * FROM versions WHERE doc_id = ? AND number = ?",
                              (doc_id, number)).fetchone()
        return _version(row) if row else None

    def changed_since(self, stamp: str, limit: int = MAX_CHANGED) -> list[tuple[Version, int]]:
        """The documents that got a new version (after their first) at or after `stamp`,
        newest first: each one's latest version, and how many it got since then."""
        rows = self.db.execute(
            "SELECT v.*, m.k FROM versions v JOIN (SELECT doc_id, MAX(number) AS n,"
            " COUNT(*) AS k FROM versions WHERE number > 1 AND first_seen >= ?"
            " GROUP BY doc_id) m ON v.doc_id = m.doc_id AND v.number = m.n"
            " ORDER BY v.first_seen DESC, v.doc_id LIMIT ?", (stamp, limit))
        return [(_version(r), int(r["k"])) for r in rows]

    def unavailable_since(self, doc_id: str) -> str | None:
        """When the document's address first failed to give it (an error such as a 404,
        or absent from a healthy crawl) since it was last there; None: it is there."""
        row = self.db.execute("SELECT unavailable_since FROM documents WHERE id = ?",
                              (doc_id,)).fetchone()
        return row["unavailable_since"] if row else None
