"""What the UI shows, without Streamlit: the one escaping helper, URL parameters parsed and
bounded at the edge, French formats, display names, queries that found nothing, stored
files. Generated inputs (hypothesis) for the edges."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fonds import zero_results
from fonds.media import PDF, render_page, stored_file
from fonds.ui_model import (
    JOINER,
    MAX_PAGE,
    PAGE_SIZE,
    YEARS,
    bounded_int,
    date_fr,
    doc_id_param,
    from_params,
    plain_text,
    safe,
    safe_highlight,
    site_name,
    size_fr,
    source_label,
)

HOSTILE = ["<script>alert(1)</script>", "<iframe srcdoc=\"<script>parent.x=1</script>\">",
           "<style>body{display:none}</style>", "![p](http://127.0.0.1:8650/beacon.png)",
           "[clic](javascript:alert(1))", ":red[rouge] :material/home: $x^2$",
           "www.exemple.com http://127.0.0.1:8650/a", "a\n\n<img src=x onerror=alert(1)>",
           "\x1b]0;titre\x07", "# titre\n- liste", "&lt;b&gt;", "<mark>faux</mark>"]
# Characters that start a construct in Markdown, GFM, Streamlit directives, math or HTML.
SYNTAX = re.compile(r"[<>\[\]()!`*_{}#|~:$\\\n\r]")
REFERENCE = re.compile(r"&#\d+;")

values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=200),
                   st.lists(st.sampled_from(HOSTILE + ["texte", " ", "\n\n"]), max_size=6)
                   .map("".join))


@given(values)
@settings(max_examples=400, deadline=None)
def test_safe_text_has_no_markup_and_reads_the_same(value: str) -> None:
    out = safe(value)
    assert not SYNTAX.search(REFERENCE.sub("", out))
    assert not re.search(r"&(?!#\d+;|amp;|lt;|gt;|quot;)", out)  # every & starts a reference
    # what a reader sees is the value, on one line, controls out
    assert html.unescape(out).replace(JOINER, "") == plain_text(value).replace(JOINER, "")


@given(st.lists(st.tuples(values, st.booleans()), max_size=5))
@settings(max_examples=200, deadline=None)
def test_a_snippet_keeps_only_the_engines_marks(parts: list[tuple[str, bool]]) -> None:
    snippet = "".join(f"<mark>{html.escape(t)}</mark>" if marked else html.escape(t)
                      for t, marked in parts)
    out = safe_highlight(snippet)
    stripped = out.replace("<mark>", "").replace("</mark>", "")
    assert not SYNTAX.search(REFERENCE.sub("", stripped))
    assert out.count("<mark>") == sum(marked for _, marked in parts)  # the engine's only


def test_a_forged_mark_inside_a_value_is_text() -> None:
    out = safe_highlight(html.escape("<mark>x</mark><script>"))
    assert "<mark>" not in out and "<script" not in out


@given(st.one_of(st.text(max_size=40), st.integers().map(str),
                 st.sampled_from(["99999999", "1e20", "-5", "0", "+3", "9" * 5000, "2.5",
                                  "٣", "NaN", "inf", " 7 "])))
@settings(max_examples=300, deadline=None)
def test_every_url_number_is_bounded(value: str) -> None:
    state = from_params({"p": value, "de": value, "a": value, "q": "santé"})
    assert 1 <= state.page <= MAX_PAGE
    request = state.request()
    assert request.offset + request.limit <= MAX_PAGE * PAGE_SIZE
    if state.years:
        assert YEARS[0] <= state.years[0] <= state.years[1] <= YEARS[1]


def test_the_issue_examples_of_url_numbers() -> None:
    assert from_params({"q": "santé", "p": "99999999"}).page == MAX_PAGE
    assert from_params({"de": "1e20"}).years is None
    assert from_params({"de": "99999999999999999999"}).years == (YEARS[1], YEARS[1])
    assert from_params({"de": "2019", "a": "2015"}).years == (2015, 2019)
    assert bounded_int("9" * 10_000, 1, 5) is None  # never handed to int()


@given(st.text(max_size=60))
def test_only_catalog_shaped_ids_pass(value: str) -> None:
    passed = doc_id_param(value)
    assert passed is None or re.fullmatch(r"[0-9a-f]{16}", passed)
    for path_like in ("../catalog.sqlite", "/etc/passwd", "0123456789abcdef/..", "."):
        assert doc_id_param(path_like) is None


def test_french_formats() -> None:
    assert date_fr("2021-02-08") == "8 février 2021"
    assert date_fr("2021-03-01") == "1er mars 2021"
    assert date_fr("2021-12") == "décembre 2021"
    assert date_fr("2021") == "2021"
    assert date_fr(None) == ""
    assert size_fr(35_000) == "35 ko"
    assert size_fr(1_234_567) == "1,2 Mo"
    assert size_fr(999) == "999 octets"
    assert size_fr(12_000_000) == "12 Mo"


def test_sources_by_their_names() -> None:
    assert source_label("villes-et-territoires") == "Villes et Territoires Occitanie"
    assert source_label("villes-et-territoires",
                        "https://www.defenseurdesdroits.fr/x.pdf") == "Défenseur des droits"
    assert site_name("https://agence-cohesion-territoires.gouv.fr/a.pdf") == "ANCT"
    assert source_label("inconnue") == "inconnue"
    assert source_label("import", "file:///tmp/a.pdf") == "Fichiers importés"


def test_zero_results_are_counted_per_normalised_query(tmp_path: Path) -> None:
    day = date(2026, 1, 10)
    for query in ("Santé  MENTALE", "sante mentale", "santé mentale !"):
        assert zero_results.record(tmp_path, query, today=day)
    zero_results.record(tmp_path, "jean.dupont@exemple.fr 06 12 34 56 78", today=day)
    rows = zero_results.top(tmp_path, today=day)
    assert rows[0].query == "sante mentale" and rows[0].count == 3
    stored = (tmp_path / zero_results.FILE_NAME).read_bytes()
    assert b"dupont" not in stored and b"56 78" not in stored  # no personal data kept
    # retention: three months later the old ones are gone
    later = date(2026, 6, 1)
    zero_results.record(tmp_path, "autre chose", today=later)
    assert [r.query for r in zero_results.top(tmp_path, today=later)] == ["autre chose"]


def test_zero_results_in_an_unwritable_place_record_nothing(tmp_path: Path) -> None:
    assert not zero_results.record(tmp_path / "absent", "x")
    assert not zero_results.record(tmp_path, "  ")
    assert zero_results.top(tmp_path / "absent") == []


def test_only_stored_files_are_served(tmp_path: Path) -> None:
    files = tmp_path / "files" / "ab"
    files.mkdir(parents=True)
    (files / "x.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "secret.txt").write_text("non")
    (files / "lien.pdf").symlink_to(tmp_path / "secret.txt")
    ok = stored_file(tmp_path, "files/ab/x.pdf", PDF, "https://site.fr/a/guide.pdf")
    assert ok is not None and ok.name == "guide.pdf"
    for bad in ("files/ab/lien.pdf", "secret.txt", "files/../secret.txt", "/etc/passwd",
                "files/ab", "", None):
        assert stored_file(tmp_path, bad, PDF) is None, bad


def test_a_page_image_is_that_page(corpus_pdfs: Path) -> None:
    pdf = next(p for p in sorted(corpus_pdfs.glob("*.pdf"))
               if "aidants" in p.name and "bilan" in p.name)
    first, second = render_page(pdf, 1), render_page(pdf, 2)
    assert first and second and first.startswith(b"\x89PNG") and first != second
    assert render_page(pdf, 10_000) is None and render_page(pdf, 0) is None


KEYS = ["q", "p", "de", "a", "mode", "tri", "theme", "dep", "type", "source", "vue", "doc",
        "page", "x"]


@given(st.dictionaries(st.sampled_from(KEYS), st.one_of(
    st.text(max_size=50), st.lists(st.text(max_size=20), max_size=40),
    st.sampled_from(["1e20", "9" * 40, "-1", "nan", "../..", "<script>"]))))
@settings(max_examples=500, deadline=None)
def test_any_url_gives_a_bounded_search(params: dict) -> None:
    """A fuzz pass over every query parameter the UI reads: a state, never an error."""
    state = from_params(params)
    request = state.request()
    assert 1 <= state.page <= MAX_PAGE and request.limit == PAGE_SIZE
    assert len(state.query) <= 1000
    for values in (state.themes, state.departements, state.types, state.sources):
        assert len(values) <= 30 and all(len(v) <= 200 for v in values)
