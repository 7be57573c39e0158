"""The ingest's side of the catalog: passages kept for rebuilding the index, what the
index must hold, and the rows a damaged cell made unreadable.

A mixin of `Catalog` (fonds/catalog.py), which provides the connection and transactions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from fonds.catalog_crawl import now
from fonds.models import DocStatus, PassageRecord


def json_list(cell: str | None) -> list[Any]:
    """A JSON list cell; damage reads as empty (status names the damaged rows)."""
    try:
        value = json.loads(cell or "[]")
    except json.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


def json_dict(cell: str | None) -> dict[str, Any]:
    """A JSON object cell; damage reads as empty (status names the damaged rows)."""
    try:
        value = json.loads(cell or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class IngestCatalog:
    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    if TYPE_CHECKING:  # in fonds/catalog_versions.py (declared only: the MRO must find them)
        def _diff_cell(self, doc_id: str, sha256: str | None,
                       passages: Sequence[PassageRecord]) -> str | None: ...

        @staticmethod
        def _store_ingest(db: sqlite3.Connection, doc_id: str, sha256: str | None,
                          diff: str | None, pages: object) -> None: ...

    def passage_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    JSON_COLUMNS = ("themes", "departements", "meta", "notes", "auto_themes",
                    "auto_departements")

    def damaged_ids(self) -> list[str]:
        """Documents with a JSON cell that does not parse: read as empty (one bad row
        must not stop every command), and named by `fonds status` with the way back."""
        invalid = " OR ".join(f"NOT json_valid({c})" for c in self.JSON_COLUMNS)
        return [r[0] for r in self.db.execute(f"SELECT id FROM documents WHERE {invalid}")]

    def searchable_ids(self) -> set[str]:
        """Active documents with extracted passages: what the index must hold."""
        rows = self.db.execute(
            "SELECT DISTINCT d.id FROM documents d JOIN passages p ON p.doc_id = d.id"
            " WHERE d.status = ?", (DocStatus.ACTIVE,))
        return {r[0] for r in rows}

    # -- ingest ------------------------------------------------------------------

    def passages(self, doc_id: str) -> list[PassageRecord]:
        rows = self.db.execute(
            "SELECT * FROM passages WHERE doc_id = ? ORDER BY position", (doc_id,))
        return [PassageRecord(r["id"], r["doc_id"], r["position"], r["page"], r["heading"],
                              r["text"], r["text_hash"], bool(r["ocr"]),
                              tuple((int(a), int(b)) for a, b in json_list(r["page_breaks"])))
                for r in rows]

    def save_ingest(self, doc_id: str, sha256: str | None, passages: Sequence[PassageRecord],
                    fields: Mapping[str, Any]) -> None:
        """Record one document's ingest in one transaction: its passages and what was
        found. Called after the index commit, so a crash in between only means redoing it.
        Passages of another version replace that version's: what changed between the two
        is stored with the new version (fonds/catalog_versions.py)."""
        allowed = {"extraction_status", "error", "pages", "language", "notes", "auto_title",
                   "auto_themes", "auto_departements", "auto_doc_type", "auto_published",
                   "indexed", "status", "failure_kind", "failed_attempts"}
        assert set(fields) <= allowed, set(fields) - allowed
        values = {k: json.dumps(list(v)) if isinstance(v, tuple | list) else v
                  for k, v in fields.items()}
        values |= {"ingested_sha256": sha256, "ingested_at": now()}
        diff = self._diff_cell(doc_id, sha256, passages)
        with self.transaction() as db:
            db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
            db.executemany(
                "INSERT INTO passages (id, doc_id, position, page, heading, text, text_hash, ocr,"
                " page_breaks) VALUES (?,?,?,?,?,?,?,?,?)",
                [(p.id, p.doc_id, p.position, p.page, p.heading, p.text, p.text_hash,
                  int(p.ocr), json.dumps([list(b) for b in p.page_breaks])) for p in passages])
            assignments = ", ".join(f"{name} = ?" for name in values)
            db.execute(f"UPDATE documents SET {assignments} WHERE id = ?",
                       (*values.values(), doc_id))
            self._store_ingest(db, doc_id, sha256, diff, fields.get("pages"))

    def set_indexed(self, doc_ids: Sequence[str], indexed: bool) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE documents SET indexed = ? WHERE id = ?",
                           [(int(indexed), d) for d in doc_ids])
