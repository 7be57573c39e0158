"""Searching the archive: filters from user words, the query vector, the engine call.

The CLI and the UI both go through SearchService; neither talks to an engine directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fonds.embedding import Embedder, load_embedder
from fonds.engines import open_engine
from fonds.engines.base import DocHit, Filters, Mode, SearchEngine, SearchRequest, SearchResult
from fonds.errors import FondsError
from fonds.settings import Settings
from fonds.taxonomy import departement_code

MAX_QUERY_CHARS = 1000  # a pasted page is cut, not refused


def build_filters(
    themes: Iterable[str] = (), departements: Iterable[str] = (), doc_types: Iterable[str] = (),
    sources: Iterable[str] = (), year_from: int | None = None, year_to: int | None = None,
) -> Filters:
    """Filters from what a user typed: département names become INSEE codes."""
    def clean(values: Iterable[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))

    codes = tuple(departement_code(d) or d for d in clean(departements))
    return Filters(themes=clean(themes), departements=codes, doc_types=clean(doc_types),
                   sources=clean(sources), year_from=year_from, year_to=year_to)


class SearchService:
    def __init__(self, settings: Settings, engine: SearchEngine | None = None,
                 search_only: bool = True) -> None:
        self.settings = settings
        self.engine = engine or open_engine(settings, search_only=search_only)
        self._embedder: Embedder | None = None

    def embedder(self) -> Embedder | None:
        """The embedder recorded with the index; None for an index without vectors."""
        recorded = self.engine.meta().get("embedder")
        if not recorded:
            return None
        if self._embedder is None or self._embedder.info.as_json() != recorded:
            self._embedder = load_embedder(self.settings, recorded)
        return self._embedder

    def search(self, request: SearchRequest) -> SearchResult:
        query = request.query[:MAX_QUERY_CHARS]
        if query != request.query:
            request = SearchRequest(**{**request.__dict__, "query": query})
        vector = None
        if request.mode is not Mode.KEYWORD and query.strip():
            embedder = self.embedder()
            if embedder is None:
                # An archive indexed without a model (or still empty) is searched by words;
                # asking for meaning alone there is an error worth explaining.
                if request.mode is Mode.SEMANTIC and self.engine.count():
                    raise FondsError(
                        "cet index n'a pas de vecteurs : utilisez --mode keyword, ou lancez "
                        "« fonds ingest --rebuild » avec un modèle d'embedding")
                request = SearchRequest(**{**request.__dict__, "mode": Mode.KEYWORD})
            else:
                vector = embedder.embed_query(query)
        return self.engine.search(request, vector)

    @property
    def suggests(self) -> bool:
        """Whether the engine can offer « Vouliez-vous dire » (Meilisearch cannot)."""
        return self.engine.suggests

    def suggest(self, query: str) -> str | None:
        return self.engine.suggest(query[:MAX_QUERY_CHARS])

    def similar(self, doc_id: str, limit: int = 5) -> list[DocHit]:
        return self.engine.similar(doc_id, limit)

    def facet_values(self) -> dict[str, dict[str, int]]:
        """Every value of every facet in the archive, with its document count."""
        result = self.engine.search(SearchRequest("", limit=0))
        return {k: dict(v) for k, v in result.facets.items()}

    def check_filters(self, filters: Filters) -> None:
        """For the CLI: a filter value the archive has never seen is probably a typo."""
        known = self.facet_values()
        for label, facet, values in (("thème", "themes", filters.themes),
                                     ("type", "doc_type", filters.doc_types),
                                     ("source", "source", filters.sources),
                                     ("département", "departements", filters.departements)):
            for value in values:
                if value not in known.get(facet, {}):
                    choices = ", ".join(sorted(known.get(facet, {}))) or "aucun"
                    raise FondsError(f"{label} inconnu « {value} » ; valeurs présentes : "
                                     f"{choices}")


def result_json(request: SearchRequest, result: SearchResult,
                versions: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The `fonds search --json` shape of DESIGN.md; `versions`: how many versions each
    hit's document has (Catalog versions), given to each hit (None: unknown)."""
    hits = [hit.as_json() for hit in result.hits]
    for hit in hits:
        hit["versions"] = None if versions is None else versions.get(hit["doc_id"], 0)
    return {
        "query": request.query,
        "mode": str(request.mode),
        "semantic_ratio": request.semantic_ratio,
        "total": result.total,
        "took_ms": result.took_ms,
        # No document has every word: the words some have (keyword side of the search).
        "partial": result.partial,
        "matched_words": list(result.matched_words),
        "years": list(result.years) if result.years else None,
        "hits": hits,
        "facets": {k: dict(v) for k, v in result.facets.items()},
    }
