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
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (embedder TEXT NOT NULL, "
                        "hash TEXT NOT NULL, vector BLOB NOT NULL, "
                        "PRIMARY KEY (embedder, hash)) WITHOUT ROWID")

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
                found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, embedder_id: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT OR REPLACE INTO vectors (embedder, hash, vector) VALUES (?, ?, ?)",
            [(embedder_id, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items])
        self.db.execute("COMMIT")


def embed_texts(embedder: Embedder, cache: EmbeddingCache, texts: Sequence[str],
                batch_size: int = 32, on_batch: Callable[[int], None] = lambda n: None
                ) -> tuple[np.ndarray, int]:
    """Vectors for texts, from the cache or computed (and cached); also how many were new."""
    hashes = [text_hash(t) for t in texts]
    known = cache.get(embedder.info.id, hashes)
    missing = list(dict.fromkeys(h for h in hashes if h not in known))
    by_hash = {h: t for h, t in zip(hashes, texts, strict=True)}
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        vectors = embedder.embed_passages([by_hash[h] for h in batch], batch_size=batch_size)
        cache.put(embedder.info.id, list(zip(batch, vectors, strict=True)))
        known.update(zip(batch, vectors, strict=True))
        on_batch(len(batch))
    if not texts:
        return np.zeros((0, embedder.info.dim), dtype=np.float32), 0
    return np.stack([known[h] for h in hashes]), len(missing)
