"""The Meilisearch engine without a Meilisearch server (none can run here).

The filter builder is checked against a parser of Meilisearch's filter grammar; requests
go through the real `meilisearch` client to a loopback stand-in that answers with
responses shaped like the real API's (recorded shapes, not a mock of our own code).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from fonds.engines import meili
from fonds.engines.base import Filters, Mode, Passage, SearchRequest, Sort
from fonds.engines.floor import SimilarityFloor
from fonds.engines.meili import MeiliEngine
from fonds.engines.meili_query import (
    build_filter,
    document_key,
    facet_queries,
    formatted_snippet,
    index_settings,
    search_params,
)
from fonds.errors import FondsError
from fonds.highlight import MARK_END, MARK_START
from fonds.settings import load_settings

# -- a parser of Meilisearch's filter grammar (the subset we emit) ------------------------

TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+)|(?P<op>>=|<=|!=|=|>|<)'
                   r"|(?P<punct>[\[\],()])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))")


def tokens(expression: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expression):
        match = TOKEN.match(expression, pos)
        assert match and match.end() > pos, f"unparsable at {expression[pos:]!r}"
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(expression) and expression[pos].isspace():
            pos += 1
    return out


def unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def parse_condition(expression: str) -> tuple[str, str, list[Any]]:
    """`field IN [v, ...]` or `field OP v`; fails on anything else (like an injected OR)."""
    toks = tokens(expression)
    assert toks[0][0] == "word"
    field = toks[0][1]
    if toks[1] == ("word", "IN"):
        assert toks[2] == ("punct", "[") and toks[-1] == ("punct", "]")
        values, expect_value = [], True
        for kind, text in toks[3:-1]:
            if expect_value:
                assert kind in ("str", "num"), (kind, text)
                values.append(unquote(text) if kind == "str" else int(text))
            else:
                assert (kind, text) == ("punct", ","), (kind, text)
            expect_value = not expect_value
        return field, "IN", values
    assert len(toks) == 3 and toks[1][0] == "op" and toks[2][0] in ("str", "num"), toks
    value = unquote(toks[2][1]) if toks[2][0] == "str" else int(toks[2][1])
    return field, toks[1][1], [value]


HOSTILE = ['santé" OR themes = "culture', "l'habitat", 'thème "entre guillemets"',
           "back\\slash\\", "x) OR (doc_type EXISTS", "Égalité femmes-hommes",
           "Pyrénées-Orientales", "a,b] OR year > 0 OR x IN [c", "NOT themes IN [x]", "\\\"",
           "ligne\nnouvelle", "emoji 🏙️", "عربى"]


@pytest.mark.parametrize("value", HOSTILE)
def test_filter_values_cannot_escape_their_quotes(value: str) -> None:
    (expression,) = build_filter(Filters(themes=(value, "santé")))
    assert parse_condition(expression) == ("themes", "IN", [value, "santé"])


def test_filters_combined() -> None:
    expressions = build_filter(Filters(themes=("santé",), departements=("34", "2A"),
                                       doc_types=("guide",), sources=("anct",),
                                       year_from=2019, year_to=2021))
    assert [parse_condition(e) for e in expressions] == [
        ("themes", "IN", ["santé"]), ("departements", "IN", ["34", "2A"]),
        ("doc_type", "IN", ["guide"]), ("source", "IN", ["anct"]),
        ("year", ">=", [2019]), ("year", "<=", [2021])]
    assert build_filter(Filters()) == []


def test_nul_bytes_are_dropped_from_values() -> None:
    (expression,) = build_filter(Filters(sources=("an\x00ct",)))
    assert parse_condition(expression) == ("source", "IN", ["anct"])


def test_document_keys_are_valid_meilisearch_ids() -> None:
    assert document_key("a1b2-3") == "a1b2-3"
    key = document_key("doc:12/é")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", key) and key == document_key("doc:12/é")


def test_settings_from_index_config() -> None:
    settings = index_settings(384)
    assert settings["distinctAttribute"] == "doc_id"
    assert settings["searchableAttributes"][:1] == ["title"]
    assert settings["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert settings["embedders"]["default"] == {"source": "userProvided", "dimensions": 384}
    assert "qpv" in settings["synonyms"] and "de" in settings["stopWords"]
    assert {"themes", "departements", "doc_type", "source", "year"} <= set(
        settings["filterableAttributes"])
    assert "embedders" not in index_settings(None)


def test_search_params_per_mode() -> None:
    vector = np.ones(4, dtype=np.float32) / 2
    keyword = search_params(SearchRequest("santé", Filters(themes=("santé",))), None)
    assert keyword["filter"] == ['themes IN ["santé"]'] and "hybrid" not in keyword
    assert keyword["facets"] == ["themes", "departements", "doc_type", "source", "year"]
    hybrid = search_params(SearchRequest("santé", mode=Mode.HYBRID, semantic_ratio=0.3), vector)
    assert hybrid["hybrid"] == {"embedder": "default", "semanticRatio": 0.3}
    assert hybrid["vector"] == [0.5] * 4
    semantic = search_params(SearchRequest("santé", mode=Mode.SEMANTIC), vector)
    assert semantic["hybrid"]["semanticRatio"] == 1.0
    dated = search_params(SearchRequest("santé", sort=Sort.DATE, offset=20, limit=10), None)
    assert dated["sort"] == ["date_key:desc"] and (dated["page"], dated["hitsPerPage"]) == (3, 10)
    odd = search_params(SearchRequest("santé", offset=5, limit=10), None)
    assert (odd["offset"], odd["limit"]) == (5, 10)


def test_pages_beyond_the_window_ask_for_no_hits() -> None:
    far = search_params(SearchRequest("santé", offset=99_999_990, limit=10), None)
    assert far["hitsPerPage"] == 0 and "offset" not in far


def test_semantic_matches_need_the_floor() -> None:
    vector = np.ones(4, dtype=np.float32) / 2
    floor = SimilarityFloor(absolute=0.8, relative=0.05)
    semantic = search_params(SearchRequest("santé", mode=Mode.SEMANTIC), vector, floor)
    assert semantic["rankingScoreThreshold"] == pytest.approx(0.9)
    keyword = search_params(SearchRequest("santé"), None, floor)
    assert "rankingScoreThreshold" not in keyword


def test_facets_are_disjunctive() -> None:
    request = SearchRequest("santé", Filters(departements=("34", "30"), doc_types=("guide",)))
    queries = facet_queries("fonds", request, None, None)
    by_facet = {q["facets"][0]: q for q in queries}
    assert set(by_facet) == {"departements", "doc_type"}
    # each facet is counted with the other facets' filters only
    assert by_facet["departements"]["filter"] == ['doc_type IN ["guide"]']
    assert by_facet["doc_type"]["filter"] == ['departements IN ["34", "30"]']
    assert all(q["hitsPerPage"] == 0 for q in queries)


def test_snippets_are_escaped_but_keep_marks() -> None:
    snippet = formatted_snippet("… a <b>bold</b> \x02santé\x03 & co …")
    assert snippet == f"… a &lt;b&gt;bold&lt;/b&gt; {MARK_START}santé{MARK_END} &amp; co …"


# -- the real client against a loopback stand-in -------------------------------------------


class FakeMeili(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.indexes: set[str] = set()
        self.fail_next_task: str | None = None
        self.tasks: dict[int, dict[str, Any]] = {}
        self.search_response: dict[str, Any] = {}
        self.broken_meta = False


def task_body(uid: int, index: str | None, kind: str, error: str | None) -> dict[str, Any]:
    return {"uid": uid, "batchUid": uid, "indexUid": index,
            "status": "failed" if error else "succeeded", "type": kind, "canceledBy": None,
            "details": {}, "error": ({"message": error, "code": "invalid_document_fields",
                                      "type": "invalid_request", "link": ""} if error else None),
            "duration": "PT0.01S", "enqueuedAt": "2026-11-26T10:00:00.123456Z",
            "startedAt": "2026-11-26T10:00:00.123456Z", "finishedAt": "2026-11-26T10:00:00.123456Z"}


class Handler(BaseHTTPRequestHandler):
    server: FakeMeili

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _task(self, index: str | None, kind: str) -> None:
        uid = len(self.server.tasks) + 1
        error, self.server.fail_next_task = self.server.fail_next_task, None
        self.server.tasks[uid] = task_body(uid, index, kind, error)
        self._send(202, {"taskUid": uid, "indexUid": index, "status": "enqueued", "type": kind,
                         "enqueuedAt": "2026-11-26T10:00:00.123456Z"})

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null") if length else None
        path = self.path.split("?")[0]
        self.server.requests.append((method, path, dict(self.headers), body))
        parts = path.strip("/").split("/")
        if parts[0] == "tasks":
            self._send(200, self.server.tasks[int(parts[1])])
        elif method == "POST" and parts == ["indexes"]:
            self.server.indexes.add(body["uid"])
            self._task(body["uid"], "indexCreation")
        elif method == "GET" and parts[0] == "indexes" and len(parts) == 2:
            if parts[1] in self.server.indexes:
                self._send(200, {"uid": parts[1], "primaryKey": "id",
                                 "createdAt": "2026-11-26T10:00:00.123456Z",
                                 "updatedAt": "2026-11-26T10:00:00.123456Z"})
            else:
                self._send(404, {"message": f"Index `{parts[1]}` not found.",
                                 "code": "index_not_found", "type": "invalid_request",
                                 "link": "https://docs.meilisearch.com/errors#index_not_found"})
        elif method == "GET" and len(parts) == 4 and parts[2] == "documents":
            if parts[1] not in self.server.indexes:
                self._send(404, {"message": f"Index `{parts[1]}` not found.",
                                 "code": "index_not_found", "type": "invalid_request",
                                 "link": ""})
            elif self.server.broken_meta:
                self._send(500, {"message": "internal", "code": "internal",
                                 "type": "internal", "link": ""})
            else:
                self._send(404, {"message": "Document not found.", "code": "document_not_found",
                                 "type": "invalid_request", "link": ""})
        elif parts[-1] == "settings":
            self._task(parts[1], "settingsUpdate")
        elif parts[-2:] == ["documents", "delete"]:
            self._task(parts[1], "documentDeletion")
        elif parts[-1] == "documents" and method == "POST":
            self._task(parts[1], "documentAdditionOrUpdate")
        elif parts[-1] == "search":
            self._send(200, self.server.search_response)
        elif parts == ["multi-search"]:
            self._send(200, {"results": [
                {"indexUid": q["indexUid"], "hits": [], "query": q["q"], "processingTimeMs": 0,
                 "hitsPerPage": q.get("hitsPerPage", q.get("limit")), "page": 1,
                 "totalHits": 0, "totalPages": 0}
                for q in body["queries"]]})
        else:
            self._send(404, {"message": "not found", "code": "not_found",
                             "type": "invalid_request", "link": ""})

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")


@pytest.fixture
def fake() -> Iterator[FakeMeili]:
    server = FakeMeili()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: FakeMeili) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def passage(doc_id: str, position: int, vector: bool = True) -> Passage:
    return Passage(doc_id, f"{doc_id}:{position}", position, position + 1, "Titre",
                   "Texte", themes=("santé",), departements=("34",), date="2019-11-06",
                   vector=np.full(3, 0.5, dtype=np.float32) if vector else None)


def test_ensure_index_creates_the_index_then_waits(fake: FakeMeili) -> None:
    engine = MeiliEngine(url(fake), "admin-key", index="fonds_t")
    engine.ensure_index(384)
    methods = [(m, p) for m, p, _, _ in fake.requests]
    assert ("POST", "/indexes") in methods
    assert ("PATCH", "/indexes/fonds_t/settings") in methods
    assert any(p.startswith("/tasks/") for _, p in methods)
    settings_body = next(b for m, p, _, b in fake.requests if p.endswith("/settings"))
    assert settings_body["distinctAttribute"] == "doc_id"
    assert all(h.get("Authorization") == "Bearer admin-key" for _, _, h, _ in fake.requests)
    fake.requests.clear()
    engine.ensure_index(384)  # idempotent: the index exists, settings are re-applied
    assert ("POST", "/indexes") not in [(m, p) for m, p, _, _ in fake.requests]


def test_upsert_deletes_the_documents_then_adds_in_batches(fake: FakeMeili) -> None:
    fake.indexes.add("fonds_t")
    engine = MeiliEngine(url(fake), "k", index="fonds_t")
    engine.upsert([passage("d1", 0), passage("d1", 1), passage("d2", 0)])
    deletion = next(b for m, p, _, b in fake.requests if p.endswith("/documents/delete"))
    assert deletion == {"filter": ['doc_id IN ["d1", "d2"]']}
    added = next(b for m, p, _, b in fake.requests
                 if p == "/indexes/fonds_t/documents" and m == "POST")
    assert [d["passage_id"] for d in added] == ["d1:0", "d1:1", "d2:0"]
    assert added[0]["_vectors"] == {"default": [0.5, 0.5, 0.5]}
    assert added[0]["id"] != "d1:0" and added[0]["year"] == 2019


def test_a_failed_task_is_a_clear_error(fake: FakeMeili) -> None:
    fake.indexes.add("fonds_t")
    engine = MeiliEngine(url(fake), "k", index="fonds_t")
    fake.fail_next_task = "Document has a bad field"
    with pytest.raises(FondsError, match="Document has a bad field"):
        engine.delete_documents(["d1"])


def test_search_maps_hits_facets_and_total(fake: FakeMeili) -> None:
    fake.indexes.add("fonds_t")
    fake.search_response = {
        "hits": [{"id": "x", "passage_id": "d1:0", "doc_id": "d1", "title": "Guide",
                  "text": "La santé <b>", "page": 3, "position": 0, "url": "https://a/b.pdf",
                  "source": "anct", "doc_type": "guide", "themes": ["santé"],
                  "departements": ["34"], "date": "2019-11-06", "year": 2019,
                  "_rankingScore": 0.93,
                  "_formatted": {"text": "La \x02santé\x03 <b>"}}],
        "query": "sante", "processingTimeMs": 4, "hitsPerPage": 10, "page": 1,
        "totalHits": 7, "totalPages": 1,
        "facetDistribution": {"themes": {"santé": 7}, "departements": {"34": 5}},
    }
    engine = MeiliEngine(url(fake), "search-key", index="fonds_t")
    result = engine.search(SearchRequest("sante", Filters(departements=("34",))))
    assert result.total == 7
    assert result.facets["themes"] == {"santé": 7} and result.facets["year"] == {}
    (hit,) = result.hits
    assert (hit.doc_id, hit.title, hit.themes, hit.score) == ("d1", "Guide", ("santé",), 0.93)
    assert hit.passages[0].page == 3
    assert hit.passages[0].highlight == f"La {MARK_START}santé{MARK_END} &lt;b&gt;"
    body = next(b for m, p, _, b in fake.requests if p.endswith("/search"))
    assert body["q"] == "sante" and body["filter"] == ['departements IN ["34"]']
    facet_query, passages = [b for m, p, _, b in fake.requests if p == "/multi-search"]
    # the filtered facet is counted without its own filter (disjunctive)
    assert facet_query["queries"][0]["facets"] == ["departements"]
    assert "filter" not in facet_query["queries"][0]
    assert result.facets["departements"] == {"34": 0}  # the selected value keeps its place
    assert passages["queries"][0]["filter"] == ['doc_id IN ["d1"]']
    assert passages["queries"][0]["distinct"] == "passage_id"


def test_unreachable_server_is_one_clear_line_without_the_key() -> None:
    engine = MeiliEngine("http://127.0.0.1:9", "s3cret-master", index="fonds_t", timeout=2)
    with pytest.raises(FondsError) as caught:
        engine.count()
    assert "injoignable à http://127.0.0.1:9" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_the_ui_gets_only_the_search_key() -> None:
    settings = load_settings(env={"FONDS_ENGINE": "meilisearch", "FONDS_MEILI_KEY": "master",
                                  "FONDS_MEILI_SEARCH_KEY": "search"})
    assert MeiliEngine.from_settings(settings, search_only=True).client.config.api_key == "search"
    assert MeiliEngine.from_settings(settings).client.config.api_key == "master"
    no_search_key = load_settings(env={"FONDS_MEILI_KEY": "master"})
    with pytest.raises(FondsError, match="FONDS_MEILI_SEARCH_KEY"):
        MeiliEngine.from_settings(no_search_key, search_only=True)


def test_meta_forgives_only_absence(fake: FakeMeili) -> None:
    engine = MeiliEngine(url(fake), "k", index="fonds_t")
    assert engine.meta() == {}  # no meta index yet
    fake.indexes.add("fonds_t_meta")
    assert engine.meta() == {}  # an index without the document
    fake.broken_meta = True
    with pytest.raises(FondsError, match="métadonnées"):
        engine.meta()  # a server error is not « nothing recorded »
    unreachable = MeiliEngine("http://127.0.0.1:9", "k", index="fonds_t", timeout=2)
    with pytest.raises(FondsError, match="injoignable"):
        unreachable.meta()


def test_similar_on_an_unreachable_server_is_one_clear_line() -> None:
    engine = MeiliEngine("http://127.0.0.1:9", "k", index="fonds_t", timeout=2)
    with pytest.raises(FondsError, match="injoignable"):
        engine.similar("d1")


def test_document_ids_list_one_passage_per_document(fake: FakeMeili) -> None:
    fake.indexes.add("fonds_t")
    engine = MeiliEngine(url(fake), "k", index="fonds_t")
    with pytest.raises(FondsError):  # the stand-in has no document listing: the request
        engine.document_ids()
    (listing,) = [b for m, p, _, b in fake.requests if p.endswith("/documents/fetch")]
    assert listing["filter"] == "position = 0"


def test_a_search_without_every_word_is_partial_and_says_its_words(fake: FakeMeili) -> None:
    fake.indexes.add("fonds_t")
    fake.search_response = {
        "hits": [{"id": "x", "passage_id": "d1:0", "doc_id": "d1", "title": "Budget",
                  "text": "La recette fiscale", "_rankingScore": 0.5,
                  "_formatted": {"text": "La \x02recette\x03 fiscale"}}],
        "query": "recette tarte", "processingTimeMs": 1, "hitsPerPage": 10, "page": 1,
        "totalHits": 1, "totalPages": 1, "facetDistribution": {}}
    engine = MeiliEngine(url(fake), "k", index="fonds_t")
    result = engine.search(SearchRequest("recette tarte", passages_per_doc=1))
    assert result.partial and result.matched_words == ("recette",)
    side = next(b for m, p, _, b in fake.requests if p == "/multi-search")
    strategies = [q.get("matchingStrategy") for q in side["queries"]]
    assert strategies == [None, "all"]  # the year span, then « every word »


def test_searches_read_the_meta_once_until_it_changes(fake: FakeMeili, monkeypatch) -> None:
    """(Stand-in server: no Meilisearch here.) The floor and fold flag live in the meta
    document; reading it before every search was one request more per query."""
    fake.indexes.add("fonds_t")
    fake.search_response = {"hits": [], "query": "x", "processingTimeMs": 1, "totalHits": 0,
                            "hitsPerPage": 10, "page": 1, "totalPages": 0}
    engine = MeiliEngine(url(fake), "admin-key", index="fonds_t")

    def meta_reads() -> int:
        return sum(p.endswith("/documents/meta") for _, p, _, _ in fake.requests)

    for _ in range(3):
        engine.search(SearchRequest("sante ", facets=False))
    assert meta_reads() == 1
    monkeypatch.setattr(meili, "META_FRESH_S", 0.0)  # past the freshness window
    engine.search(SearchRequest("sante ", facets=False))
    assert meta_reads() == 2
