"""fonds — the search UI (Streamlit). Rendering only: the logic is in fonds/.

One script, three views chosen by the URL (?vue=document&doc=ID, ?vue=maintenance), so
every page and every search can be shared as a link.
"""

from __future__ import annotations

import streamlit as st

from fonds.catalog import Catalog
from fonds.errors import FondsError
from fonds.search import SearchService
from fonds.settings import Settings, load_settings
from search_ui import views

st.set_page_config(page_title="fonds — archive de la politique de la ville",
                   layout="wide")


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Ouverture de l'archive…")
def service() -> SearchService:
    """Engine and embedding model, once per process; the UI gets only a search key."""
    return SearchService(settings(), search_only=True)


def main() -> None:
    try:
        config = settings()
        search = service()
    except FondsError as exc:
        st.error(f"L'archive ne peut pas être ouverte : {exc}")
        return
    view = st.query_params.get("vue", "recherche")
    with st.sidebar:
        st.markdown("### fonds")
        choice = st.radio("Aller à", ["Recherche", "Maintenance"],
                          index=1 if view == "maintenance" else 0, key="nav",
                          horizontal=True)
    if choice == "Maintenance" and view != "maintenance":
        st.query_params.clear()
        st.query_params["vue"] = "maintenance"
        view = "maintenance"
    elif choice == "Recherche" and view == "maintenance":
        st.query_params.clear()
        view = "recherche"
    with Catalog(config.catalog_path) as catalog:
        try:
            if view == "document":
                views.document_page(search, catalog, st.query_params.get("doc", ""))
            elif view == "maintenance":
                views.maintenance_page(search, catalog)
            else:
                views.search_page(search, catalog)
        except FondsError as exc:
            st.error(str(exc))


main()
