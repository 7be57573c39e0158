"""Search engines behind one protocol, chosen by the `engine` setting (a table, name →
factory, as Scrapy chooses its file stores by URI scheme)."""

from __future__ import annotations

from collections.abc import Callable

from fonds.engines.base import SearchEngine
from fonds.errors import FondsError
from fonds.settings import Settings


def _embedded(settings: Settings, search_only: bool) -> SearchEngine:
    from fonds.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(settings.index_dir, fold=settings.fold_duplicates)


def _meilisearch(settings: Settings, search_only: bool) -> SearchEngine:
    from fonds.engines.meili import MeiliEngine

    return MeiliEngine.from_settings(settings, search_only=search_only)


ENGINES: dict[str, Callable[[Settings, bool], SearchEngine]] = {
    "embedded": _embedded,
    "meilisearch": _meilisearch,
}


def open_engine(settings: Settings, *, search_only: bool = False) -> SearchEngine:
    """The configured engine. `search_only` is for the UI: it never receives a write key."""
    factory = ENGINES.get(settings.engine)
    if factory is None:
        raise FondsError(f"moteur inconnu « {settings.engine} » ; moteurs : "
                         f"{', '.join(ENGINES)}")
    return factory(settings, search_only)
