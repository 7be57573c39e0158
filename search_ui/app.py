"""fonds — the search UI: `streamlit run search_ui/app.py` (what `fonds serve` runs).

An ASGI app (st.App, Starlette): the page script search_ui/main.py, plus the archived
files at /copie/<id> (search_ui/routes.py), which a Streamlit script alone cannot serve.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from search_ui.routes import ROUTES

app = st.App(str(Path(__file__).with_name("main.py")), routes=ROUTES)
