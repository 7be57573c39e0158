"""Queries that found nothing, for staff: counted per normalised query, nothing personal.

What is kept: the normalised query (accents folded, lower case, numbers and addresses
masked), how many times it came, and the first and last day. No time of day, no session,
no address, no filter. Rows older than RETENTION_DAYS and beyond MAX_ROWS are dropped.
The UI only reads the archive; a data dir it cannot write to just records nothing.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

FILE_NAME = "requetes-sans-resultat.sqlite"
RETENTION_DAYS = 90
MAX_ROWS = 1000
MAX_CHARS = 120

_EMAIL = re.compile(r"\S+@\S+")
_NUMBER = re.compile(r"\d[\d .-]{3,}\d")  # phone, social security, street numbers…
_WORDS = re.compile(r"[^\w'-]+")


@dataclass(frozen=True)
class ZeroResult:
    query: str
    count: int
    first_day: str
    last_day: str


def normalise(query: str) -> str:
    """What a query is counted under: « Santé  MENTALE » and « sante mentale » are one;
    e-mail addresses and long numbers are masked before anything is stored."""
    text = _NUMBER.sub(" # ", _EMAIL.sub(" @ ", query))
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_WORDS.sub(" ", text).split())[:MAX_CHARS].strip()


def _connect(data_dir: Path) -> sqlite3.Connection:
    db = sqlite3.connect(data_dir / FILE_NAME, timeout=2)
    db.execute("CREATE TABLE IF NOT EXISTS zero_results (query TEXT PRIMARY KEY,"
               " count INTEGER NOT NULL, first_day TEXT NOT NULL, last_day TEXT NOT NULL)")
    return db


def record(data_dir: Path, query: str, today: date | None = None) -> bool:
    """Count one query that found nothing; False when nothing was stored (empty query,
    unwritable data dir)."""
    key = normalise(query)
    if not key or not data_dir.is_dir():
        return False
    day = (today or date.today()).isoformat()
    try:
        db = _connect(data_dir)
        with closing(db), db:
            db.execute("INSERT INTO zero_results VALUES (?, 1, ?, ?) ON CONFLICT(query)"
                       " DO UPDATE SET count = count + 1, last_day = excluded.last_day",
                       (key, day, day))
            _prune(db, today or date.today())
        return True
    except sqlite3.Error:
        return False


def _prune(db: sqlite3.Connection, today: date) -> None:
    oldest = (today - timedelta(days=RETENTION_DAYS)).isoformat()
    db.execute("DELETE FROM zero_results WHERE last_day < ?", (oldest,))
    db.execute("DELETE FROM zero_results WHERE query NOT IN (SELECT query FROM zero_results"
               " ORDER BY count DESC, last_day DESC LIMIT ?)", (MAX_ROWS,))


def top(data_dir: Path, limit: int = 50, today: date | None = None) -> list[ZeroResult]:
    """The most frequent queries that found nothing within the retention window."""
    if not (data_dir / FILE_NAME).is_file():
        return []
    oldest = ((today or date.today()) - timedelta(days=RETENTION_DAYS)).isoformat()
    try:
        db = sqlite3.connect(f"file:{data_dir / FILE_NAME}?mode=ro", uri=True, timeout=2)
        try:
            rows = db.execute("SELECT query, count, first_day, last_day FROM zero_results"
                              " WHERE last_day >= ? ORDER BY count DESC, last_day DESC"
                              " LIMIT ?", (oldest, limit)).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []
    return [ZeroResult(*row) for row in rows]
