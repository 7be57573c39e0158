"""fonds — the search UI's page script (Streamlit). Rendering only: the logic is in fonds/.

One script, four views chosen by the URL (?vue=document&doc=ID, ?vue=copie&doc=ID&page=N,
?vue=maintenance), so every page and every search can be shared as a link.
search_ui/app.py serves this script with the archived files beside it.
"""

from __future__ import annotations

import streamlit as st

from fonds.catalog import Catalog
from fonds.errors import FondsError
from fonds.search import SearchService
from fonds.settings import Settings, load_settings
from fonds.ui_model import link, safe
from search_ui import document, french, maintenance, views
from search_ui.views import anchor

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
    french.setup()
    try:
        config = settings()
        search = service()
    except FondsError as exc:
        st.error(f"L'archive ne peut pas être ouverte : {safe(exc, 1000)}")
        return
    # Staff only unless the setting says otherwise (it lists failed addresses).
    show_maintenance = bool(getattr(config, "ui_show_maintenance", True))
    view = st.query_params.get("vue", "recherche")
    with st.sidebar:
        st.markdown("**fonds** — archive de la politique de la ville")
        if show_maintenance:
            views.links([anchor("?", "Recherche"),
                         anchor(link({"vue": "maintenance"}), "Maintenance")])
    with Catalog(config.catalog_path) as catalog:
        try:
            if view == "document":
                document.document_page(search, catalog, st.query_params.get("doc", ""))
            elif view == "copie":
                document.copy_page(catalog, st.query_params.get("doc", ""))
            elif view == "maintenance":
                if show_maintenance:
                    maintenance.maintenance_page(search, catalog, config)
                else:
                    st.info("La page de maintenance n'est pas ouverte sur ce serveur.")
            else:
                views.search_page(search, catalog, config)
        except FondsError as exc:
            st.error(safe(exc, 1000))
    # The script ran to its end: browser tests wait for this, not for a time.
    st.markdown("<div class='fonds-end'></div>", unsafe_allow_html=True)


main()
