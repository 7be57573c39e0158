"""The three views. They read fonds/ and render; no search logic lives here."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import streamlit as st

from fonds.catalog import Catalog
from fonds.engines.base import DocHit, SearchResult
from fonds.models import DocStatus, Document
from fonds.search import SearchService
from fonds.status import COUNT_LABELS, RUN_LABELS, status_report
from fonds.taxonomy import departement_label
from fonds.ui_model import (
    MODES,
    PAGE_SIZE,
    SORTS,
    UiState,
    facet_label,
    from_params,
    status_label,
    suggestions,
    to_params,
)

FACET_WIDGETS = (("themes", "Thèmes", "f_themes"), ("departements", "Départements", "f_deps"),
                 ("doc_type", "Type de document", "f_types"), ("source", "Source", "f_sources"))
CSS = """
<style>
mark { background: #ffe08a; color: #1a1a1a; padding: 0 .1em; border-radius: 2px; }
.fonds-passage { border-left: 3px solid #c9d3e0; padding: .2em .8em; margin: .3em 0; }
.fonds-meta { color: #3d4a5c; font-size: .9rem; }
</style>
"""


def _params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def _init_widgets(state: UiState) -> None:
    """First run of a session: the widgets start from the URL (a shared link restores it)."""
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


def search_page(search: SearchService, catalog: Catalog) -> None:
    st.markdown(CSS, unsafe_allow_html=True)
    _init_widgets(from_params(_params()))
    st.title("Rechercher dans l'archive")
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
    noun = "document trouvé" if result.total == 1 else "documents trouvés"
    st.caption(f"{result.total} {noun} · {result.took_ms:.0f} ms")
    if not result.hits:
        _empty(search, state)
        return
    for hit in result.hits:
        _hit(hit, catalog, search)
    _pagination(result.total, state)


def _sidebar(result: SearchResult, state: UiState) -> None:
    with st.sidebar:
        st.radio("Type de recherche", list(MODES), key="mode", on_change=_first_page,
                 help="Mots exacts : les mots tapés. Sens proche : des documents qui parlent "
                      "de la même chose avec d'autres mots. Mixte : les deux.")
        st.selectbox("Trier par", list(SORTS), key="sort", on_change=_first_page)
        st.markdown("#### Filtres")
        for facet, label, key in FACET_WIDGETS:
            counts = result.facets.get(facet, {})
            chosen = st.session_state.get(key, [])
            options = list(dict.fromkeys([*chosen, *counts]))
            if not options:
                continue
            st.multiselect(label, options, key=key, on_change=_first_page,
                           format_func=lambda v, f=facet, c=counts: facet_label(f, v, c.get(v)),
                           placeholder="Tous")
        years = sorted(int(y) for y in result.facets.get("year", {}))
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


def _hit(hit: DocHit, catalog: Catalog, search: SearchService) -> None:
    doc = catalog.document(hit.doc_id)
    with st.container(border=True):
        st.markdown(f"#### {html.escape(hit.title or '(sans titre)')}")
        badges = [hit.doc_type, hit.date or "", hit.source,
                  *(departement_label(c) for c in hit.departements), *hit.themes]
        st.markdown(" ".join(f":blue-badge[{b}]" for b in badges if b))
        note = status_label(doc) if doc else None
        if note:
            st.caption(f"⚠️ {note}")
        for passage in hit.passages:
            page = f"<b>page {passage.page}</b> — " if passage.page else ""
            st.markdown(f"<div class='fonds-passage'>{page}{passage.highlight}</div>",
                        unsafe_allow_html=True)
        columns = st.columns(3)
        first_page = next((p.page for p in hit.passages if p.page), None)
        if hit.url and (doc is None or doc.status is not DocStatus.GONE):
            target = f"{hit.url}#page={first_page}" if first_page else hit.url
            label = f"Ouvrir à la page {first_page}" if first_page else "Ouvrir l'original"
            columns[0].link_button(label, target)
        if doc is not None and doc.file_path:
            _download(columns[0] if doc.status is DocStatus.GONE else columns[1], doc,
                      catalog, f"dl-{hit.doc_id}")
        if columns[2].button("Fiche du document", key=f"doc-{hit.doc_id}"):
            st.query_params.clear()
            st.query_params.update({"vue": "document", "doc": hit.doc_id})
            st.rerun()
        with st.expander("Documents similaires"):
            for other in search.similar(hit.doc_id, limit=3):
                st.markdown(f"- {html.escape(other.title)} "
                            f"<span class='fonds-meta'>({other.doc_type}, "
                            f"{other.date or 's. d.'})</span>", unsafe_allow_html=True)


def _download(column: Any, doc: Document, catalog: Catalog, key: str) -> None:
    path = catalog.path.parent / doc.file_path
    if path.exists():
        name = doc.canonical_url.rstrip("/").rsplit("/", 1)[-1] or f"{doc.id}"
        column.download_button("Copie archivée", data=path.read_bytes(),
                               file_name=name if "." in name else f"{name}.{path.suffix[1:]}",
                               mime=doc.media_type or "application/octet-stream", key=key)


def _empty(search: SearchService, state: UiState) -> None:
    st.warning("Aucun document ne correspond à cette recherche.")
    corrected = search.suggest(state.query) if state.query else None
    if corrected:
        st.button(f"Vouliez-vous dire « {corrected} » ?", key="empty-suggest",
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
    pages = max(1, -(-total // PAGE_SIZE))
    if pages == 1:
        return
    left, middle, right = st.columns([1, 2, 1])
    left.button("← Précédent", disabled=state.page <= 1, key="prev",
                on_click=lambda: st.session_state.update(page=state.page - 1))
    middle.markdown(f"<div style='text-align:center'>Page {state.page} / {pages}</div>",
                    unsafe_allow_html=True)
    right.button("Suivant →", disabled=state.page >= pages, key="next",
                 on_click=lambda: st.session_state.update(page=state.page + 1))


def document_page(search: SearchService, catalog: Catalog, doc_id: str) -> None:
    st.markdown(CSS, unsafe_allow_html=True)
    if st.button("← Retour à la recherche"):
        st.query_params.clear()
        st.rerun()
    doc = catalog.document(doc_id)
    if doc is None:
        st.error("Ce document n'existe pas dans l'archive.")
        return
    st.title(doc.display_title)
    note = status_label(doc)
    if note:
        st.warning(note)
    facts = {"Type": doc.display_doc_type, "Date": doc.display_date or "non datée",
             "Source": doc.source or "", "Thèmes": ", ".join(doc.all_themes) or "—",
             "Départements": ", ".join(departement_label(c) for c in doc.all_departements)
             or "—", "Langue": doc.language or "—", "Pages": str(doc.pages or "—"),
             "Vu pour la première fois": doc.first_seen[:10],
             "Vu pour la dernière fois": doc.last_seen[:10]}
    st.table(pd.DataFrame({"": list(facts.values())}, index=list(facts)))
    st.markdown("#### Provenance")
    for url in doc.urls:
        st.markdown(f"- [{html.escape(url)}]({url})")
    for ref in doc.meta.get("referrers", []) or []:
        if isinstance(ref, dict) and ref.get("url"):
            st.markdown(f"- cité par [{html.escape(ref.get('text') or ref['url'])}]"
                        f"({ref['url']})")
    if doc.file_path:
        _download(st, doc, catalog, "dl-document")
    st.markdown("#### Passages")
    passages = catalog.passages(doc.id)
    if not passages:
        st.caption("Aucun passage (document non indexé).")
    for passage in passages:
        label = f"page {passage.page}" if passage.page else f"passage {passage.position + 1}"
        with st.expander(label + (f" — {passage.heading}" if passage.heading else "")):
            st.write(passage.text)
    st.markdown("#### Documents similaires")
    for other in search.similar(doc.id, limit=5):
        st.markdown(f"- {html.escape(other.title)} ({other.doc_type}, {other.date or 's. d.'})")


def maintenance_page(search: SearchService, catalog: Catalog) -> None:
    st.title("Maintenance de l'archive")
    report = status_report(catalog, runs=20)
    docs = report["documents"]
    cols = st.columns(5)
    for column, (label, value) in zip(cols, [("Documents", docs["total"]),
                                             ("Actifs", docs["active"]),
                                             ("Retirés du site", docs["gone"]),
                                             ("En échec", docs["failed"]),
                                             ("Passages", report["passages"])], strict=True):
        column.metric(label, value)
    st.markdown("#### Dernières collectes et indexations")
    if report["runs"]:
        rows = [{"Étape": RUN_LABELS.get(r["kind"], r["kind"]), "Début": r["started"],
                 "Fin": r["finished"] or "interrompue ou en cours",
                 "Bilan": ", ".join(f"{COUNT_LABELS.get(k, k)} {v}"
                                    for k, v in r["counts"].items())} for r in report["runs"]]
        st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
    else:
        st.caption("Aucune exécution pour l'instant.")
    st.markdown("#### Documents en échec")
    if report["failures"]:
        st.dataframe(pd.DataFrame([{"Adresse": f["url"], "Raison": f["error"]}
                                   for f in report["failures"]]), hide_index=True,
                     use_container_width=True)
    else:
        st.caption("Aucun document en échec.")
    facets = search.facet_values()
    for facet, title in (("themes", "Documents par thème"),
                         ("departements", "Documents par département"),
                         ("year", "Documents par année")):
        counts = facets.get(facet, {})
        if not counts:
            continue
        st.markdown(f"#### {title}")
        labels = [departement_label(k) if facet == "departements" else k for k in counts]
        frame = pd.DataFrame({"documents": list(counts.values())}, index=labels)
        st.bar_chart(frame.sort_index() if facet == "year" else frame, horizontal=facet != "year")

