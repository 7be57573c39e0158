"""Versions on the real WordPress (tests/wordpress): a PDF replaced twice across three
crawls is one document with three versions, their dates, their files, and what changed
sentence by sentence with pages; then its URL answers 404 (issue 18)."""

from __future__ import annotations

import hashlib

import pytest

from fonds.catalog import Catalog
from fonds.models import DocStatus
from fonds.versions import ChangeKind
from tests.versions_history import AVENANT, COMMITTEE, FOUR, PAGE, THREE, three_versions

pytestmark = [pytest.mark.slow, pytest.mark.wordpress]


def test_a_pdf_replaced_twice_has_three_versions_and_what_changed(wordpress,
                                                                   tmp_path) -> None:
    history = three_versions(wordpress, tmp_path)
    crawls = history.crawls
    assert len(crawls) == 3
    assert [c["counts"]["changed"] for c in crawls[1:]] == [1, 1], crawls
    with Catalog(history.data_dir / "catalog.sqlite") as catalog:
        doc_id = catalog.doc_id_for(history.pdf.url)
        versions = catalog.versions(doc_id)
        document = catalog.document(doc_id)
    assert [v.sha256 for v in versions] == [hashlib.sha256(c).hexdigest()
                                            for c in history.contents]
    assert [v.size for v in versions] == [len(c) for c in history.contents]
    assert [v.pages for v in versions] == [3, 4, 4]
    assert document.sha256 == versions[-1].sha256  # search serves the current version
    for version, crawl in zip(versions, crawls, strict=True):
        # first seen by the crawl that found it; last seen before the next one replaced it
        assert crawl["started"] <= version.first_seen <= crawl["finished"]
        assert (history.data_dir / version.file_path).read_bytes() == \
            history.contents[version.number - 1]  # no crawl deletes a version's file
    assert versions[0].last_seen <= crawls[0]["finished"] < versions[1].first_seen

    assert versions[0].diff is None
    second = versions[1].diff
    assert second is not None and second.base == versions[0].sha256
    assert (second.added, second.removed, second.changed) == (3, 0, 0)
    assert {(c.kind, c.after, c.page) for c in second.changes} == {
        (ChangeKind.ADDED, text, PAGE) for text in (AVENANT, THREE, COMMITTEE)}
    third = versions[2].diff
    assert third is not None and third.base == versions[1].sha256
    assert {(c.kind, c.before, c.after, c.page) for c in third.changes} == {
        (ChangeKind.CHANGED, THREE, FOUR, PAGE), (ChangeKind.REMOVED, COMMITTEE, "", PAGE)}

    status = history.status()
    changed = {c["doc_id"]: c for c in status["changed"]}
    assert changed[doc_id]["version"] == 3 and changed[doc_id]["versions"] == 3
    assert changed[doc_id]["diff"] == {"added": 0, "removed": 1, "changed": 1}
    hits = history.fonds("search", "durée du mandat des référents", "--json").stdout
    assert f'"doc_id": "{doc_id}"' in hits and '"versions": 3' in hits

    history.pdf.path.unlink()  # the editor deletes it: the URL answers 404
    history.fonds("crawl")
    crawl = history.crawl_runs()[-1]
    with Catalog(history.data_dir / "catalog.sqlite") as catalog:
        kept = catalog.versions(doc_id)
        gone_since = catalog.unavailable_since(doc_id)
        document = catalog.document(doc_id)
    assert kept == versions  # the last version stays, with its dates
    assert crawl["started"] <= gone_since <= crawl["finished"]
    assert document.status is DocStatus.ACTIVE and "404" in (document.error or "")
