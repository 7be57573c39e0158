"""The catalog: SQLite source of truth for sources, documents, their URLs and runs.

WAL mode lets the UI read while a crawl or an ingest writes. Every observation is
recorded in its own transaction, so a killed process leaves a catalog that opens and
a rerun that completes. The schema moves forward through numbered migrations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fonds.catalog_crawl import CrawlCatalog, now
from fonds.catalog_ingest import IngestCatalog, json_dict, json_list
from fonds.catalog_schema import MIGRATIONS, SCHEMA_VERSION
from fonds.catalog_versions import VersionCatalog
from fonds.errors import FondsError, read_only_error
from fonds.models import (
    DocStatus,
    Document,
    ExtractionStatus,
    FailureKind,
    Observation,
    Outcome,
    Run,
    RunKind,
)
from fonds.values import MAX_LABEL, clean_labels, clean_text, parse_date


def document_id(canonical_url: str) -> str:
    """Stable id from the canonical URL: a new version of a file keeps its id."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def clean_observation(obs: Observation) -> Observation:
    """The edge for everything a crawl or an import says about a document: texts without
    control characters and bounded, labels as a clean list, a date ISO or dropped. What
    was dropped is noted in meta["rejected"] (the ingest shows it with its notes)."""
    rejected: list[str] = []
    published = parse_date(obs.published) if obs.published else None
    if obs.published and published is None:
        rejected.append(f"date illisible ignorée : « {clean_text(obs.published, 40)} »")
    title = clean_text(obs.title)
    if obs.title and title is None:
        rejected.append("titre vide ou illisible ignoré")
    meta = dict(obs.meta)
    if rejected:
        meta["rejected"] = [*meta.get("rejected", ()), *rejected]  # type: ignore[misc]
    return dataclasses.replace(
        obs, title=title, published=published, meta=meta,
        source=clean_text(obs.source, MAX_LABEL), doc_type=clean_text(obs.doc_type, MAX_LABEL),
        themes=clean_labels(list(obs.themes)), departements=clean_labels(list(obs.departements)),
        error=None if obs.error is None else (clean_text(obs.error, 500) or "erreur"))


class Catalog(CrawlCatalog, IngestCatalog, VersionCatalog):
    """Read and write the catalog. One instance per thread; cheap to open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise FondsError(f"catalogue {path} : impossible de l'ouvrir ({exc})") from None
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            storage = read_only_error(path, "le catalogue SQLite doit pouvoir y écrire son "
                                            "journal")
            if storage is not None:
                raise storage from None
            raise FondsError(f"catalogue {path} : illisible ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two writers queue instead of failing.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise FondsError(
                f"catalogue {self.path} : schéma v{version} plus récent que ce programme "
                f"(v{SCHEMA_VERSION}) ; mettez fonds à jour"
            )
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as db:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- documents ---------------------------------------------------------------

    def record(self, obs: Observation) -> tuple[Outcome, str]:
        """Record one observation; return what it did and the document id.

        One file content is one document. A URL already known updates its document (a new
        version when the sha256 differs) unless the document is also known under other URLs
        or the new content is another document's: then the URL moves, and the document it
        leaves keeps its file and its other URLs. Content already known under another URL
        adds that URL to the same document.
        """
        obs = clean_observation(obs)
        stamp = now()
        with self.transaction() as db:
            row = db.execute("SELECT doc_id FROM urls WHERE url = ?", (obs.url,)).fetchone()
            doc = self._row(db, row["doc_id"]) if row else None
            holder = None
            if obs.sha256 is not None:
                hit = db.execute(
                    "SELECT id FROM documents WHERE sha256 = ? ORDER BY first_seen LIMIT 1",
                    (obs.sha256,),
                ).fetchone()
                holder = self._row(db, hit["id"]) if hit else None
            if doc is not None and obs.sha256 is not None and doc["sha256"] not in (
                    None, obs.sha256):
                # A redirect's two ends are one address: the pair changes together.
                pair = {str(obs.meta.get("final_url") or ""),
                        str(json_dict(doc["meta"]).get("final_url") or "")}
                others = [r for r in db.execute(
                    "SELECT url FROM urls WHERE doc_id = ? AND url != ? ORDER BY first_seen,"
                    " url", (doc["id"], obs.url)).fetchall() if r["url"] not in pair]
                if others or holder is not None:
                    if doc["canonical_url"] == obs.url and others:
                        db.execute("UPDATE documents SET canonical_url = ? WHERE id = ?",
                                   (others[0]["url"], doc["id"]))
                    doc = None  # the URL moves; the document it leaves is left alone
            if doc is None:
                doc = holder

            if doc is None:
                doc_id = document_id(obs.url)
                taken = 0
                while db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone():
                    taken += 1  # this URL named another content before
                    doc_id = document_id(f"{obs.url}\n{obs.sha256}\n{taken}")
                canonical = obs.url
                if db.execute("SELECT 1 FROM documents WHERE canonical_url = ?",
                              (canonical,)).fetchone():
                    canonical = f"{obs.url}#{doc_id}"
                db.execute(
                    "INSERT INTO documents (id, canonical_url, sha256, file_path, media_type,"
                    " size, title, source, doc_type, themes, departements, published,"
                    " first_seen, last_seen, status, extraction_status, error, meta)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        doc_id, canonical, obs.sha256, obs.file_path, obs.media_type, obs.size,
                        obs.title, obs.source, obs.doc_type, json.dumps(list(obs.themes)),
                        json.dumps(list(obs.departements)), obs.published, stamp, stamp,
                        DocStatus.FAILED if obs.failed else DocStatus.ACTIVE,
                        # nothing to extract from what could not be fetched or is unusable
                        ExtractionStatus.FAILED if obs.failed else ExtractionStatus.PENDING,
                        obs.error, json.dumps(dict(obs.meta)),
                    ),
                )
                outcome = Outcome.FAILED if obs.failed else Outcome.NEW
            else:
                doc_id = doc["id"]
                outcome = self._update(db, doc, obs, stamp)

            db.execute(
                "INSERT INTO urls (url, doc_id, first_seen, last_seen) VALUES (?,?,?,?)"
                " ON CONFLICT(url) DO UPDATE SET last_seen = excluded.last_seen,"
                " doc_id = excluded.doc_id",
                (obs.url, doc_id, stamp, stamp),
            )
            self._track_version(db, doc_id, stamp, not obs.failed and obs.sha256 is not None)
        return outcome, doc_id

    def _update(
        self, db: sqlite3.Connection, doc: sqlite3.Row, obs: Observation, stamp: str
    ) -> Outcome:
        if obs.failed:
            if doc["sha256"] is not None and doc["status"] != DocStatus.FAILED:
                # A transient failure must not lose a document we hold a copy of; the
                # first one dates its disappearance (a 404 keeps the last version).
                db.execute("UPDATE documents SET error = ?, unavailable_since ="
                           " COALESCE(unavailable_since, ?) WHERE id = ?",
                           (obs.error, stamp, doc["id"]))
                return Outcome.FAILED
            db.execute(
                "UPDATE documents SET status = ?, extraction_status = ?, error = ?,"
                " last_seen = ? WHERE id = ?",
                (DocStatus.FAILED, ExtractionStatus.FAILED, obs.error, stamp, doc["id"]),
            )
            return Outcome.FAILED

        changed = obs.sha256 != doc["sha256"]
        # The same bytes whose extraction failed stay failed, with their reason: only the
        # ingest (which retries what may have gone away) can clear it.
        extraction_failed = (not changed and doc["status"] == DocStatus.FAILED
                             and doc["extraction_status"] == ExtractionStatus.FAILED
                             and doc["failure_kind"] is not None)
        updates: dict[str, Any] = {"last_seen": stamp, "missed_runs": 0,
                                   "unavailable_since": None}
        if not extraction_failed:
            updates |= {"status": DocStatus.ACTIVE, "error": None}
        if doc["status"] == DocStatus.GONE and not changed:
            self._revive(db, doc["id"])  # back: indexed again by the next ingest
        if changed:
            updates |= {
                "sha256": obs.sha256,
                "file_path": obs.file_path,
                "media_type": obs.media_type,
                "size": obs.size,
                "extraction_status": ExtractionStatus.PENDING,
                "failure_kind": None,
                "failed_attempts": 0,
            }
        # Metadata only fills in or refreshes; an observation without a value keeps ours.
        for name in ("title", "source", "doc_type", "published"):
            value = getattr(obs, name)
            if value:
                updates[name] = value
        if obs.themes:
            updates["themes"] = json.dumps(
                sorted(set(json.loads(doc["themes"])) | set(obs.themes))
            )
        if obs.departements:
            updates["departements"] = json.dumps(
                sorted(set(json.loads(doc["departements"])) | set(obs.departements))
            )
        if obs.meta:
            updates["meta"] = json.dumps(json.loads(doc["meta"]) | dict(obs.meta))
        assignments = ", ".join(f"{name} = ?" for name in updates)
        db.execute(
            f"UPDATE documents SET {assignments} WHERE id = ?", (*updates.values(), doc["id"])
        )
        if changed:
            return Outcome.CHANGED
        was_failed = doc["status"] == DocStatus.FAILED and not extraction_failed
        if was_failed and doc["extraction_status"] == ExtractionStatus.FAILED:
            # a file refused at the edge (empty, wrong type) that is now accepted
            db.execute("UPDATE documents SET extraction_status = ? WHERE id = ?",
                       (ExtractionStatus.PENDING, doc["id"]))
        return Outcome.CHANGED if was_failed else Outcome.UNCHANGED

    @staticmethod
    def _row(db: sqlite3.Connection, doc_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row

    def document(self, doc_id: str) -> Document | None:
        row = self._row(self.db, doc_id)
        return self._document(row) if row else None

    def documents(self, status: DocStatus | None = None) -> list[Document]:
        if status is None:
            rows = self.db.execute("SELECT * FROM documents ORDER BY first_seen, id").fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM documents WHERE status = ? ORDER BY first_seen, id", (status,)
            ).fetchall()
        return [self._document(row) for row in rows]

    def _document(self, row: sqlite3.Row) -> Document:
        urls = tuple(
            r["url"]
            for r in self.db.execute(
                "SELECT url FROM urls WHERE doc_id = ? ORDER BY first_seen, url", (row["id"],)
            )
        )
        return Document(
            id=row["id"],
            canonical_url=row["canonical_url"],
            urls=urls,
            sha256=row["sha256"],
            file_path=row["file_path"],
            media_type=row["media_type"],
            size=row["size"],
            title=row["title"],
            source=row["source"],
            doc_type=row["doc_type"],
            themes=tuple(json_list(row["themes"])),
            departements=tuple(json_list(row["departements"])),
            published=row["published"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            status=DocStatus(row["status"]),
            extraction_status=ExtractionStatus(row["extraction_status"]),
            error=row["error"],
            meta=json_dict(row["meta"]),
            ingested_sha256=row["ingested_sha256"],
            indexed=bool(row["indexed"]),
            pages=row["pages"],
            language=row["language"],
            notes=tuple(json_list(row["notes"])),
            auto_title=row["auto_title"],
            auto_themes=tuple(json_list(row["auto_themes"])),
            auto_departements=tuple(json_list(row["auto_departements"])),
            auto_doc_type=row["auto_doc_type"],
            auto_published=row["auto_published"],
            failure_kind=FailureKind(row["failure_kind"]) if row["failure_kind"] else None,
            failed_attempts=row["failed_attempts"],
        )

    def status_counts(self) -> dict[str, int]:
        counts = {"total": 0, **{str(s): 0 for s in DocStatus}}
        for row in self.db.execute("SELECT status, COUNT(*) AS n FROM documents GROUP BY status"):
            counts[row["status"]] = row["n"]
            counts["total"] += row["n"]
        return counts

    def failures(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, canonical_url, status, extraction_status, error FROM documents"
            " WHERE status = ? OR extraction_status = ? ORDER BY last_seen DESC LIMIT ?",
            (DocStatus.FAILED, ExtractionStatus.FAILED, limit),
        )
        return [
            {
                "doc_id": r["id"],
                "url": r["canonical_url"],
                "status": r["status"] if r["status"] == DocStatus.FAILED else "extraction_failed",
                "error": r["error"] or "cause non enregistrée",
            }
            for r in rows
        ]

    # -- runs --------------------------------------------------------------------

    def start_run(self, kind: RunKind) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (kind, started) VALUES (?, ?)", (str(kind), now())
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(
        self, run_id: int, counts: Mapping[str, int], errors: Sequence[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """`details`: what a report needs beyond counts (a crawl's source, lists of new,
        changed, gone and failed documents, broken links with their article)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished = ?, counts = ?, errors = ?, details = ? WHERE id = ?",
                (now(), json.dumps(dict(counts)), json.dumps(list(errors)),
                 json.dumps(dict(details or {})), run_id),
            )

    def run_details(self, run_id: int) -> dict[str, Any]:
        row = self.db.execute("SELECT details FROM runs WHERE id = ?", (run_id,)).fetchone()
        try:
            value = json.loads(row["details"]) if row else {}
        except (ValueError, TypeError):
            return {}
        return value if isinstance(value, dict) else {}

    def runs(self, limit: int = 20, kind: RunKind | None = None) -> list[Run]:
        query = "SELECT * FROM runs"
        params: tuple[Any, ...] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            params = (str(kind),)
        query += " ORDER BY id DESC LIMIT ?"
        return [
            Run(
                id=r["id"],
                kind=RunKind(r["kind"]),
                started=r["started"],
                finished=r["finished"],
                counts=json.loads(r["counts"]),
                errors=tuple(json.loads(r["errors"])),
            )
            for r in self.db.execute(query, (*params, limit))
        ]
