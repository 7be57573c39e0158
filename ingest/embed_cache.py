"""Passage vectors cached by (embedder, text hash): no passage is ever embedded twice.

A SQLite file beside the catalog (data/embeddings.sqlite): derived data, safe to delete,
kept out of the catalog so that backups of the catalog stay small.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from fonds.embedding import Embedder


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Opened with `say`, a damaged file is reported in one line and rebuilt: it only
    holds what can be computed again."""

    def __init__(self, path: Path, say: Callable[[str], None] = lambda m: None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = self._open(path)
        except sqlite3.DatabaseError as exc:
            say(f"cache des vecteurs {path} illisible ({exc}) : reconstruit (les passages "
                "seront vectorisés à nouveau)")
            for stale in (path, path.with_name(path.name + "-wal"),
                          path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
            self.db = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS vectors (embedder TEXT NOT NULL, "
                       "hash TEXT NOT NULL, vector BLOB NOT NULL, "
                       "PRIMARY KEY (embedder, hash)) WITHOUT ROWID")
            db.execute("SELECT embedder, hash, vector FROM vectors LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self.db.close()

    def get(self, embedder_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for h, blob in self.db.execute(
                    f"SELECT hash, vector FROM vectors WHERE embedder = ? AND hash IN ({marks})",
                    (embedder_id, *chunk)):
                if isinstance(blob, bytes) and blob and len(blob) % 4 == 0:
                    found[h] = np.frombuffer(blob, dtype=np.float32)  # else: computed again
        return found

    def put(self, embedder_id: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT OR REPLACE INTO vectors (embedder, hash, vector) VALUES (?, ?, ?)",
            [(embedder_id, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items])
        self.db.execute("COMMIT")


def embed_texts(embedder: Embedder, cache: EmbeddingCache, texts: Sequence[str],
                batch_size: int = 32) -> tuple[np.ndarray, int]:
    """Vectors for texts, from the cache or computed (and cached); also how many were new."""
    hashes = [text_hash(t) for t in texts]
    known = {h: v for h, v in cache.get(embedder.info.id, hashes).items()
             if v.shape == (embedder.info.dim,)}  # a damaged row is computed again
    by_hash = {h: t for h, t in zip(hashes, texts, strict=True)}
    # Batches of passages of similar length: a batch is padded to its longest text, so
    # mixing one long passage with short ones spends the short ones' time on padding.
    # The result keeps the order of texts (vectors are looked up by hash).
    missing = sorted(dict.fromkeys(h for h in hashes if h not in known),
                     key=lambda h: len(by_hash[h]), reverse=True)
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        vectors = embedder.embed_passages([by_hash[h] for h in batch], batch_size=batch_size)
        cache.put(embedder.info.id, list(zip(batch, vectors, strict=True)))
        known.update(zip(batch, vectors, strict=True))
    if not texts:
        return np.zeros((0, embedder.info.dim), dtype=np.float32), 0
    return np.stack([known[h] for h in hashes]), len(missing)
