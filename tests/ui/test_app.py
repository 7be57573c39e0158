"""The Streamlit app through AppTest, on the real corpus archive (see conftest.archive)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from fonds.catalog import Catalog
from fonds.models import ExtractionStatus
from tests.conftest import ROOT

APP = str(ROOT / "search_ui" / "app.py")


@pytest.fixture
def app(archive, monkeypatch):
    config, _ = archive
    monkeypatch.setenv("FONDS_DATA_DIR", str(config.data_dir))
    monkeypatch.setenv("FONDS_OCR", "false")
    st.cache_resource.clear()
    yield lambda **params: _run(params)
    st.cache_resource.clear()


def _run(params: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def total(at: AppTest) -> int:
    caption = next(c.value for c in at.caption if "trouvé" in c.value)
    return int(caption.split()[0])


def passages(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("<div class='fonds-passage'>")]


def sidebar_select(at: AppTest, label: str):
    return next(w for w in at.sidebar.multiselect if w.label == label)


def test_a_shared_url_restores_the_search(app) -> None:
    at = app(q="mandat aidants connect", mode="mots", theme="inclusion numérique")
    assert at.text_input(key="q").value == "mandat aidants connect"
    assert at.sidebar.radio(key="mode").value == "Mots exacts"
    assert sidebar_select(at, "Thèmes").value == ["inclusion numérique"]
    assert total(at) >= 3
    first = passages(at)[0]
    assert "page " in first and "<mark>" in first
    assert at.query_params["q"] == "mandat aidants connect"


def test_typing_a_query_searches_and_updates_the_url(app) -> None:
    at = app()
    at.text_input(key="q").input("surendettement").run()
    assert not at.exception
    assert total(at) >= 1
    assert any("surendettement" in p.lower() for p in passages(at))
    assert at.query_params["q"] == "surendettement"


def test_each_filter_narrows_and_counts_documents(app) -> None:
    at = app(q="droits", mode="mots")
    everything = total(at)
    for label in ("Thèmes", "Type de document", "Source"):
        widget = sidebar_select(at, label)
        option = widget.options[0]  # shown as « value · count »
        count = int(option.rsplit("·", 1)[1])
        at = widget.select(option).run()
        assert not at.exception
        assert total(at) == count <= everything
        at.sidebar.button[0].click().run()  # Réinitialiser les filtres
        assert total(at) == everything


def test_departement_filter_shows_names(app) -> None:
    at = app(q="", mode="mots")
    widget = sidebar_select(at, "Départements")
    assert any("(" in o and ")" in o for o in widget.options)  # « Paris (75) · 3 »


def test_modes_and_sort(app) -> None:
    at = app(q="aide pour faire ses démarches en ligne")
    mixed = [m.value for m in at.markdown if m.value.startswith("#### ")]
    at.sidebar.radio(key="mode").set_value("Sens proche").run()
    assert not at.exception and at.query_params["mode"] == "sens"
    semantic = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert semantic and mixed
    at.sidebar.selectbox(key="sort").set_value("Date (récent d'abord)").run()
    assert not at.exception and at.query_params["tri"] == "date"


def test_pagination(app) -> None:
    at = app(q="", mode="mots")
    assert total(at) == 40
    at.button(key="next").click().run()
    assert not at.exception
    assert at.query_params["p"] == "2"
    assert "Page 2 / 2" in " ".join(m.value for m in at.markdown)


def test_no_results_gives_suggestions(app) -> None:
    at = app(q="zzzqqq xxyyzz", mode="mots")
    assert any("Aucun document" in w.value for w in at.warning)
    tips = " ".join(m.value for m in at.markdown)
    assert "Sens proche" in tips
    at.button(key="empty-semantic").click().run()
    assert not at.exception and at.sidebar.radio(key="mode").value == "Sens proche"


def test_a_misspelt_query_gets_a_correction(app) -> None:
    at = app(q="surandetemant", mode="mots")
    assert total(at) == 0
    button = at.button(key="empty-suggest")
    assert button.label == "Vouliez-vous dire « surendettement » ?"
    at = button.click().run()
    assert not at.exception and total(at) >= 1
    assert at.text_input(key="q").value == "surendettement"


def test_empty_archive_says_how_to_fill_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FONDS_DATA_DIR", str(tmp_path / "vide"))
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("fonds demo" in i.value for i in at.info)
    st.cache_resource.clear()


def test_document_page(app, archive) -> None:
    config, _ = archive
    with Catalog(config.catalog_path) as catalog:
        scan = next(d for d in catalog.documents()
                    if d.extraction_status is ExtractionStatus.NO_TEXT)
        guide = next(d for d in catalog.documents() if "kit-aidants" in d.canonical_url)
    at = app(vue="document", doc=guide.id)
    assert at.title[0].value == guide.display_title
    assert len(at.expander) >= 3  # passages by page
    assert any(guide.canonical_url in m.value for m in at.markdown)
    assert at.download_button  # the archived copy
    at = app(vue="document", doc=scan.id)
    assert any("texte non extractible" in w.value for w in at.warning)
    at = app(vue="document", doc="inconnu")
    assert any("n'existe pas" in e.value for e in at.error)


def test_result_opens_its_document_page(app) -> None:
    at = app(q="surendettement", mode="mots")
    button = next(b for b in at.button if b.label == "Fiche du document")
    at = button.click().run()
    assert not at.exception
    assert at.query_params["vue"] == "document"


def test_maintenance_page(app) -> None:
    at = app(vue="maintenance")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Documents"] == "40" and int(metrics["Passages"]) > 200
    assert at.dataframe  # runs
    assert len(at.get("vega_lite_chart")) == 3  # per theme, département, year


def test_only_search_ui_imports_streamlit_here_too() -> None:
    for path in (ROOT / "fonds").rglob("*.py"):
        assert "import streamlit" not in Path(path).read_text(encoding="utf-8"), path
