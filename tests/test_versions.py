"""Versions (issue 18): every content a document's URLs served, what changed between them
sentence by sentence with pages, stored at ingest; the catalog side, the comparison, and
`fonds status` / `fonds search --json` through the real CLI on real files."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fonds.catalog as catalog_module
import fonds.catalog_crawl as crawl_module
from fonds.catalog import Catalog
from fonds.catalog_schema import MIGRATIONS
from fonds.catalog_versions import version_counts
from fonds.models import DocStatus, Observation, PassageRecord
from fonds.status import format_status, status_report
from fonds.versions import ChangeKind, compare, load_diff, sentences, summary_fr, word_diff
from tests.conftest import child_env, run_fonds
from tests.pdfs import text_pdf

URL = "https://example.org/guide.pdf"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The catalog's clock, one day later at each reading: dates that can be compared."""
    ticks = count(1)
    stamps: list[str] = []

    def tick() -> str:
        stamps.append(f"2024-01-{next(ticks):02d}T10:00:00+00:00")
        return stamps[-1]

    monkeypatch.setattr(catalog_module, "now", tick)
    monkeypatch.setattr(crawl_module, "now", tick)
    yield stamps


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    with Catalog(tmp_path / "catalog.sqlite") as cat:
        yield cat


def seen(catalog: Catalog, content: str, url: str = URL, **kw: object) -> str:
    sha = hashlib.sha256(content.encode()).hexdigest()
    _, doc_id = catalog.record(Observation(url=url, sha256=sha, file_path=f"files/{sha}.pdf",
                                           media_type="application/pdf", size=len(content),
                                           source="site", **kw))
    return doc_id


def passages(doc_id: str, pages: list[str]) -> list[PassageRecord]:
    """One passage per page (what the chunker gives short pages)."""
    return [PassageRecord(f"{doc_id}-{i}", doc_id, i, i + 1, "", text, str(hash(text)))
            for i, text in enumerate(pages)]


# -- the catalog ---------------------------------------------------------------------------

def test_each_new_content_is_a_version_with_its_dates(catalog: Catalog, clock) -> None:
    doc = seen(catalog, "v1")
    seen(catalog, "v1")  # seen again: the version's last_seen moves
    assert seen(catalog, "v2") == doc
    seen(catalog, "v1")  # a revert is a new version: the history reads in order
    versions = catalog.versions(doc)
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.sha256 for v in versions] == [hashlib.sha256(x.encode()).hexdigest()
                                            for x in ("v1", "v2", "v1")]
    assert (versions[0].first_seen, versions[0].last_seen) == (clock[0], clock[1])
    assert (versions[1].first_seen, versions[1].last_seen) == (clock[2], clock[2])
    assert versions[2].first_seen == clock[3]
    assert versions[0].file_path != versions[1].file_path and versions[0].size == 2
    assert catalog.document(doc).sha256 == versions[-1].sha256


def test_a_304_confirms_the_latest_version(catalog: Catalog, clock) -> None:
    doc = seen(catalog, "v1")
    seen(catalog, "v2")
    catalog.seen_unchanged(URL)
    first, second = catalog.versions(doc)
    assert first.last_seen == clock[0] and second.last_seen == clock[2]
    catalog.seen_unchanged(URL, revive=False)  # a failed fetch proves nothing
    assert catalog.versions(doc)[1].last_seen == clock[2]


def test_a_404_keeps_the_last_version_and_dates_the_disappearance(catalog: Catalog,
                                                                   clock) -> None:
    doc = seen(catalog, "v1")
    seen(catalog, "v2")
    for _ in range(2):
        catalog.record(Observation(url=URL, source="site", error="HTTP 404"))
    document = catalog.document(doc)
    assert document.status is DocStatus.ACTIVE and document.error == "HTTP 404"
    assert catalog.unavailable_since(doc) == clock[2]  # the first failure, not the last
    assert len(catalog.versions(doc)) == 2 and catalog.versions(doc)[1].last_seen == clock[1]
    seen(catalog, "v2")
    assert catalog.unavailable_since(doc) is None and len(catalog.versions(doc)) == 2


def test_a_healthy_crawl_without_the_document_dates_its_absence(catalog: Catalog,
                                                                 clock) -> None:
    docs = [seen(catalog, f"doc {n}", url=f"https://example.org/{n}.pdf") for n in range(6)]
    started = "2024-01-06T12:00:00+00:00"  # after the first six were seen
    for n in range(1, 6):
        seen(catalog, f"doc {n}", url=f"https://example.org/{n}.pdf")
    catalog.mark_missing("site", started, gone_after=3)
    assert catalog.unavailable_since(docs[0]) == clock[-1]
    assert catalog.unavailable_since(docs[1]) is None


def test_content_refused_at_the_edge_is_a_version_a_404_is_none(catalog: Catalog) -> None:
    assert catalog.versions(seen(catalog, "", url="https://example.org/empty.pdf",
                                 error="fichier vide"))[0].size == 0
    _, failed = catalog.record(Observation(url="https://example.org/404.pdf", error="404"))
    assert catalog.versions(failed) == []  # nothing was ever served


def test_migration_gives_each_held_document_one_version(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for number, migration in enumerate(MIGRATIONS[:5]):
        db.executescript(migration)
        db.execute(f"PRAGMA user_version = {number + 1}")
    db.execute("INSERT INTO documents (id, canonical_url, sha256, file_path, size, pages,"
               " first_seen, last_seen, status) VALUES ('a', 'u1', 'aa', 'files/aa.pdf', 5,"
               " 3, '2020-01-01', '2021-01-01', 'active'), ('b', 'u2', NULL, NULL, NULL,"
               " NULL, '2020-01-01', '2020-01-01', 'failed')")
    db.commit()
    db.close()
    with Catalog(path) as catalog:
        (version,) = catalog.versions("a")
        assert (version.number, version.sha256, version.size, version.pages,
                version.first_seen, version.last_seen, version.diff) == (
            1, "aa", 5, 3, "2020-01-01", "2021-01-01", None)
        assert catalog.versions("b") == []


# -- what changed, stored at ingest ------------------------------------------------------------

OLD = ["Le conseil citoyen se réunit chaque mois. Il rend un avis sur le contrat de ville.",
       "Les habitants sont tirés au sort. Le mandat dure deux ans.",
       "Une charte fixe les règles. Elle est signée par le préfet."]
NEW = ["Le conseil citoyen se réunit chaque mois. Il rend un avis sur le contrat de ville.",
       "Les habitants sont tirés au sort. Le mandat dure trois ans. Un suppléant est "
       "désigné pour chaque membre.",
       "Une charte fixe les règles."]


def test_the_diff_names_the_sentences_and_their_pages() -> None:
    diff = compare(passages("d", OLD), passages("d", NEW), base="old")
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 1)
    by_kind = {c.kind: c for c in diff.changes}
    changed = by_kind[ChangeKind.CHANGED]
    assert (changed.before, changed.after) == ("Le mandat dure deux ans.",
                                                "Le mandat dure trois ans.")
    assert changed.page_before == changed.page_after == 2
    added = by_kind[ChangeKind.ADDED]
    assert added.after == "Un suppléant est désigné pour chaque membre." and added.page == 2
    removed = by_kind[ChangeKind.REMOVED]
    assert removed.before == "Elle est signée par le préfet." and removed.page == 3
    assert summary_fr(diff.added, diff.removed, diff.changed) == \
        "1 phrase ajoutée, 1 retirée, 1 modifiée"
    assert word_diff(changed.before, changed.after) == [
        ("same", "Le mandat dure"), ("removed", "deux"), ("added", "trois"), ("same", "ans.")]


def test_a_sentence_carried_into_the_next_passage_counts_once() -> None:
    carried = [PassageRecord("a", "d", 0, 1, "", "Premier point. Deuxième point.", "x"),
               PassageRecord("b", "d", 1, 2, "", "Deuxième point. Troisième point.", "y",
                             page_breaks=((16, 3),))]
    assert [(s.text, s.page) for s in sentences(carried)] == [
        ("Premier point.", 1), ("Deuxième point.", 1), ("Troisième point.", 3)]


WORDS = ("conseil", "citoyen", "quartier", "mandat", "charte", "habitants", "avis",
         "contrat", "ville", "réunion", "préfet", "membres")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.lists(st.sampled_from(WORDS), min_size=3, max_size=30),
                         min_size=1, max_size=12), min_size=1, max_size=5))
def test_sentences_do_not_depend_on_where_passages_begin(pages) -> None:
    """The real chunker's passages (overlapping by a sentence, cut anywhere) read as the
    same sentences, on the same pages, as one passage per page."""
    from ingest.chunk import _units, chunk

    numbered = iter(count(1))
    texts = [(n + 1, "\n".join(f"Point {next(numbered)} {' '.join(words)}." for words in page))
             for n, page in enumerate(pages)]
    chunks = chunk(texts)
    cut = [PassageRecord(str(c.position), "d", c.position, c.page, c.heading, c.text, "",
                         page_breaks=c.page_breaks) for c in chunks]
    whole = [PassageRecord(str(n), "d", n, page, "", " ".join(u.text for u in
                                                            _units([(page, text)])), "")
             for n, (page, text) in enumerate(texts)]
    assert sentences(cut) == sentences(whole)
    assert len(sentences(whole)) == sum(len(p) for p in pages)


def test_a_page_ends_a_sentence_and_a_list_item_is_one() -> None:
    text = ("Il peut s'agir de : • Renseigner un formulaire ; • Signer un mandat. Voir la "
            "suite à la page deux.")
    one = [PassageRecord("a", "d", 0, 1, "", text, "x",
                         page_breaks=((text.index("à la"), 2),))]
    assert [(s.text, s.page) for s in sentences(one)] == [
        ("Il peut s'agir de :", 1), ("• Renseigner un formulaire ;", 1),
        ("• Signer un mandat.", 1), ("Voir la suite", 1), ("à la page deux.", 2)]


def test_moved_page_breaks_change_pages_not_sentences() -> None:
    one = [PassageRecord("a", "d", 0, 1, "", "Un. Deux. Trois.", "x")]
    two = [PassageRecord("a", "d", 0, 1, "", "Un. Deux. Trois.", "x", page_breaks=((4, 2),))]
    assert compare(one, two, "b").empty


SENTENCE = st.sampled_from(["Le conseil citoyen se réunit.", "Un avis est rendu.",
                            "La charte est signée.", "Le mandat dure deux ans.",
                            "Le mandat dure trois ans.", "Les habitants votent.",
                            "Une réunion publique est prévue en mars."])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(SENTENCE, max_size=5), max_size=4),
       st.lists(st.lists(SENTENCE, max_size=5), max_size=4))
def test_a_diff_accounts_for_every_sentence(old_pages, new_pages) -> None:
    old = passages("d", [" ".join(p) for p in old_pages])
    new = passages("d", [" ".join(p) for p in new_pages])
    diff = compare(old, new, "b")
    assert compare(new, new, "b").empty
    before, after = [s.text for s in sentences(old)], [s.text for s in sentences(new)]
    # what is kept, plus what left or changed, is the old text; likewise for the new one
    gone = [c.before for c in diff.changes if c.kind is not ChangeKind.ADDED]
    came = [c.after for c in diff.changes if c.kind is not ChangeKind.REMOVED]
    assert len(before) - len(gone) == len(after) - len(came)
    assert sorted(gone) == sorted(x for x in gone if x in before)
    assert sorted(came) == sorted(x for x in came if x in after)
    assert (diff.added, diff.removed, diff.changed) == tuple(
        sum(c.kind is k for c in diff.changes) for k in ChangeKind)


def test_ingest_of_a_new_version_stores_its_diff_once(catalog: Catalog) -> None:
    doc = seen(catalog, "v1")
    v1 = catalog.document(doc).sha256
    catalog.save_ingest(doc, v1, passages(doc, OLD), {"pages": 3})
    assert catalog.versions(doc)[0].diff is None and catalog.versions(doc)[0].pages == 3
    seen(catalog, "v2")
    v2 = catalog.document(doc).sha256
    catalog.save_ingest(doc, v2, passages(doc, NEW), {"pages": 3})
    stored = catalog.versions(doc)[1].diff
    assert stored is not None and stored.base == v1 and stored.changed == 1
    catalog.save_ingest(doc, v2, passages(doc, OLD), {"pages": 3})  # a rebuild: kept
    assert catalog.versions(doc)[1].diff == stored


def test_no_comparison_says_why(catalog: Catalog) -> None:
    doc = seen(catalog, "v1")
    catalog.save_ingest(doc, catalog.document(doc).sha256, [], {"pages": 1})  # a scan
    seen(catalog, "v2")
    catalog.save_ingest(doc, catalog.document(doc).sha256, passages(doc, NEW), {})
    version = catalog.versions(doc)[1]
    assert version.diff is None and "pas de texte" in version.diff_error


@pytest.mark.parametrize("cell", ["{", "[]", '{"changes": 3}', '{"changes": [{"kind": 1}],'
                                  ' "added": -4, "base": 7}'])
def test_a_damaged_diff_cell_reads_as_a_reason_or_nothing(cell: str) -> None:
    diff, error = load_diff(cell)
    assert (diff is None and error) or (diff is not None and diff.changes == ()
                                        and diff.added == 0 and diff.base == "")


# -- status and search, through the CLI --------------------------------------------------------

def test_status_and_search_tell_what_changed(tmp_path: Path) -> None:
    guide = tmp_path / "guide-conseil-citoyen.pdf"
    data = tmp_path / "data"
    env = child_env(FONDS_DATA_DIR=str(data), FONDS_EMBEDDER="none", FONDS_OCR="false")

    def fonds(*args: str) -> str:
        result = run_fonds(env, *args)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        return result.stdout

    for pages in (OLD, NEW):
        guide.write_bytes(text_pdf(pages))
        fonds("import", str(guide))
        fonds("ingest")
    status = json.loads(fonds("status", "--json"))
    (changed,) = status["changed"]
    assert (changed["version"], changed["versions"]) == (2, 2)
    assert changed["diff"] == {"added": 1, "removed": 1, "changed": 1}
    assert changed["link"] == f"?vue=document&doc={changed['doc_id']}&version=2" \
                              "#ce-qui-a-change"
    text = fonds("status")
    assert "Documents modifiés" in text and "1 phrase ajoutée, 1 retirée, 1 modifiée" in text
    hits = json.loads(fonds("search", "conseil citoyen", "--json"))["hits"]
    assert [h["versions"] for h in hits] == [2]
    with Catalog(data / "catalog.sqlite") as catalog:
        first, second = catalog.versions(changed["doc_id"])
        assert (data / first.file_path).is_file() and (data / second.file_path).is_file()
        diff = second.diff
        assert diff is not None and {(c.kind, c.page) for c in diff.changes} == {
            (ChangeKind.ADDED, 2), (ChangeKind.REMOVED, 3), (ChangeKind.CHANGED, 2)}
        assert status_report(catalog)["changed"][0]["doc_id"] == changed["doc_id"]
        assert "version 2 sur 2" in format_status(status_report(catalog))


def test_version_counts_read_a_read_only_catalog(tmp_path: Path, catalog: Catalog) -> None:
    doc = seen(catalog, "v1")
    seen(catalog, "v2")
    assert version_counts(catalog.path, [doc, "0" * 16]) == {doc: 2, "0" * 16: 0}
    assert version_counts(tmp_path / "absent.sqlite", [doc]) is None
