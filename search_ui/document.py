"""A document's page and its archived copy at a page.

The archived copy is the stored file, never the source: it works after the site is gone
or the demo's replica stopped. PDFs are shown one page at a time as an image rendered by
poppler in a child process (headless Chromium, and many phones, have no PDF viewer; an
image works everywhere), with the whole PDF one link away at /copie/<id> (search_ui/app.py).
"""

from __future__ import annotations

import streamlit as st

from fonds.catalog import Catalog
from fonds.media import PDF, page_count, render_page, stored_file
from fonds.models import DocStatus, Document
from fonds.search import SearchService
from fonds.taxonomy import departement_label
from fonds.ui_model import (
    UiState,
    bounded_int,
    date_fr,
    datetime_fr,
    doc_id_param,
    from_params,
    link,
    safe,
    size_fr,
    source_label,
    status_label,
    to_params,
)
from fonds.versions import version_number
from search_ui.versions import version_label, versions_section
from search_ui.views import anchor, copy_links, links, params, similar_links, web_url

UNKNOWN = "Document inconnu : aucun document de l'archive ne porte cet identifiant."
LANGUAGES = {"fr": "français", "en": "anglais", "de": "allemand", "es": "espagnol",
             "it": "italien", "und": ""}


def _known(catalog: Catalog, raw_id: str) -> Document | None:
    doc_id = doc_id_param(raw_id)
    doc = catalog.document(doc_id) if doc_id else None
    if doc is None:
        st.error(UNKNOWN)
    return doc


def _back(state: UiState) -> str:
    return anchor(link(to_params(state)), "← Retour à la recherche")


def table(rows: list[tuple[str, str]]) -> str:
    """A two-column table of (label, safe value): no header row, wraps on a phone."""
    body = "".join(f"<tr><th scope='row'>{label}</th><td>{value}</td></tr>"
                   for label, value in rows)
    return f"<table class='fonds-table facts'>{body}</table>"


def document_page(search: SearchService, catalog: Catalog, raw_id: str) -> None:
    state = from_params(params())
    links([_back(state)])
    doc = _known(catalog, raw_id)
    if doc is None:
        return
    st.title(safe(doc.display_title), anchor=False)
    note = status_label(doc)
    if note:
        st.warning(safe(note))
    missing = catalog.unavailable_since(doc.id)
    if missing and doc.status is not DocStatus.GONE:  # gone: status_label says it
        st.warning(safe(f"L'adresse ne donne plus ce document depuis le {datetime_fr(missing)}"
                        f" ({doc.error or 'absent du site'}) : la dernière version archivée "
                        "reste consultable."))
    facts = [
        ("Type", safe(doc.display_doc_type)),
        ("Date", safe(date_fr(doc.display_date)) or "non datée"),
        ("Source", safe(source_label(doc.source, doc.canonical_url)) or "—"),
        ("Thèmes", safe(", ".join(doc.all_themes)) or "—"),
        ("Départements", safe(", ".join(departement_label(c) for c in doc.all_departements))
         or "—"),
        ("Langue", safe(LANGUAGES.get(doc.language or "", doc.language)) or "—"),
        ("Pages", str(doc.pages) if doc.pages else "—"),
        ("Taille", size_fr(doc.size) if doc.size else "—"),
        ("Vu pour la première fois", safe(datetime_fr(doc.first_seen))),
        ("Vu pour la dernière fois", safe(datetime_fr(doc.last_seen))),
        *([("Absent du site depuis", safe(datetime_fr(missing)))] if missing else []),
    ]
    st.markdown(table(facts), unsafe_allow_html=True)
    links(copy_links(doc, doc.id, 1 if doc.media_type == PDF else None, state,
                     doc.canonical_url, catalog.path.parent))
    st.subheader("Provenance", anchor=False)
    for url in doc.urls:
        href = web_url(url)
        st.markdown("- " + (anchor(href, safe(url), new_tab=True) if href else safe(url)),
                    unsafe_allow_html=True)
    for ref in doc.meta.get("referrers", []) or []:
        if isinstance(ref, dict) and isinstance(ref.get("url"), str):
            # The page that links the document, by its title or address (not the link's
            # text: « Version imprimable » says nothing of where it was found).
            label = ref.get("title") if isinstance(ref.get("title"), str) else ref["url"]
            href = web_url(ref["url"])
            shown = anchor(href, safe(label), new_tab=True) if href else safe(label)
            st.markdown(f"- cité dans la page {shown}", unsafe_allow_html=True)
    versions_section(catalog, doc, state, version_number(st.query_params.get("version", "")))
    st.subheader("Passages", anchor=False)
    passages = catalog.passages(doc.id)
    if not passages:
        st.caption("Aucun passage (document non indexé).")
    for passage in passages:
        label = f"page {passage.page}" if passage.page else f"passage {passage.position + 1}"
        with st.expander(label + (f" — {safe(passage.heading, 120)}" if passage.heading
                                  else "")):
            st.markdown(f"<div class='fonds-passage'>{safe(passage.text, 20000)}</div>",
                        unsafe_allow_html=True)
    st.subheader("Documents similaires", anchor=False)
    similar_links(search, doc.id, state, limit=5)


def copy_page(catalog: Catalog, raw_id: str) -> None:
    """?vue=copie&doc=ID&page=N[&version=V]: the stored file (of version V) at page N,
    with previous and next."""
    state = from_params(params())
    doc = _known(catalog, raw_id)
    if doc is None:
        links([_back(state)])
        return
    to_document = anchor(link({**to_params(state), "vue": "document", "doc": doc.id}),
                         "← Fiche du document")
    links([_back(state), to_document])
    st.title(safe(doc.display_title), anchor=False)
    versions = catalog.versions(doc.id)
    raw_version = st.query_params.get("version", "")
    version = next((v for v in versions if v.number == version_number(raw_version)), None)
    if raw_version and version is None:
        st.error("Version inconnue : ce document n'a pas de version de ce numéro.")
        return
    current = version is None or (version.number == len(versions)
                                  and version.sha256 == doc.sha256)
    file_path, media_type = (doc.file_path, doc.media_type) if version is None else \
        (version.file_path, version.media_type)
    size = doc.size if version is None else version.size
    stored = stored_file(catalog.path.parent, file_path, media_type, doc.canonical_url)
    if stored is None:
        st.error("La copie archivée de ce document n'est pas disponible (fichier absent).")
        return
    what = [] if version is None else [
        f"{version_label(version, len(versions))}, vue du {datetime_fr(version.first_seen)}"
        f" au {datetime_fr(version.last_seen)}"]
    st.caption(safe(" — ".join(["Copie archivée", *what, *([size_fr(size)] if size else [])])))
    whole = f"/copie/{doc.id}" + (f"?version={version.number}" if version else "")
    if stored.media_type != PDF:
        if current:
            _text_copy(catalog, doc)
        else:  # only the current version's text is kept as passages
            st.caption("Le texte de cette version n'est plus indexé : son fichier archivé "
                       "s'ouvre en texte brut.")
            links([anchor(whole, "Ouvrir le fichier de cette version", new_tab=True)])
        return
    total = (doc.pages if current else version.pages if version else None) or \
        page_count(stored.path)
    page = bounded_int(st.query_params.get("page", "1"), 1, max(total, 1)) or 1
    here = {**to_params(state), "vue": "copie", "doc": doc.id}
    if version is not None:
        here["version"] = str(version.number)
    nav = []
    if page > 1:
        nav.append(anchor(link({**here, "page": str(page - 1)}), "← Page précédente"))
    if page < total:
        nav.append(anchor(link({**here, "page": str(page + 1)}), "Page suivante →"))
    nav.append(anchor(f"{whole}#page={page}", "Ouvrir le PDF complet", new_tab=True))
    links(nav)
    image = render_page(stored.path, page)
    if image is None:
        st.error(f"La page {page} ne peut pas être affichée ; le PDF complet reste "
                 "téléchargeable.")
        return
    st.image(image, caption=f"Page {page} sur {total}", width="stretch")
    links(nav[:-1])


def _text_copy(catalog: Catalog, doc: Document) -> None:
    """An article or text record: its archived text, as text."""
    passages = catalog.passages(doc.id)
    if not passages:
        st.caption("Aucun texte extrait de ce document.")
    for passage in passages:
        if passage.heading:
            st.markdown(f"**{safe(passage.heading, 200)}**")
        st.markdown(f"<div class='fonds-passage'>{safe(passage.text, 20000)}</div>",
                    unsafe_allow_html=True)
