"""Search engines behind one protocol, chosen by the `engine` setting."""

from __future__ import annotations

from fonds.engines.base import SearchEngine
from fonds.settings import Settings


def open_engine(settings: Settings, *, search_only: bool = False) -> SearchEngine:
    """The configured engine. `search_only` is for the UI: it never receives a write key."""
    if settings.engine == "meilisearch":
        from fonds.engines.meili import MeiliEngine

        return MeiliEngine.from_settings(settings, search_only=search_only)
    from fonds.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(settings.index_dir)
