"""What the search UI shows, as plain data: the UI only renders it (and tests read it).

The state of a search lives in the URL (shareable: opening it restores the search), so
it is parsed from and written to query parameters here, without Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fonds.engines.base import DEFAULT_SEMANTIC_RATIO, Mode, SearchRequest, Sort
from fonds.models import DocStatus, Document, ExtractionStatus
from fonds.search import build_filters
from fonds.taxonomy import departement_label

PAGE_SIZE = 20
MODES = {"Mots exacts": (Mode.KEYWORD, 0.0), "Mixte": (Mode.HYBRID, DEFAULT_SEMANTIC_RATIO),
         "Sens proche": (Mode.SEMANTIC, 1.0)}
MODE_KEYS = {"Mots exacts": "mots", "Mixte": "mixte", "Sens proche": "sens"}
SORTS = {"Pertinence": Sort.RELEVANCE, "Date (récent d'abord)": Sort.DATE}
SORT_KEYS = {"Pertinence": "pertinence", "Date (récent d'abord)": "date"}


@dataclass(frozen=True)
class UiState:
    query: str = ""
    mode: str = "Mixte"
    sort: str = "Pertinence"
    themes: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    years: tuple[int, int] | None = None
    page: int = 1
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_filters(self) -> bool:
        return bool(self.themes or self.departements or self.types or self.sources
                    or self.years)

    def request(self) -> SearchRequest:
        mode, ratio = MODES[self.mode]
        filters = build_filters(self.themes, self.departements, self.types, self.sources,
                                self.years[0] if self.years else None,
                                self.years[1] if self.years else None)
        return SearchRequest(self.query, filters, mode=mode, semantic_ratio=ratio,
                             sort=SORTS[self.sort], offset=(self.page - 1) * PAGE_SIZE,
                             limit=PAGE_SIZE)

    def without_filters(self) -> UiState:
        return replace(self, themes=(), departements=(), types=(), sources=(), years=None,
                       page=1)


def _many(params: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = params.get(key)
    if value is None:
        return ()
    values = value if isinstance(value, list | tuple) else [value]
    return tuple(v for v in values if v)


def from_params(params: Mapping[str, Any]) -> UiState:
    """Query parameters (as st.query_params gives them, lists for repeated keys) → state.
    Unknown or malformed values fall back to defaults: a shared URL never breaks the page."""
    def one(key: str, default: str = "") -> str:
        values = _many(params, key)
        return values[-1] if values else default

    mode = next((label for label, key in MODE_KEYS.items() if key == one("mode")), "Mixte")
    sort = next((label for label, key in SORT_KEYS.items() if key == one("tri")),
                "Pertinence")
    try:
        page = max(1, int(one("p", "1")))
    except ValueError:
        page = 1
    years = None
    try:
        if one("de") or one("a"):
            low, high = int(one("de", "1900")), int(one("a", "2100"))
            years = (min(low, high), max(low, high))
    except ValueError:
        years = None
    return UiState(query=one("q")[:1000], mode=mode, sort=sort, themes=_many(params, "theme"),
                   departements=_many(params, "dep"), types=_many(params, "type"),
                   sources=_many(params, "source"), years=years, page=page)


def to_params(state: UiState) -> dict[str, str | list[str]]:
    params: dict[str, str | list[str]] = {}
    if state.query:
        params["q"] = state.query
    if state.mode != "Mixte":
        params["mode"] = MODE_KEYS[state.mode]
    if state.sort != "Pertinence":
        params["tri"] = SORT_KEYS[state.sort]
    for key, values in (("theme", state.themes), ("dep", state.departements),
                        ("type", state.types), ("source", state.sources)):
        if values:
            params[key] = list(values)
    if state.years:
        params["de"], params["a"] = str(state.years[0]), str(state.years[1])
    if state.page > 1:
        params["p"] = str(state.page)
    return params


def facet_label(facet: str, value: str, count: int | None = None) -> str:
    label = departement_label(value) if facet == "departements" else value
    return f"{label} · {count}" if count is not None else label


def status_label(doc: Document) -> str | None:
    """What a reader must know about a document's state, in French; None when all is well."""
    if doc.status is DocStatus.GONE:
        return f"retiré du site le {doc.last_seen[:10]} : copie archivée disponible"
    if doc.status is DocStatus.FAILED:
        return f"document en échec : {doc.error}"
    if doc.extraction_status is ExtractionStatus.NO_TEXT:
        return "texte non extractible : document scanné, trouvable par son titre"
    if doc.extraction_status is ExtractionStatus.PARTIAL:
        return "texte partiel : " + "; ".join(doc.notes)
    return None


def suggestions(state: UiState, total_without_filters: int | None) -> list[str]:
    """What to try when nothing is found."""
    tips = []
    if state.has_filters and total_without_filters:
        tips.append(f"Retirer les filtres : {total_without_filters} document(s) sans eux.")
    if state.mode == "Mots exacts":
        tips.append("Essayer « Sens proche » : il trouve les documents qui parlent de la même "
                    "chose avec d'autres mots.")
    if len(state.query.split()) > 3:
        tips.append("Utiliser moins de mots.")
    tips.append("Vérifier l'orthographe, ou chercher un mot plus général.")
    return tips
