"""The document page's versions and « Ce qui a changé », the maintenance page's changed
documents and the archived copy of each version (issue 18), through AppTest and the
/copie route on a scratch archive: one PDF imported in three versions, ingested after
each (real PDFs written by tests/pdfs.py, the real catalog and index)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from fonds.catalog import Catalog
from tests.conftest import ROOT, child_env, run_fonds
from tests.pdfs import text_pdf

APP = str(ROOT / "search_ui" / "main.py")
HOSTILE = "<img src=x onerror=window.__pwned=1>"
VERSIONS = [
    ["Le conseil citoyen se réunit chaque mois. Il rend un avis sur le contrat de ville.",
     "Les habitants sont tirés au sort. Le mandat dure deux ans."],
    ["Le conseil citoyen se réunit chaque mois. Il rend un avis sur le contrat de ville.",
     "Les habitants sont tirés au sort. Le mandat dure trois ans.",
     f"Une charte fixe les règles {HOSTILE}. Elle est signée par le préfet."],
    ["Le conseil citoyen se réunit chaque trimestre. Il rend un avis sur le contrat de ville.",
     "Les habitants sont tirés au sort. Le mandat dure trois ans.",
     f"Une charte fixe les règles {HOSTILE}."],
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("versions")
    data, pdf = work / "data", work / "charte-conseil-citoyen.pdf"
    env = child_env(FONDS_DATA_DIR=str(data), FONDS_EMBEDDER="none", FONDS_OCR="false")
    for pages in VERSIONS:
        pdf.write_bytes(text_pdf(pages))
        for args in (("import", str(pdf)), ("ingest",)):
            result = run_fonds(env, *args)
            assert result.returncode == 0, result.stdout + result.stderr
    with Catalog(data / "catalog.sqlite") as catalog:
        (doc,) = catalog.documents()
    return data, doc.id


@pytest.fixture
def app(archive, monkeypatch) -> Iterator:
    data, _ = archive
    monkeypatch.setenv("FONDS_DATA_DIR", str(data))
    monkeypatch.setenv("FONDS_OCR", "false")
    monkeypatch.setenv("FONDS_UI_SHOW_MAINTENANCE", "true")
    st.cache_resource.clear()

    def run(**params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception
        return at

    yield run
    st.cache_resource.clear()


def html_of(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def hrefs(at: AppTest, label: str) -> list[str]:
    found = []
    for m in at.markdown:
        for href, text in re.findall(r"<a href='([^']*)'[^>]*>([^<]*)</a>", m.value):
            if html.unescape(text).startswith(label):
                found.append(html.unescape(href))
    return found


def params_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def test_the_document_page_lists_three_versions_and_what_changed(app, archive) -> None:
    _, doc_id = archive
    at = app(vue="document", doc=doc_id)
    raw = html_of(at)
    page = html.unescape(raw)
    assert {s.value for s in at.subheader} >= {"Versions", "Ce qui a changé"}
    for number in (1, 2, 3):
        assert f"version {number} sur 3" in page
    opened = [params_of(h) for h in hrefs(at, "Ouvrir la version ")]
    assert [p["version"] for p in opened] == ["3", "2", "1"]
    assert all(p["vue"] == "copie" for p in opened)
    # by default, what the latest version changed: one sentence changed on page 1, one
    # removed from page 3, named with their words
    assert "Version 3" in page and "comparée à la version 2" in page
    assert "1 phrase retirée, 1 modifiée" in page
    assert "<h4 class='fonds-diff-page'>Page 1</h4>" in page
    assert "<h4 class='fonds-diff-page'>Page 3</h4>" in page
    assert "chaque <del" in page and ">mois.</del>" in page and ">trimestre.</ins>" in page
    assert ">Elle est signée par le préfet.</del>" in page
    assert "<img" not in raw and "&#60;img src" in raw  # a document's text stays text
    at = app(**params_of(hrefs(at, "Ce qui a changé")[-1]))  # version 2's
    page = html.unescape(html_of(at))
    assert "Version 2" in page and "comparée à la version 1" in page
    assert "2 phrases ajoutées, 1 modifiée" in page
    assert ">deux</del>" in page and ">trois</ins>" in page


def test_each_version_opens_in_the_archive_viewer(app, archive) -> None:
    _, doc_id = archive
    for number, pages in ((1, 2), (2, 3), (3, 3)):
        at = app(vue="copie", doc=doc_id, version=str(number), page="9")
        assert f"Page {pages} sur {pages}" in str(at.get("image")[0].proto)
        assert any(f"version {number} sur 3" in c.value for c in at.caption)
        whole = hrefs(at, "Ouvrir le PDF complet")[0]
        assert whole == f"/copie/{doc_id}?version={number}#page={pages}"
    for wrong in ("4", "0", "1e3", "abc", "9" * 40):
        at = app(vue="copie", doc=doc_id, version=wrong)
        assert any("Version inconnue" in e.value for e in at.error), wrong


def test_the_copy_route_serves_each_version_s_file(archive, monkeypatch) -> None:
    from starlette.testclient import TestClient

    import search_ui.routes as routes

    data, doc_id = archive
    monkeypatch.setenv("FONDS_DATA_DIR", str(data))
    routes._settings.cache_clear()
    from starlette.applications import Starlette

    client = TestClient(Starlette(routes=routes.ROUTES))
    with Catalog(data / "catalog.sqlite") as catalog:
        versions = catalog.versions(doc_id)
    for version in versions:
        answer = client.get(f"/copie/{doc_id}?version={version.number}")
        assert answer.status_code == 200
        assert answer.content == (data / version.file_path).read_bytes()
    assert client.get(f"/copie/{doc_id}").content == (data / versions[-1].file_path
                                                      ).read_bytes()
    for wrong in ("4", "x", "", "../1"):
        assert client.get(f"/copie/{doc_id}?version={wrong}").status_code == 404
    routes._settings.cache_clear()


def test_the_maintenance_page_links_each_changed_document_to_its_diff(app, archive) -> None:
    _, doc_id = archive
    at = app(vue="maintenance")
    (diff,) = hrefs(at, "1 phrase retirée, 1 modifiée")  # the latest version's, once
    assert params_of(diff) == {"vue": "document", "doc": doc_id, "version": "3"}
    assert diff.endswith("#ce-qui-a-change")
    assert "3 sur 3 (2 nouvelles)" in html.unescape(html_of(at))
