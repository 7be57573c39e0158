"""What only the embedded engine promises: one writer, readers in other processes, and a
crash mid-write that leaves the last committed state searchable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fonds.engines import ranking
from fonds.engines.base import Passage, SearchRequest
from fonds.engines.embedded import EmbeddedEngine, matches
from fonds.engines.embedded.schema import build_schema
from fonds.errors import FondsError
from fonds.query import parse
from tests.conftest import EVAL, ROOT, need_shared


def passage(doc: str, text: str, position: int = 0) -> Passage:
    return Passage(doc, f"{doc}-{position}", position, 1, f"Titre {doc}", text)


def test_a_reader_sees_new_commits(tmp_path: Path) -> None:
    writer = EmbeddedEngine(tmp_path / "index")
    writer.upsert([passage("a", "Journée santé à Lodève")])
    reader = EmbeddedEngine(tmp_path / "index")  # as the UI process would
    assert reader.search(SearchRequest("lodeve ")).total == 1
    writer.upsert([passage("b", "Rencontres des conseils citoyens à Lodève")])
    assert reader.search(SearchRequest("lodeve ")).total == 2
    writer.delete_documents(["a"])
    assert reader.search(SearchRequest("lodeve ")).total == 1


def test_a_second_writer_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    first = EmbeddedEngine(tmp_path / "index")
    first.upsert([passage("a", "premier")])
    second = EmbeddedEngine(tmp_path / "index")
    with pytest.raises(FondsError, match="déjà ouvert en écriture"):
        second.upsert([passage("b", "second")])
    first.close()


WRITER = """
import sys, time
from pathlib import Path
from fonds.engines.base import Passage
from fonds.engines.embedded import EmbeddedEngine
from fonds.engines.embedded.schema import passage_entry
engine = EmbeddedEngine(Path(sys.argv[1]))
engine.upsert([Passage("kept", "kept-0", 0, 1, "Gardé", "Ce document a été validé.")])
gen = engine._reader()
writer = gen.open_writer()
for i in range(2000):  # added but never committed: the process is killed first
    writer.add_document(passage_entry(
        Passage(f"lost{i}", f"lost{i}-0", 0, 1, "Perdu", "Ce document est perdu.")))
print("ready", flush=True)
time.sleep(60)
"""


def test_sigkill_mid_write_keeps_the_last_commit(tmp_path: Path) -> None:
    index = tmp_path / "index"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(index)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    engine = EmbeddedEngine(index)
    assert engine.document_ids() == {"kept"}
    assert engine.search(SearchRequest("perdu ")).total == 0
    engine.upsert([passage("after", "La vie continue après la panne.")])  # lock released
    assert engine.document_ids() == {"kept", "after"}


def test_suggest_corrects_unknown_words_from_the_archive(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path / "index")
    engine.upsert([passage("a", "Le surendettement des ménages à Lodève"),
                   passage("b", "Surendettement : déposer un dossier")])
    assert engine.suggest("surandetemant lodève") == "surendettement lodeve"
    assert engine.suggest("surendettement") is None  # nothing to correct
    assert engine.suggest("zzzqqqxx") is None


def test_equal_scores_rank_in_document_order_whatever_the_segments(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path / "index")
    # one commit each, in reverse order: tantivy alone breaks the tie by segment
    for doc, text in (("c", "epsilon conseil zeta"), ("b", "gamma conseil delta"),
                      ("a", "alpha conseil beta")):
        engine.upsert([Passage(doc, f"{doc}-0", 0, 1, "Fiche", text)])
    hits = engine.search(SearchRequest("conseil ")).hits
    assert len({round(h.score, 6) for h in hits}) == 1  # a real tie
    assert [h.doc_id for h in hits] == ["a", "b", "c"]


WORDS = ["santé", "sante", "lodève", "conseils", "citoyens", "emploi", "emploie", "quartier",
         "xylophone", "politique de la ville", "pdv"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3), min_size=1,
                max_size=6))
def test_cached_word_masks_give_what_fresh_searches_give(queries: list[list[str]]) -> None:
    """The per-commit mask cache (matches.py) changes no total, facet, hit or notice: a
    sequence of queries sharing words, run with and without it, and across a commit."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = EmbeddedEngine(Path(tmp) / "index")
        engine.upsert([passage("a", "Journée santé à Lodève, quartier prioritaire"),
                       passage("b", "Les conseils citoyens et la politique de la ville"),
                       passage("c", "Emploi des jeunes du quartier")])
        texts = [" ".join(q) + " " for q in queries]

        def results() -> list[tuple[object, ...]]:
            out = []
            for text in texts:
                r = engine.search(SearchRequest(text))
                out.append((r.total, r.facets, [h.doc_id for h in r.hits], r.partial,
                            r.matched_words))
            return out

        try:
            matches.use_cache(False)
            fresh = results()
            matches.use_cache(True)
            assert results() == fresh
            assert results() == fresh  # now from the cache
            engine.upsert([passage("d", "La santé des citoyens du quartier")])
            cached = results()
            matches.use_cache(False)
            assert cached == results()
        finally:
            matches.use_cache(True)


def test_every_word_first_ranks_as_the_whole_union(tmp_path: Path, monkeypatch) -> None:
    """The conjunction-first shortcut (ranking.QueryBuilder.every_word_first) gives the same
    page, scores included, as ranking the union of every passage with any word: on the
    service-public fiches (real French text) and their own questions, 1 to 6 words."""
    root = need_shared(EVAL / "service-public")
    fiches = [json.loads(line) for line in
              (root / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    engine = EmbeddedEngine(tmp_path / "index")
    engine.upsert([Passage(f["_id"], f"{f['_id']}-{i}", i, 1, f["title"] or f["_id"], chunk)
                   for f in fiches[:400]
                   for i, chunk in enumerate(f["text"][k:k + 900]
                                             for k in range(0, len(f["text"]), 900))])
    questions = [json.loads(line)["text"] for line in
                 (root / "queries.jsonl").read_text(encoding="utf-8").splitlines()][:150]

    def pages() -> list[list[tuple[str, float]]]:
        return [[(h.doc_id, round(h.score, 3)) for h in engine.search(
            SearchRequest(q, limit=10)).hits] for q in questions]

    shortcut = pages()
    builder = ranking.QueryBuilder(build_schema())
    used = [q for q in questions if builder.every_word_first(parse(q), 10**4)]
    assert len(used) > 50  # most questions have 2 to 5 words: the shortcut is tried
    monkeypatch.setattr(ranking.QueryBuilder, "every_word_first", lambda *a: False)
    assert pages() == shortcut


def test_the_partial_notice_names_a_word_found_by_its_stem_as_typed(tmp_path: Path) -> None:
    """« recette » is nowhere as typed but « recettes » is: same stem, so the notice keeps
    the user's word (a typo corrected to another word is named as found: conformance).
    Meilisearch names the highlighted forms instead."""
    engine = EmbeddedEngine(tmp_path / "index")
    engine.upsert([passage("budget", "Les recettes fiscales des communes."),
                   passage("guide", "Le mode d'emploi du guide pratique.")])
    result = engine.search(SearchRequest("recette emploi "))
    assert result.partial and set(result.matched_words) == {"recette", "emploi"}
