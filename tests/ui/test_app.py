"""The Streamlit app through AppTest, on the real corpus archive (see conftest.archive)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import fonds.search
from fonds import zero_results
from fonds.catalog import Catalog
from fonds.models import ExtractionStatus
from fonds.ui_model import JOINER
from tests.conftest import ROOT

APP = str(ROOT / "search_ui" / "main.py")


class CountingEngine:
    """The real engine, with a count of the searches the UI asks of it."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        value = getattr(self._engine, name)
        if name in ("search", "similar", "suggest"):
            def counted(*args, **kwargs):
                self.calls.append(name)
                return value(*args, **kwargs)
            return counted
        return value


@pytest.fixture
def engines(monkeypatch) -> list[CountingEngine]:
    made: list[CountingEngine] = []
    real = fonds.search.open_engine

    def counting(*args, **kwargs):
        made.append(CountingEngine(real(*args, **kwargs)))
        return made[-1]

    monkeypatch.setattr(fonds.search, "open_engine", counting)
    return made


@pytest.fixture
def app(archive, monkeypatch, engines):
    config, _ = archive
    monkeypatch.setenv("FONDS_DATA_DIR", str(config.data_dir))
    monkeypatch.setenv("FONDS_OCR", "false")
    monkeypatch.setenv("FONDS_UI_SHOW_MAINTENANCE", "true")
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
    return 0 if caption.startswith("Aucun") else int(caption.split()[0])


def passages(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("<div class='fonds-passage'>")]


def hrefs(at: AppTest, label: str) -> list[str]:
    """The links whose text starts with `label`, as the browser would read them."""
    found = []
    for m in at.markdown:
        for href, text in re.findall(r"<a href='([^']*)' target='[^']*'>([^<]*)</a>", m.value):
            if html.unescape(text).startswith(label):
                found.append(html.unescape(href))
    return found


def query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


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
        at = widget.select(widget.options[0]).run()
        assert not at.exception
        assert total(at) == count <= everything
        next(b for b in at.sidebar.button if b.label == "Réinitialiser les filtres").click().run()
        assert total(at) == everything


def test_departement_filter_shows_names(app) -> None:
    at = app(q="", mode="mots")
    widget = sidebar_select(at, "Départements")
    assert any("(" in o and ")" in o for o in widget.options)  # « Paris (75) · 3 »


def test_modes_and_sort(app) -> None:
    at = app(q="aide pour faire ses démarches en ligne")
    mixed = [s.value for s in at.subheader]
    at.sidebar.radio(key="mode").set_value("Sens proche").run()
    assert not at.exception and at.query_params["mode"] == "sens"
    semantic = [s.value for s in at.subheader]
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


def test_a_results_page_of_20_hits_runs_one_search(app, engines) -> None:
    at = app(q="", mode="mots")
    assert len(at.subheader) == 20  # 20 hits on the page
    assert engines[-1].calls == ["search"]
    # similar documents are computed for the hit where a reader asks, once
    engines[-1].calls.clear()
    at = next(b for b in at.button if b.label == "Voir les documents similaires").click().run()
    assert not at.exception
    assert sorted(engines[-1].calls) == ["search", "similar"]


@pytest.mark.parametrize("params", [
    {"q": "santé", "p": "99999999"}, {"q": "santé", "p": "9" * 30}, {"de": "1e20"},
    {"de": "99999999999999999999", "a": "-5"}, {"q": "x" * 5000, "p": "abc"},
    {"vue": "document", "doc": "../../etc/passwd"}, {"vue": "copie", "doc": "0" * 16,
                                                     "page": "1e9"},
    {"vue": "<script>"}, {"theme": ["a"] * 500}, {"mode": "\x00", "tri": "%"}])
def test_no_url_ends_or_breaks_the_page(app, params) -> None:
    at = app(**params)  # no exception (asserted in _run), and a French answer
    shown = " ".join([*(c.value for c in at.caption), *(e.value for e in at.error),
                      *(w.value for w in at.warning)])
    assert "trouvé" in shown or "inconnu" in shown or "au-delà" in shown


def test_a_page_beyond_the_results_says_so(app) -> None:
    at = app(q="", mode="mots", p="7")
    assert any("au-delà des résultats" in w.value for w in at.warning)
    at = at.button(key="last-page").click().run()
    assert not at.exception and at.query_params["p"] == "2"


def test_no_results_gives_suggestions_and_is_counted(app, archive) -> None:
    config, _ = archive
    at = app(q="zzzqqq xxyyzz", mode="mots")
    assert total(at) == 0
    assert any("Aucun document trouvé" in c.value for c in at.caption)
    tips = " ".join(m.value for m in at.markdown)
    assert "Sens proche" in tips
    assert any(r.query == "zzzqqq xxyyzz" for r in zero_results.top(config.data_dir))
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


def _documents(archive):
    config, _ = archive
    with Catalog(config.catalog_path) as catalog:
        docs = catalog.documents()
    scan = next(d for d in docs if d.extraction_status is ExtractionStatus.NO_TEXT)
    guide = next(d for d in docs if "kit-aidants" in d.canonical_url)
    return scan, guide


def test_document_page(app, archive) -> None:
    scan, guide = _documents(archive)
    at = app(vue="document", doc=guide.id)
    assert html.unescape(at.title[0].value) == guide.display_title
    assert len(at.expander) >= 3  # passages by page
    assert any(guide.canonical_url in html.unescape(m.value).replace(JOINER, "")
               for m in at.markdown)
    assert hrefs(at, "Voir à la page 1 (copie archivée)")
    assert hrefs(at, "Télécharger (")[0] == f"/copie/{guide.id}?telecharger=1"
    at = app(vue="document", doc=scan.id)
    assert any("texte non extractible" in w.value for w in at.warning)
    for unknown in ("inconnu", "0123456789abcdef", "../catalog.sqlite", "/etc/passwd"):
        at = app(vue="document", doc=unknown)
        assert any("Document inconnu" in e.value for e in at.error)


def test_from_a_filtered_search_to_a_document_and_back(app) -> None:
    search = {"q": "aidants", "mode": "mots", "theme": "inclusion numérique", "tri": "date"}
    at = app(**search)
    to_document = hrefs(at, "Fiche du document")[0]
    carried = query(to_document)
    assert carried["vue"] == ["document"]
    for key, value in search.items():
        assert carried[key] == [value]  # the search travels with the link
    at = app(**{k: v[0] for k, v in carried.items()})
    back = query(hrefs(at, "← Retour à la recherche")[0])
    assert back == {k: [v] for k, v in search.items()}
    at = app(**{k: v[0] for k, v in back.items()})
    assert at.text_input(key="q").value == "aidants"
    assert at.sidebar.radio(key="mode").value == "Mots exacts"
    assert sidebar_select(at, "Thèmes").value == ["inclusion numérique"]
    assert at.sidebar.selectbox(key="sort").value == "Date (récent d'abord)"
    # similar documents on the document page are links to their pages, with the search
    similar = [h for h in hrefs(at=app(**{k: v[0] for k, v in carried.items()}), label="")
               if query(h).get("vue") == ["document"]]
    assert similar and all(query(h)["q"] == ["aidants"] for h in similar)


def test_every_result_opens_the_archived_copy_at_its_page(app, archive) -> None:
    at = app(q="mandat aidants connect", mode="mots")
    links = hrefs(at, "Voir à la page ")
    assert len(links) >= 3
    for href in links[:3]:
        params = {k: v[0] for k, v in query(href).items()}
        assert params["vue"] == "copie" and params["q"] == "mandat aidants connect"
        page = int(params["page"])
        copy = app(**params)
        assert any(f"Page {page} sur" in c for i in copy.get("image")
                   for c in [str(i.proto)]), "the page image with its caption"


def test_the_copy_view_walks_pages_and_refuses_what_is_not_stored(app, archive) -> None:
    _, guide = _documents(archive)
    at = app(vue="copie", doc=guide.id, page="2")
    assert "Page 2 sur" in str(at.get("image")[0].proto)
    assert query(hrefs(at, "Page suivante")[0])["page"] == ["3"]
    assert query(hrefs(at, "← Page précédente")[0])["page"] == ["1"]
    at = app(vue="copie", doc=guide.id, page="99999")  # clamped to the last page
    assert f"Page {guide.pages} sur {guide.pages}" in str(at.get("image")[0].proto)
    for unknown in ("0123456789abcdef", "..", "files/x.pdf"):
        at = app(vue="copie", doc=unknown)
        assert any("Document inconnu" in e.value for e in at.error)


def test_maintenance_page(app) -> None:
    at = app(vue="maintenance")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Documents"] == "40" and int(metrics["Passages"]) > 200
    tables = " ".join(m.value for m in at.markdown if "fonds-table" in m.value)
    assert "Indexation" in tables and "Import" in tables
    # bars sorted by count, full labels
    themes = next(m.value for m in at.markdown if "inclusion numérique" in m.value
                  and "fonds-table" in m.value)
    counts = [int(n) for n in re.findall(r"<td class='n'>(\d+)</td>", themes)]
    assert counts == sorted(counts, reverse=True)
    assert "embeddings_cached" not in tables and "processed" not in tables


def test_maintenance_is_hidden_unless_the_setting_is_on(app, monkeypatch) -> None:
    monkeypatch.setenv("FONDS_UI_SHOW_MAINTENANCE", "false")
    st.cache_resource.clear()
    at = app(vue="maintenance")
    assert not at.metric
    assert any("pas ouverte" in i.value for i in at.info)


def test_only_search_ui_imports_streamlit_here_too() -> None:
    for path in (ROOT / "fonds").rglob("*.py"):
        assert "import streamlit" not in Path(path).read_text(encoding="utf-8"), path


def test_maintenance_lists_broken_links_with_their_article(tmp_path, monkeypatch) -> None:
    from fonds.models import RunKind

    data = tmp_path / "data"
    data.mkdir()
    with Catalog(data / "catalog.sqlite") as catalog:
        run = catalog.start_run(RunKind.CRAWL)
        catalog.finish_run(run, {"new": 0, "failed": 2}, details={"broken_links": [
            {"url": "https://site.fr/guide.pdf", "error": "HTTP 404",
             "article_url": "https://site.fr/article", "article_title": "Conseils citoyens",
             "link_text": "le guide"},
            {"url": "https://site.fr/x.pdf", "error": "![b](http://127.0.0.1:8650/b.png)",
             "article_url": "javascript:alert(1)", "article_title": "<script>x</script>"},
            "pas un lien"]})
    monkeypatch.setenv("FONDS_DATA_DIR", str(data))
    monkeypatch.setenv("FONDS_UI_SHOW_MAINTENANCE", "true")
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["vue"] = "maintenance"
    at.run()
    assert not at.exception
    table = next(m.value for m in at.markdown if "HTTP 404" in m.value)
    assert "href='https://site.fr/article'" in table and "Conseils citoyens" in table
    assert "le guide" in table
    assert "href='javascript" not in table  # shown as text, not a link
    assert "<script>" not in table and "](http" not in table
    st.cache_resource.clear()


def test_partial_matches_are_labelled_and_the_years_span_the_archive(app) -> None:
    at = app(q="recette de la tarte aux pommes", mode="mots")
    notes = [i.value for i in at.info]
    assert total(at) > 0 and any(
        "Aucun document ne contient tous vos mots — documents contenant « recette »" in n
        for n in notes), notes
    everything = app(q="", mode="mots").sidebar.slider(key="f_years")
    narrow = app(q="aidants connect", mode="mots").sidebar.slider(key="f_years")
    assert (narrow.min, narrow.max) == (everything.min, everything.max)


def test_results_never_read_a_stored_file(app, monkeypatch) -> None:
    """Issue 15 §19: each result's download is a link to the streaming route, not a button
    holding the whole file in the server's memory (12 × 40 MB for one search before)."""
    opened: list[str] = []
    real_read_bytes = Path.read_bytes

    def spy(self: Path) -> bytes:
        if "files" in self.parts:
            opened.append(str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    at = app(q="aidants", mode="mots")
    assert total(at) >= 10
    assert not at.get("download_button") and not opened
    assert any("/copie/" in h for h in hrefs(at, "Télécharger"))
