"""Crawl sources from crawler/sources.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fonds.errors import FondsError

SOURCES_FILE = Path(__file__).with_name("sources.toml")
FAMILIES = ("wordpress",)


@dataclass(frozen=True)
class Source:
    name: str
    family: str
    base_url: str
    categories: tuple[str, ...] = ()
    official_domains: tuple[str, ...] = ()  # host or host:port

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return frozenset({self.host, *self.official_domains})


def load_sources(path: Path | None = None) -> list[Source]:
    """Sources from `path`, else the sources_file setting, else crawler/sources.toml."""
    if path is None:
        from fonds.settings import load_settings

        configured = load_settings().sources_file
        path = Path(configured) if configured else SOURCES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FondsError(f"{path} : illisible ({exc})") from None
    sources = []
    for entry in data.get("source", []):
        try:
            source = Source(name=entry["name"], family=entry["family"],
                            base_url=entry["base_url"].rstrip("/"),
                            categories=tuple(entry.get("categories", ())),
                            official_domains=tuple(entry.get("official_domains", ())))
        except KeyError as exc:
            raise FondsError(f"{path} : source sans « {exc.args[0]} »") from None
        if source.family not in FAMILIES:
            raise FondsError(f"{path} : famille inconnue « {source.family} » pour "
                             f"{source.name} (connues : {', '.join(FAMILIES)})")
        sources.append(source)
    return sources


def pick(sources: list[Source], name: str | None) -> list[Source]:
    if name is None:
        return sources
    chosen = [s for s in sources if s.name == name]
    if not chosen:
        raise FondsError(f"source inconnue « {name} » ; sources : "
                         + ", ".join(s.name for s in sources))
    return chosen
