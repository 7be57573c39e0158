"""Near-duplicates folded into one result (issue 18): signatures, groups, the real PDFs.

The copies are made here from ../shared/corpus/pdfs the way a republisher makes them: pypdf
re-saves the file with another producer and a page added, or with a new cover page.
"""

from __future__ import annotations

import io
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from fonds import fold
from fonds.app.cli import cli
from fonds.engines.base import Copy, DocHit, Passage, SearchRequest
from fonds.engines.meili_query import (
    copies_of,
    copies_query,
    fold_candidates_query,
    index_settings,
    search_params,
    to_document,
)
from tests.conftest import CORPUS_PDFS, EVAL, ingest_dir, need_shared
from tests.pdfs import text_pdf

ORIGINAL = "cada_avis-20172386.pdf"
PAGE_FROM = "jorf_decret-2016-1036-redevances.pdf"  # the page a republisher appended
DECISIONS = ("ddd_decision-LCD-2011-63.pdf", "ddd_decision-MLD-2014-005.pdf")
RESAVED = "cada_avis-20172386_republie.pdf"
COVERED = "cada_avis-20172386_couverture.pdf"
CADA_QUERY = "commission d'accès aux documents administratifs avis"

VOCABULARY = ("le conseil citoyen habitants quartier contrat ville préfet égalité réunion "
              "local moyens association acteurs renouvellement urbain pilotage instances "
              "Défenseur droits décision réclamation délai mois")
WORDS = st.lists(st.sampled_from(VOCABULARY.split()), min_size=fold.SHINGLE_WORDS,
                 max_size=120)


# -- signatures -------------------------------------------------------------------------------


@given(WORDS, st.lists(st.sampled_from([" ", "  ", "\n", "\t", " \n "]), min_size=1),
       st.booleans())
@settings(max_examples=60, deadline=None)
def test_a_signature_ignores_spacing_and_case(words: list[str], spaces: list[str],
                                              upper: bool) -> None:
    plain = " ".join(words)
    spaced = "".join(w + spaces[i % len(spaces)] for i, w in enumerate(words))
    if upper:
        spaced = spaced.upper()
    # Split across passages differently: the document is one text.
    half = len(spaced) // 2
    cut = max((i for i, ch in enumerate(spaced[:half]) if ch.isspace()), default=-1) + 1
    sig = fold.signature([plain])
    assert sig == fold.signature([spaced[:cut], spaced[cut:]])
    assert fold.Signature.decode(sig.encode()) == sig  # a stored sketch reads back
    assert not sig.mins or fold.resemblance(sig, sig) == 1.0


@given(st.one_of(st.text(max_size=1100), st.binary(max_size=1100), st.integers(), st.none()))
@settings(max_examples=100, deadline=None)
def test_a_stored_signature_is_parsed_or_refused(value: object) -> None:
    sig = fold.Signature.decode(value)
    assert sig is None or fold.Signature.decode(sig.encode()) == sig


def test_a_signature_survives_its_encoding() -> None:
    sig = fold.signature([" ".join(f"mot{i}" for i in range(200))])
    assert sig.usable and fold.Signature.decode(sig.encode()) == sig
    assert fold.Signature.decode(sig.encode().encode("ascii")) == sig
    assert fold.Signature.decode(sig.encode()[:-2]) is None


def test_short_texts_never_fold() -> None:
    title = fold.signature(["Formulaire de demande"])
    assert not title.usable and not fold.same_document(title, title)
    assert title.bands() == ()


def test_an_excerpt_is_not_a_copy() -> None:
    """A summary wholly contained in a report is another document (size ratio)."""
    report = [" ".join(f"mot{i}" for i in range(1000))]
    excerpt = [" ".join(f"mot{i}" for i in range(200))]
    a, b = fold.signature(report), fold.signature(excerpt)
    assert fold.containment(a, b) > 0.9 and not fold.same_document(a, b)


def test_a_group_keeps_its_key_when_members_come_back() -> None:
    text = " ".join(f"mot{i}" for i in range(300))
    index = fold.FoldIndex()
    first = index.assign("a", fold.signature([text]))
    assert index.assign("b", fold.signature(["Couverture de la préfecture. " + text])) == first
    assert index.assign("a", fold.signature([text])) == first  # re-indexed unchanged
    index.remove("b")
    # A founder whose text changed founds another group: its old copies are not its own.
    changed = index.assign("a", fold.signature([" ".join(f"autre{i}" for i in range(300))]))
    assert changed != first and changed.startswith("a~")


def test_fiches_sharing_their_procedure_stay_apart() -> None:
    """Distinct service-public.fr answers that repeat the same procedure paragraphs (the
    calibration's hardest pairs: containment 0.80-0.91) are not copies."""
    corpus = need_shared(EVAL / "service-public" / "corpus.jsonl")
    texts = {}
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            texts[record["_id"]] = fold.signature([record["title"], record["text"]])
    for a, b in (("F34749", "F34750"), ("F10519", "F12097"), ("F34829", "F17698"),
                 ("F21258", "F33805"), ("F34377", "F21814")):
        assert 0.75 < fold.containment(texts[a], texts[b]) < fold.CONTAINMENT_THRESHOLD
        assert not fold.same_document(texts[a], texts[b])


# -- the real PDFs ------------------------------------------------------------------------------


def _resave(source: Path, target: Path, extra: Path | None = None, cover: bytes | None = None
            ) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    if cover is not None:
        writer.add_page(PdfReader(io.BytesIO(cover)).pages[0])
    for page in PdfReader(source).pages:
        writer.add_page(page)
    if extra is not None:
        writer.add_page(PdfReader(extra).pages[0])
    writer.add_metadata({"/Producer": "pypdf (republication)"})
    with target.open("wb") as out:
        writer.write(out)


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> Path:
    need_shared(CORPUS_PDFS)
    folder = tmp_path_factory.mktemp("copies") / "pdfs"
    folder.mkdir()
    for name in (ORIGINAL, *DECISIONS):
        shutil.copy(CORPUS_PDFS / name, folder / name)
    _resave(CORPUS_PDFS / ORIGINAL, folder / RESAVED, extra=CORPUS_PDFS / PAGE_FROM)
    _resave(CORPUS_PDFS / ORIGINAL, folder / COVERED, cover=text_pdf([
        "Préfecture de l'Hérault\nDocument republié pour information\nFévrier 2021"]))
    return folder


@pytest.fixture(scope="module")
def archive(copies: Path, tmp_path_factory):
    config, report = ingest_dir(tmp_path_factory.mktemp("fold") / "data", copies,
                                embedder="none")
    assert report.counts["processed"] == 5, report.errors
    return config


def search(config, query: str, **env: str) -> dict:
    result = CliRunner().invoke(cli, ["--data-dir", str(config.data_dir), "search", query,
                                      "--mode", "keyword", "--json", "--limit", "20"],
                                env={f"FONDS_{k.upper()}": v for k, v in env.items()})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def names(hits: list[dict]) -> list[str]:
    return [h["url"].rsplit("/", 1)[-1] for h in hits]


def test_signatures_of_the_real_copies(copies: Path) -> None:
    from ingest.extract import Limits, extract_pdf

    def sig(name: str) -> fold.Signature:
        return fold.signature(p.text for p in extract_pdf(copies / name, Limits(ocr=False)).pages)

    original = sig(ORIGINAL)
    for copy in (RESAVED, COVERED):
        assert fold.containment(original, sig(copy)) >= 0.95
        assert fold.same_document(original, sig(copy))
    first, second = (sig(d) for d in DECISIONS)
    assert fold.containment(first, second) < 0.2  # one template, two decisions
    assert not fold.same_document(first, second)


def test_a_republished_pdf_folds_with_its_original(archive) -> None:
    found = search(archive, CADA_QUERY)
    cada = [h for h in found["hits"] if "cada_avis" in h["url"]]
    assert len(cada) == 1, names(found["hits"])
    (hit,) = cada
    shown = hit["url"].rsplit("/", 1)[-1]
    others = {c["url"].rsplit("/", 1)[-1] for c in hit["copies"]}
    assert others == {ORIGINAL, RESAVED, COVERED} - {shown}
    assert all(set(c) == {"doc_id", "url", "source", "date"} for c in hit["copies"])
    assert found["total"] == len(found["hits"])  # the group counted once
    assert sum(found["facets"]["doc_type"].values()) >= 1
    assert all(n <= found["total"] for facet in found["facets"].values() for n in facet.values())


def test_two_decisions_on_one_template_stay_apart(archive) -> None:
    found = search(archive, "Défenseur des droits décision réclamation")
    decisions = [h for h in found["hits"] if "ddd_decision" in h["url"]]
    assert sorted(names(decisions)) == sorted(DECISIONS)
    assert all(not h["copies"] for h in decisions)


def test_folding_can_be_switched_off(archive) -> None:
    found = search(archive, CADA_QUERY, fold_duplicates="false")
    assert sorted(n for n in names(found["hits"]) if "cada_avis" in n) == sorted(
        [ORIGINAL, RESAVED, COVERED])
    assert all(not h["copies"] for h in found["hits"])
    assert found["total"] == search(archive, CADA_QUERY)["total"] + 2


def test_reindex_recomputes_the_groups(archive) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(archive.data_dir), "reindex"])
    assert result.exit_code == 0, result.output
    found = search(archive, CADA_QUERY)
    (hit,) = [h for h in found["hits"] if "cada_avis" in h["url"]]
    assert len(hit["copies"]) == 2


# -- the Meilisearch side, as pure request bodies (no server here) -----------------------------


def test_meilisearch_documents_carry_the_group() -> None:
    text = " ".join(f"mot{i}" for i in range(100))
    sig = fold.signature([text])
    p = Passage("d1", "d1-0", 0, 1, "Titre", text)
    doc = to_document(p, "d0~abcd", sig)
    assert doc["fold"] == "d0~abcd" and fold.Signature.decode(doc["fold_sig"]) == sig
    assert doc["fold_bands"] == list(sig.bands()) and len(doc["fold_bands"]) == fold.LSH_KEYS
    alone = to_document(Passage("d2", "d2-3", 3, 1, "Titre", "Texte"))
    assert alone["fold"] == "d2" and "fold_sig" not in alone
    settings_ = index_settings(None)
    assert {"fold", "fold_bands"} <= set(settings_["filterableAttributes"])
    assert {"fold", "fold_sig"} <= set(settings_["displayedAttributes"])


def test_meilisearch_requests_for_groups() -> None:
    sig = fold.signature([" ".join(f"mot{i}" for i in range(100))])
    query = fold_candidates_query([sig], 1000)
    assert query is not None and query["filter"][1] == "position = 0"
    assert query["filter"][0].startswith("fold_bands IN [") and query["limit"] == 1000
    assert fold_candidates_query([fold.signature(["trop court"])], 10) is None
    hostile = copies_query(['g" OR doc_id EXISTS OR fold = "x'], 10)
    assert hostile["filter"][0] == 'fold IN ["g\\" OR doc_id EXISTS OR fold = \\"x"]'
    assert search_params(SearchRequest("santé"), None, distinct="fold")["distinct"] == "fold"
    assert "distinct" not in search_params(SearchRequest("santé"), None)


def test_meilisearch_copies_are_parsed_at_the_edge() -> None:
    hits = [{"doc_id": "a", "fold": "g"}, {"doc_id": "z", "fold": "solo"}]
    rows = [{"doc_id": "a", "fold": "g", "date": "2021-01-01"},
            {"doc_id": "c", "fold": "g", "url": None, "source": "anct", "date": "2021/03/01"},
            {"doc_id": "b", "fold": "g", "url": "https://b", "source": "cndp",
             "date": "2020-05-04T10:00"},
            {"doc_id": "z", "fold": "solo"}]
    assert copies_of(hits, rows) == {"a": (Copy("b", "https://b", "cndp", "2020-05-04"),
                                           Copy("c", "", "anct", None))}


# -- the UI line -----------------------------------------------------------------------------


def test_the_ui_names_the_other_publications_safely() -> None:
    from fonds.ui_model import UiState
    from search_ui.views import copies_line

    hit = DocHit("a", "Guide", "https://example.org/a.pdf", "centre", "guide", (), (), None,
                 score=1.0, passages=(), copies=(
                     Copy("b", "https://www.herault.gouv.fr/guide.pdf", "prefecture",
                          "2021-02-08"),
                     Copy("c", "javascript:alert(1)", "<img src=x onerror=alert(1)>", None)))
    line = copies_line(hit, UiState())
    assert line is not None and line.count("<a ") == 2
    assert "Également publié par" in line and "(8 février 2021)" in line
    assert "(sans date)" in line and "<img" not in line and "javascript:" not in line
    assert "doc=b" in line and "doc=c" in line
    assert copies_line(DocHit("a", "", "", "", "", (), (), None, score=0.0, passages=()),
                       UiState()) is None


def test_the_results_page_shows_one_result_and_its_other_publications(archive, monkeypatch
                                                                      ) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("FONDS_DATA_DIR", str(archive.data_dir))
    monkeypatch.setenv("FONDS_EMBEDDER", "none")
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(ROOT / "search_ui" / "main.py"), default_timeout=120)
        at.query_params["q"] = CADA_QUERY
        at.query_params["mode"] = "mots"
        at.run()
        assert not at.exception
        lines = [m.value for m in at.markdown if "fonds-copies" in m.value]
        titles = [s.value for s in at.subheader]
    finally:
        st.cache_resource.clear()
    found = search(archive, CADA_QUERY)
    (hit,) = [h for h in found["hits"] if "cada_avis" in h["url"]]
    from fonds.ui_model import PAGE_SIZE

    # the group is one result on the page too
    assert len(titles) == min(len(found["hits"]), PAGE_SIZE)
    (line,) = lines
    assert line.count("Également publié par") == 1 and line.count("<a ") == 2
    for copy in hit["copies"]:
        assert f"doc={copy['doc_id']}" in line


# -- the Meilisearch engine against a loopback stand-in (no Meilisearch server here) --------


class StandIn(ThreadingHTTPServer):
    """Answers the few Meilisearch routes the fold path uses, shaped like the real API's."""

    def __init__(self, meta: dict, rows: list[dict], hits: list[dict]) -> None:
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.meta, self.rows, self.hits = meta, rows, hits
        self.requests: list[tuple[str, str, object]] = []
        self.tasks = 0


class StandInHandler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        path = self.path.split("?")[0]
        self.server.requests.append((method, path, body))
        parts = path.strip("/").split("/")
        stamp = "2026-12-02T04:00:00.000000Z"
        if parts[0] == "tasks":
            self._send(200, {"uid": int(parts[1]), "batchUid": int(parts[1]), "indexUid": "f",
                             "status": "succeeded", "type": "documentAdditionOrUpdate",
                             "canceledBy": None, "details": {}, "error": None,
                             "duration": "PT0.01S", "enqueuedAt": stamp, "startedAt": stamp,
                             "finishedAt": stamp})
        elif parts[-1] == "meta" and parts[-2] == "documents":
            self._send(200, {"id": "meta", "json": json.dumps(self.server.meta)})
        elif parts[-2:] == ["documents", "fetch"]:
            self._send(200, {"results": self.server.rows, "offset": 0, "limit": 1000,
                             "total": len(self.server.rows)})
        elif parts[-1] == "search":
            self._send(200, {"hits": self.server.hits, "query": body.get("q", ""),
                             "processingTimeMs": 1, "hitsPerPage": 10, "page": 1,
                             "totalHits": len(self.server.hits), "totalPages": 1,
                             "facetDistribution": {}})
        elif parts == ["multi-search"]:
            self._send(200, {"results": [{"indexUid": q["indexUid"], "hits": [],
                                          "query": q["q"], "processingTimeMs": 0,
                                          "hitsPerPage": 0, "page": 1, "totalHits": 0,
                                          "totalPages": 0} for q in body["queries"]]})
        else:  # document additions and deletions: an enqueued task
            self.server.tasks += 1
            self._send(202, {"taskUid": self.server.tasks, "indexUid": parts[1],
                             "status": "enqueued", "type": "documentAdditionOrUpdate",
                             "enqueuedAt": stamp})

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")


@pytest.fixture
def stand_in(request) -> Iterator[StandIn]:
    server = StandIn(*request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _engine(server: StandIn):
    from fonds.engines.meili import MeiliEngine

    return MeiliEngine(f"http://127.0.0.1:{server.server_address[1]}", "k", index="f")


GUIDE_TEXT = " ".join(f"Le conseil citoyen numéro {i} examine le contrat de ville."
                      for i in range(20))
GUIDE_SIG = fold.signature([GUIDE_TEXT])


@pytest.mark.parametrize("stand_in", [({}, [{"doc_id": "original", "fold": "original~1234",
                                             "fold_sig": GUIDE_SIG.encode()}], [])],
                         indirect=True)
def test_meilisearch_upsert_joins_the_group_of_an_indexed_copy(stand_in: StandIn) -> None:
    _engine(stand_in).upsert([
        Passage("copie", "copie-0", 0, 1, "Guide", "Préfecture de l'Hérault. " + GUIDE_TEXT),
        Passage("copie", "copie-1", 1, 2, "Guide", "Annexe."),
        Passage("autre", "autre-0", 0, 1, "Autre", " ".join(f"mot{i}" for i in range(80)))])
    (fetch,) = [b for m, p, b in stand_in.requests if p.endswith("/documents/fetch")]
    assert fetch["filter"][1] == "position = 0" and "fold_bands IN [" in fetch["filter"][0]
    added = next(b for m, p, b in stand_in.requests if p == "/indexes/f/documents")
    folds = {d["passage_id"]: d["fold"] for d in added}
    assert folds["copie-0"] == folds["copie-1"] == "original~1234"
    assert folds["autre-0"].startswith("autre~")
    assert [d["passage_id"] for d in added if "fold_sig" in d] == ["copie-0", "autre-0"]


@pytest.mark.parametrize("stand_in", [(
    {"fold_groups": True},
    [{"doc_id": "copie", "fold": "g1", "url": "https://b/guide.pdf", "source": "prefecture",
      "date": "2021-03-01"},
     {"doc_id": "original", "fold": "g1", "url": "https://a/guide.pdf",
      "source": "centre-de-ressources", "date": "2021-02-08"}],
    [{"id": "x", "passage_id": "copie-0", "doc_id": "copie", "fold": "g1", "title": "Guide",
      "text": "Le conseil citoyen", "url": "https://b/guide.pdf", "source": "prefecture",
      "_rankingScore": 0.9, "_formatted": {"text": "Le \x02conseil\x03 citoyen"}}])],
    indirect=True)
def test_meilisearch_search_is_distinct_on_the_group_and_lists_copies(stand_in: StandIn
                                                                      ) -> None:
    result = _engine(stand_in).search(SearchRequest("conseil", passages_per_doc=1))
    (hit,) = result.hits
    assert hit.copies == (Copy("original", "https://a/guide.pdf", "centre-de-ressources",
                               "2021-02-08"),)
    body = next(b for m, p, b in stand_in.requests if p == "/indexes/f/search")
    assert body["distinct"] == "fold"
    (fetch,) = [b for m, p, b in stand_in.requests if p.endswith("/documents/fetch")]
    assert fetch["filter"] == ['fold IN ["g1"]', "position = 0"]
    # An index without recorded groups (built before them) is not folded.
    stand_in.meta = {}
    _engine(stand_in).search(SearchRequest("conseil", passages_per_doc=1))
    last = [b for m, p, b in stand_in.requests if p == "/indexes/f/search"][-1]
    assert "distinct" not in last


def test_the_terminal_names_the_other_publications() -> None:
    from fonds.engines.base import SearchResult
    from fonds.render import format_result

    hit = DocHit("a", "Guide", "https://a", "centre", "guide", (), (), "2021-02-08",
                 score=1.0, passages=(), copies=(
                     Copy("b", "https://b", "prefecture", "2021-03-01"),
                     Copy("c", "https://c", "\x1b[31mrouge", None)))
    text = format_result(SearchRequest("guide"), SearchResult(1, (hit,), {}, 1.0))
    assert "   Également publié par prefecture (1er mars 2021), " in text
    assert "(sans date)" in text and "\x1b" not in text
