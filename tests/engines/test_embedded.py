"""What only the embedded engine promises: one writer, readers in other processes, and a
crash mid-write that leaves the last committed state searchable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fonds.engines.base import Passage, SearchRequest
from fonds.engines.embedded import EmbeddedEngine
from fonds.errors import FondsError
from tests.conftest import ROOT


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
