"""Whatever people type, in every mode and every filter: an answer, never an exception, and
never markup of theirs in the page (snippets escape all but their own <mark>)."""

from __future__ import annotations

import re

import pytest
import streamlit as st
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from fonds.app.cli import cli
from fonds.engines.base import Filters, Mode, SearchRequest
from fonds.errors import FondsError
from fonds.search import SearchService, build_filters
from tests.conftest import ROOT

QUERIES = {
    "vide": "",
    "espaces": "   \t\n  ",
    "10 000 caractères": "conseil citoyen " * 625,
    "ponctuation": "?!.,;:«»()[]{}--__//\\\\''\"\"",
    "syntaxe de filtre": 'theme = "santé" OR 1=1 AND departement IN ["34"]',
    "injection SQL": "'; DROP TABLE documents; --",
    "HTML": "<script>alert('x')</script><img src=x onerror=alert(1)> conseil",
    "emoji": "🏘️ conseils citoyens 👩‍👩‍👧",
    "droite à gauche": "مجلس المواطنين שלום conseil",
    "NUL et contrôles": "conseil\x00\x01\x7f citoyen",
    "opérateurs tantivy": "title:conseil AND (text:santé OR *) ~2 ^3",
    "un seul caractère": "é",
    "chiffres": "2019 34000 1,5 %",
}
HOSTILE_VALUES = ['santé" OR 1=1', "l'Hérault", "a\\b", '") OR ("', "<b>x</b>", "\x00", "🏘️",
                  "' OR ''='", "x" * 5000]


@pytest.fixture(scope="module")
def service(archive):
    config, _ = archive
    service = SearchService(config)
    yield service
    service.engine.close()


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("name", QUERIES)
def test_any_query_in_any_mode_is_answered(service, name: str, mode: Mode) -> None:
    result = service.search(SearchRequest(QUERIES[name], mode=mode, limit=5))
    assert len(result.hits) == min(result.total, 5)  # a total one can page through
    for hit in result.hits:
        for passage in hit.passages:
            _assert_escaped(passage.highlight)


def test_a_real_word_still_finds_among_the_noise(service) -> None:
    for name in ("10 000 caractères", "HTML", "emoji", "droite à gauche", "NUL et contrôles"):
        assert service.search(SearchRequest(QUERIES[name], limit=5)).total > 0, name


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("field", ["themes", "departements", "doc_types", "sources"])
def test_hostile_filter_values_are_just_values(service, field: str, value: str) -> None:
    for mode in Mode:
        result = service.search(SearchRequest("conseil", Filters(**{field: (value,)}),
                                              mode=mode))
        assert result.total == 0 and result.hits == ()


def test_unknown_facet_values_are_a_clear_error_in_the_cli(service) -> None:
    with pytest.raises(FondsError, match="inconnu"):
        service.check_filters(build_filters(themes=['santé" OR 1=1']))
    with pytest.raises(FondsError):
        service.check_filters(build_filters(departements=["Atlantide"]))


@pytest.mark.parametrize("name", ["HTML", "syntaxe de filtre", "10 000 caractères", "emoji"])
def test_cli_answers_hostile_queries(archive, name: str) -> None:
    config, _ = archive
    result = CliRunner().invoke(cli, ["--data-dir", str(config.data_dir), "search", QUERIES[name],
                                      "--mode", "keyword", "--json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_cli_refuses_a_hostile_theme_in_one_line(archive) -> None:
    config, _ = archive
    result = CliRunner().invoke(cli, ["--data-dir", str(config.data_dir), "search",
                                      "conseil", "--theme", 'santé" OR 1=1'])
    assert result.exit_code != 0
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["HTML", "10 000 caractères", "droite à gauche", "emoji",
                                  "ponctuation"])
def test_the_ui_answers_and_escapes(archive, monkeypatch, name: str) -> None:
    config, _ = archive
    monkeypatch.setenv("FONDS_DATA_DIR", str(config.data_dir))
    monkeypatch.setenv("FONDS_OCR", "false")
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "search_ui" / "main.py"), default_timeout=120)
    at.query_params["q"] = QUERIES[name]
    at.run()
    assert not at.exception
    for block in at.markdown:
        _assert_escaped(block.value)
    st.cache_resource.clear()


def _assert_escaped(markup: str) -> None:
    """Only our own tags (<mark>, the UI's wrappers and its style sheet), never the user's."""
    for tag in re.findall(r"<\s*([a-zA-Z][\w-]*)", markup):
        assert tag.lower() in {"mark", "div", "span", "a", "b", "small", "strong", "br", "style"}, (
            markup)
    assert "<script" not in markup and "<img" not in markup
