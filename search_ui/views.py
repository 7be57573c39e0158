"""The search page. It reads fonds/ and renders; no search logic lives here.

Every value that comes from a document goes through ui_model.safe (or safe_highlight for
snippets) before it reaches st.markdown; widget options, which Streamlit shows as text,
go through plain_text. Navigation between views is plain links carrying the search in
their URL, so the browser's Back button and a shared link both restore it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import streamlit as st

from fonds import zero_results
from fonds.catalog import Catalog
from fonds.engines.base import DocHit, SearchResult
from fonds.media import PDF, stored_file
from fonds.models import DocStatus, Document
from fonds.search import SearchService
from fonds.settings import Settings
from fonds.taxonomy import departement_label
from fonds.ui_model import (
    MAX_PAGE,
    MODES,
    PAGE_SIZE,
    SORTS,
    UiState,
    date_fr,
    documents_found,
    facet_label,
    from_params,
    link,
    safe,
    safe_highlight,
    site_name,
    size_fr,
    source_label,
    status_label,
    suggestions,
    to_params,
)

SIMILAR = "Voir les documents similaires"
FACET_WIDGETS = (("themes", "Thèmes", "f_themes"), ("departements", "Départements", "f_deps"),
                 ("doc_type", "Type de document", "f_types"), ("source", "Source", "f_sources"))


def params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def anchor(href: str, label: str, new_tab: bool = False) -> str:
    """A link; `href` is already escaped (ui_model.link or html.escape), `label` is safe."""
    target = "_blank' rel='noopener noreferrer" if new_tab else "_self"
    return f"<a href='{href}' target='{target}'>{label}</a>"


def links(items: list[str]) -> None:
    if items:
        st.markdown(f"<div class='fonds-links'>{' '.join(items)}</div>",
                    unsafe_allow_html=True)


def badges(values: list[str]) -> str:
    return "<div class='fonds-badges'>" + "".join(
        f"<span>{safe(v, 120)}</span>" for v in values if v) + "</div>"


def web_url(url: str) -> str | None:
    """An address a browser may be sent to: http(s) only (no javascript:, data:, file:)."""
    return html.escape(url, quote=True) if url.startswith(("http://", "https://")) else None


def copy_links(doc: Document | None, doc_id: str, page: int | None, state: UiState,
               url: str, data_dir: Path) -> list[str]:
    """« Voir à la page N (copie archivée) », « Original sur <site> », the download."""
    items = []
    stored = stored_file(data_dir, doc.file_path, doc.media_type, doc.canonical_url) \
        if doc else None
    if stored is not None:
        is_pdf = stored.media_type == PDF
        label = f"Voir à la page {page} (copie archivée)" if is_pdf and page else \
            "Voir la copie archivée"
        target = {**to_params(state), "vue": "copie", "doc": doc_id}
        if is_pdf:
            target["page"] = str(page or 1)
        items.append(anchor(link(target), label))
    original = web_url(url)
    if original and (doc is None or doc.status is not DocStatus.GONE):
        if page and (doc is None or doc.media_type == PDF):
            original += f"#page={page}"
        items.append(anchor(original, f"Original sur {safe(site_name(url), 80)}",
                            new_tab=True))
    if stored is not None:
        size = f" ({size_fr(doc.size)})" if doc and doc.size else ""
        items.append(anchor(html.escape(f"/copie/{doc_id}?telecharger=1", quote=True),
                            f"Télécharger{size}"))
    return items


def copies_line(hit: DocHit, state: UiState) -> str | None:
    """« Également publié par <source> (<date>), … »: the copies folded into this result,
    each a link to its document page; None without copies."""
    if not hit.copies:
        return None
    items = []
    for copy in hit.copies:
        target = link({**to_params(state), "vue": "document", "doc": copy.doc_id})
        name = source_label(copy.source, copy.url) or site_name(copy.url) or "une autre source"
        items.append(f"{anchor(target, safe(name, 80))} "
                     f"({safe(date_fr(copy.date) or 'sans date')})")
    return f"<div class='fonds-copies'>Également publié par {', '.join(items)}</div>"


def similar_links(search: SearchService, doc_id: str, state: UiState, limit: int) -> None:
    others = search.similar(doc_id, limit=limit)
    if not others:
        st.caption("Aucun document proche.")
    for other in others:
        target = link({**to_params(state), "vue": "document", "doc": other.doc_id})
        details = ", ".join(x for x in (other.doc_type, date_fr(other.date) or "sans date") if x)
        st.markdown(f"- {anchor(target, safe(other.title or '(sans titre)'))} "
                    f"<span class='fonds-meta'>({safe(details)})</span>",
                    unsafe_allow_html=True)


def _init_widgets(state: UiState) -> None:
    """First run of a session: the widgets start from the URL (a link restores the search)."""
    if st.session_state.get("_init"):
        return
    st.session_state.update({
        "q": state.query, "mode": state.mode, "sort": state.sort,
        "f_themes": list(state.themes), "f_deps": list(state.departements),
        "f_types": list(state.types), "f_sources": list(state.sources),
        "page": state.page, "_init": True})
    if state.years:
        st.session_state["f_years"] = state.years


def _state_from_widgets() -> UiState:
    years = st.session_state.get("f_years")
    if years and tuple(years) == st.session_state.get("_year_range"):
        years = None  # the whole range is no filter
    return UiState(query=st.session_state.get("q", "").strip(),
                   mode=st.session_state.get("mode", "Mixte"),
                   sort=st.session_state.get("sort", "Pertinence"),
                   themes=tuple(st.session_state.get("f_themes", [])),
                   departements=tuple(st.session_state.get("f_deps", [])),
                   types=tuple(st.session_state.get("f_types", [])),
                   sources=tuple(st.session_state.get("f_sources", [])),
                   years=tuple(years) if years else None,
                   page=st.session_state.get("page", 1))


def _reset_filters() -> None:
    for _, _, key in FACET_WIDGETS:
        st.session_state[key] = []
    st.session_state.pop("f_years", None)
    st.session_state["page"] = 1


def _first_page() -> None:
    st.session_state["page"] = 1


def search_page(search: SearchService, catalog: Catalog, config: Settings) -> None:
    _init_widgets(from_params(params()))
    st.title("Rechercher dans l'archive", anchor=False)
    st.text_input("Rechercher", key="q", on_change=_first_page,
                  placeholder="conseils citoyens, santé, inclusion numérique…",
                  help="Quelques mots suffisent ; les accents et les fautes de frappe sont "
                       "tolérés.")
    state = _state_from_widgets()
    if catalog.status_counts()["active"] == 0:
        st.info("L'archive est vide. Pour la remplir : `fonds demo` (site de démonstration), "
                "ou `fonds crawl` puis `fonds ingest`, ou `fonds import DOSSIER` puis "
                "`fonds ingest`.")
        return
    result = search.search(state.request())
    st.query_params.from_dict(to_params(state))
    _sidebar(result, state)
    st.caption(f"{documents_found(result.total)} · {result.took_ms:.0f} ms")
    if result.partial and result.matched_words and result.hits:
        words = ", ".join(f"« {safe(w, 80)} »" for w in result.matched_words)
        st.info(f"Aucun document ne contient tous vos mots — documents contenant {words} :")
    if not result.hits:
        if result.total:
            last = min(MAX_PAGE, -(-result.total // PAGE_SIZE))
            st.warning(f"Cette page est au-delà des résultats ({last} page(s)).")
            st.button("Aller à la dernière page", key="last-page",
                      on_click=lambda: st.session_state.update(page=last))
            return
        _remember_zero(config, state)
        _empty(search, state)
        return
    for hit in result.hits:
        _hit(hit, catalog.document(hit.doc_id), state, search, config)
    _pagination(result.total, state)


def _remember_zero(config: Settings, state: UiState) -> None:
    """A query that found nothing is counted once per session (reruns are not visits)."""
    seen = st.session_state.setdefault("_zero_seen", set())
    key = zero_results.normalise(state.query)
    if key and state.page == 1 and key not in seen:
        seen.add(key)
        zero_results.record(config.data_dir, state.query)


def _sidebar(result: SearchResult, state: UiState) -> None:
    with st.sidebar:
        st.radio("Type de recherche", list(MODES), key="mode", on_change=_first_page,
                 help="Mots exacts : les mots tapés. Sens proche : des documents qui parlent "
                      "de la même chose avec d'autres mots. Mixte : les deux.")
        st.selectbox("Trier par", list(SORTS), key="sort", on_change=_first_page)
        st.markdown("**Filtres**")
        for facet, label, key in FACET_WIDGETS:
            counts = result.facets.get(facet, {})
            chosen = st.session_state.get(key, [])
            options = list(dict.fromkeys([*chosen, *counts]))
            if not options:
                continue
            st.multiselect(label, options, key=key, on_change=_first_page,
                           format_func=lambda v, f=facet, c=counts: facet_label(f, v, c.get(v)),
                           placeholder="Tous", select_all=False)
        # The slider spans the archive, not the current results: it can always widen.
        years = sorted(set(result.years) if result.years else {
            int(y) for y in result.facets.get("year", {}) if str(y).isdigit()})
        if state.years:
            years = sorted({*years, *state.years})
        if len(years) >= 2:
            if not state.years:
                st.session_state["_year_range"] = (years[0], years[-1])
            if "f_years" not in st.session_state:
                st.session_state["f_years"] = (years[0], years[-1])
            st.slider("Années", min_value=years[0], max_value=years[-1], key="f_years",
                      on_change=_first_page)
        st.button("Réinitialiser les filtres", on_click=_reset_filters,
                  disabled=not state.has_filters)


def _hit(hit: DocHit, doc: Document | None, state: UiState, search: SearchService,
         config: Settings) -> None:
    with st.container(border=True):
        st.subheader(safe(hit.title or "(sans titre)"), anchor=False)
        st.markdown(badges([hit.doc_type, date_fr(hit.date), source_label(hit.source, hit.url),
                            *(departement_label(c) for c in hit.departements), *hit.themes]),
                    unsafe_allow_html=True)
        note = status_label(doc) if doc else None
        if note:
            st.caption(f"⚠️ {safe(note)}")
        shown: set[str] = set()
        for passage in hit.passages:
            text = " ".join(re.sub(r"</?mark>", "", passage.highlight).split())
            if text in shown:  # two passages of one document saying the same sentence
                continue
            shown.add(text)
            page = f"<b>page {passage.page}</b> — " if passage.page else ""
            st.markdown(f"<div class='fonds-passage'>{page}"
                        f"{safe_highlight(passage.highlight)}</div>", unsafe_allow_html=True)
        first_page = next((p.page for p in hit.passages if p.page), None)
        document = anchor(link({**to_params(state), "vue": "document", "doc": hit.doc_id}),
                          "Fiche du document")
        links([*copy_links(doc, hit.doc_id, first_page, state, hit.url, config.data_dir),
               document])
        copies = copies_line(hit, state)
        if copies:
            st.markdown(copies, unsafe_allow_html=True)
        # Similar documents cost a search: computed for the hits where a reader asks.
        key = f"sim-{hit.doc_id}"
        if st.button(SIMILAR, key=f"btn-{key}", type="tertiary", icon=":material/expand_more:"):
            st.session_state[key] = not st.session_state.get(key, False)
        if st.session_state.get(key):
            similar_links(search, hit.doc_id, state, limit=3)


def _empty(search: SearchService, state: UiState) -> None:
    st.warning("Aucun document trouvé pour cette recherche.")
    # Meilisearch has no vocabulary to correct from (search.suggests is False there).
    corrected = search.suggest(state.query) if state.query and search.suggests else None
    if corrected:
        st.button(f"Vouliez-vous dire « {safe(corrected, 200)} » ?", key="empty-suggest",
                  on_click=lambda: st.session_state.update(q=corrected, page=1))
    total = search.search(state.without_filters().request()).total if state.has_filters \
        else None
    for tip in suggestions(state, total):
        st.markdown(f"- {tip}")
    if state.has_filters:
        st.button("Retirer les filtres", on_click=_reset_filters, key="empty-reset")
    if state.mode != "Sens proche":
        st.button("Essayer « Sens proche »", on_click=lambda: st.session_state.update(
            mode="Sens proche", page=1), key="empty-semantic")


def _pagination(total: int, state: UiState) -> None:
    pages = min(MAX_PAGE, max(1, -(-total // PAGE_SIZE)))
    if pages == 1:
        return
    left, middle, right = st.columns([1, 2, 1])
    left.button("← Précédent", disabled=state.page <= 1, key="prev",
                on_click=lambda: st.session_state.update(page=state.page - 1))
    middle.markdown(f"<div style='text-align:center'>Page {state.page} / {pages}</div>",
                    unsafe_allow_html=True)
    right.button("Suivant →", disabled=state.page >= pages, key="next",
                 on_click=lambda: st.session_state.update(page=state.page + 1))
