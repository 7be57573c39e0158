"""What the search UI shows, as plain data: the UI only renders it (and tests read it).

The state of a search lives in the URL (shareable: opening it restores the search), so
it is parsed from and written to query parameters here, without Streamlit.
"""

from __future__ import annotations

import html
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fonds.engines.base import DEFAULT_SEMANTIC_RATIO, Mode, SearchRequest, Sort
from fonds.highlight import MARK_END, MARK_START
from fonds.models import DocStatus, Document, ExtractionStatus
from fonds.search import build_filters
from fonds.taxonomy import departement_label
from fonds.text import one_line

PAGE_SIZE = 20
# Bounds of what a URL may ask: a page beyond MAX_PAGE, a year outside YEARS, a 20-digit
# number or 1e20 is clamped or dropped here, before any engine sees it.
MAX_PAGE = 500
YEARS = (1800, 2100)
MAX_VALUES = 30  # values of one filter
MAX_VALUE_CHARS = 200
DOC_ID = re.compile(r"[0-9a-f]{16}")
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
    return tuple(dict.fromkeys(plain_text(v, MAX_VALUE_CHARS) for v in values
                               if v and str(v).strip()))[:MAX_VALUES]


def from_params(params: Mapping[str, Any]) -> UiState:
    """Query parameters (as st.query_params gives them, lists for repeated keys) → state.
    Unknown or malformed values fall back to defaults: a shared URL never breaks the page."""
    def one(key: str, default: str = "") -> str:
        values = _many(params, key)
        return values[-1] if values else default

    mode = next((label for label, key in MODE_KEYS.items() if key == one("mode")), "Mixte")
    sort = next((label for label, key in SORT_KEYS.items() if key == one("tri")),
                "Pertinence")
    page = min(bounded_int(one("p"), 1, MAX_PAGE) or 1, MAX_PAGE)
    low, high = bounded_int(one("de"), *YEARS), bounded_int(one("a"), *YEARS)
    years = None
    if low is not None or high is not None:
        low, high = low or YEARS[0], high or YEARS[1]
        years = (min(low, high), max(low, high))
    return UiState(query=plain_text(one("q"), 1000), mode=mode, sort=sort,
                   themes=_many(params, "theme"), departements=_many(params, "dep"),
                   types=_many(params, "type"), sources=_many(params, "source"),
                   years=years, page=page)


def bounded_int(value: str, low: int, high: int) -> int | None:
    """A whole number from a URL, clamped to [low, high]; None when it is not one
    (« 1e20 », « abc », 5,000 digits: never handed to int() unchecked)."""
    text = value.strip()
    if not re.fullmatch(r"[+-]?\d{1,30}", text):
        return None
    return max(low, min(high, int(text)))


def doc_id_param(value: str) -> str | None:
    """A document id from a URL, or None for anything else (paths, dots, slashes)."""
    return value if DOC_ID.fullmatch(value or "") else None


def link(params: Mapping[str, str | list[str]]) -> str:
    """A same-app link (`?…`) carrying these parameters, escaped for an href."""
    return html.escape("?" + urlencode(params, doseq=True), quote=True)


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
    """An option of a filter, as plain text (options are not Markdown)."""
    if facet == "departements":
        label = departement_label(value)
    elif facet == "source":
        label = source_label(value)
    else:
        label = value
    label = plain_text(label, 120)
    return f"{label} · {count}" if count is not None else label


def status_label(doc: Document) -> str | None:
    """What a reader must know about a document's state, in French; None when all is well."""
    if doc.status is DocStatus.GONE:
        return f"retiré du site le {datetime_fr(doc.last_seen)} : copie archivée disponible"
    if doc.status is DocStatus.FAILED:
        return f"document en échec : {doc.error or 'raison non enregistrée'}"
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


# -- text from documents: one helper for every value that reaches a page as markup ---------

# Everything Markdown (CommonMark, GFM, Streamlit's :directives:, emoji, math) or HTML
# could read as syntax becomes a character reference: the browser shows the character,
# neither parser sees it. Works the same inside st.markdown text and inside our HTML blocks.
_MARKUP = {ch: f"&#{ord(ch)};" for ch in "&<>\"'`*_[](){}!#|~:$\\+-=^.%@/"}
# Linkifiers turn « http://… », « www.… » and « a@b.fr » in plain text into links: a word
# joiner (invisible) keeps them text.
_AUTOLINK = re.compile(r"(?i)(?<=[a-z]:)(?=//)|(?<=www)(?=\.)|(?=@)")
JOINER = "\u2060"


def safe(value: object, limit: int = 500, strip: bool = True) -> str:
    """A document-derived value as inert text for st.markdown and HTML blocks: no tag, no
    link, no image, no directive; one line (a blank line would end an HTML block)."""
    text = one_line(value)
    text = text.strip() if strip else text
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _AUTOLINK.sub(JOINER, text)
    return "".join(_MARKUP.get(ch, ch) for ch in text)


def safe_highlight(highlight: str) -> str:
    """An engine snippet with only its own <mark> tags kept; everything else is text."""
    parts = re.split(r"(</?mark>)", highlight)
    return "".join(p if p in (MARK_START, MARK_END) else
                   safe(html.unescape(p), 5000, strip=False) for p in parts)


def plain_text(value: object, limit: int = 500) -> str:
    """For widgets that show text as text (options, dataframes): control characters out."""
    text = one_line(value).strip()
    return text[: limit - 1] + "…" if len(text) > limit else text


# -- French formats ---------------------------------------------------------------------------

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def date_fr(value: str | None) -> str:
    """« 8 février 2021 » from an ISO date (or « février 2021 », « 2021 »); '' if none."""
    if not value:
        return ""
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value.strip()[:10])
    if not match:
        return plain_text(value, 40)
    year, month, day = match.groups()
    if not month or not 1 <= int(month) <= 12:
        return year
    if not day or not 1 <= int(day) <= 31:
        return f"{MONTHS[int(month) - 1]} {year}"
    number = "1er" if int(day) == 1 else str(int(day))
    return f"{number} {MONTHS[int(month) - 1]} {year}"


def datetime_fr(value: str | None) -> str:
    """A stored UTC timestamp in the machine's zone: « 8 février 2021 à 14 h 05 »."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return plain_text(value, 40)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone()
    return f"{date_fr(local.date().isoformat())} à {local.hour} h {local.minute:02d}"


def duration_fr(seconds: float | None) -> str:
    if seconds is None or seconds < 0 or not math.isfinite(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def size_fr(count: int | None) -> str:
    """« 35 ko », « 1,2 Mo »: decimal units, French decimal comma."""
    if count is None or count < 0:
        return "—"
    if count < 1000:
        return f"{count} octet" + ("s" if count > 1 else "")
    for unit, scale in (("ko", 1e3), ("Mo", 1e6), ("Go", 1e9)):
        if count < scale * 1000 or unit == "Go":
            value = count / scale
            text = f"{value:.0f}" if value >= 10 else f"{value:.1f}".replace(".", ",")
            return f"{text.removesuffix(',0')} {unit}"
    return f"{count} octets"  # pragma: no cover


def documents_found(total: int) -> str:
    if total == 0:
        return "Aucun document trouvé"
    return f"{total} document trouvé" if total == 1 else f"{total} documents trouvés"


# -- sources by their display names (crawler/sources.toml: `label`, `[site_labels]`) ---------

SOURCES_FILE = Path(__file__).resolve().parent.parent / "crawler" / "sources.toml"
BUILTIN_SOURCES = {"import": "Fichiers importés"}  # fonds import's source (importer.SOURCE)


@lru_cache(maxsize=4)
def _labels(path: str) -> tuple[dict[str, str], dict[str, str]]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}, {}
    by_source = {str(s.get("name")): str(s["label"]) for s in data.get("source", [])
                 if isinstance(s, dict) and s.get("label")}
    sites = data.get("site_labels", {})
    return by_source, {str(k).lower(): str(v) for k, v in sites.items()} \
        if isinstance(sites, dict) else {}


def source_label(source: str | None, url: str = "", sources_file: str = "") -> str:
    """The name a reader knows: the official site a document comes from (« Défenseur des
    droits »), else the source's label, else its slug."""
    by_source, sites = _labels(sources_file or str(SOURCES_FILE))
    host = urlsplit(url).hostname or "" if url.startswith(("http://", "https://")) else ""
    if host in sites:
        return sites[host]
    if host.removeprefix("www.") in sites:
        return sites[host.removeprefix("www.")]
    if source in by_source:
        return by_source[source or ""]
    return BUILTIN_SOURCES.get(source or "", source or "")


def site_name(url: str, sources_file: str = "") -> str:
    """« Original sur <site> »: the site's name, else its host."""
    host = urlsplit(url).hostname or ""
    _, sites = _labels(sources_file or str(SOURCES_FILE))
    return sites.get(host) or sites.get(host.removeprefix("www.")) or host
