"""No document of the demo or of ../shared/corpus/pdfs is titled by a generic link text, a
type alone, a file-name slug or ALL CAPS (issue 13 « Real titles »; issue 12 §6).

A document with no text layer at all (a scan, here where OCR is off) has only its file name,
made readable: those are the only ones allowed a title from it, and they are counted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fonds.catalog import Catalog
from fonds.models import DocStatus, Document, ExtractionStatus
from ingest.titles import TYPE_WORDS, generic_link_texts, is_all_caps, is_generic
from tests.conftest import CORPUS_PDFS, child_env, ingest_dir, need_shared, run_fonds

pytestmark = pytest.mark.slow


def _slug(title: str, doc: Document) -> bool:
    name = str(doc.meta.get("file_name") or doc.canonical_url.rsplit("/", 1)[-1])
    stem = re.sub(r"\.\w+$", "", name).lower()
    return ("_" in title or bool(re.search(r"\w-\w+-\w", title))
            or title.lower() == re.sub(r"[-_]+", " ", stem))


def check(docs: list[Document]) -> list[str]:
    bad = []
    for doc in docs:
        title = doc.display_title
        folded = " ".join(title.lower().split())
        if doc.extraction_status is ExtractionStatus.NO_TEXT and not re.search(r"[-_]", title):
            continue  # only its file name to go by: readable, never a raw slug
        if (is_generic(title) or folded in generic_link_texts() or folded in TYPE_WORDS
                or _slug(title, doc) or is_all_caps(title) or title[:1].islower()):
            bad.append(f"{doc.canonical_url} → « {title} »")
    return bad


def test_corpus_titles(tmp_path: Path) -> None:
    need_shared(CORPUS_PDFS)
    config, _ = ingest_dir(tmp_path / "data", CORPUS_PDFS, embedder="none")
    with Catalog(config.catalog_path) as catalog:
        docs = catalog.documents(DocStatus.ACTIVE)
    assert len(docs) >= 35
    assert check(docs) == []
    titles = {Path(d.canonical_url).name: d.display_title for d in docs}
    # the examples of the issue
    assert titles["dinsic_participation-citoyenne_guide-methodologique-v4.1.pdf"] == (
        "Guide méthodologique")
    assert titles["dinsic_premiers-pas-gouvernement-et-citoyens.pdf"] == (
        "Choisir sa platforme de consultation")
    assert titles["anct-aidantsconnect_kit-aidants-2025.pdf"] == (
        "Livret d’accueil édition aidant")


def test_demo_titles(tmp_path: Path) -> None:
    env = child_env(FONDS_DATA_DIR=str(tmp_path / "data"), FONDS_OCR="false",
                    FONDS_EMBEDDER="none")
    done = run_fonds(env, "demo", "--no-ui", timeout=600)
    assert done.returncode == 0, done.stderr
    with Catalog(tmp_path / "data" / "catalog.sqlite") as catalog:
        docs = catalog.documents(DocStatus.ACTIVE)
        linked = [d for d in docs if catalog.links(d.id)]
    assert len(docs) >= 20 and linked
    assert check(docs) == []
    # the crawl's order decides which URL of a content is canonical: look at them all
    by_name = {u.rsplit("/", 1)[-1]: d for d in docs for u in d.urls}
    # linked « Accéder au guide » and « Version imprimable »: titled by its own /Title,
    # typed by its own words
    guide = by_name["guide-bonnes-pratiques-conseils-citoyens-herault.pdf"]
    assert guide.display_title == "Guide des bonnes pratiques des conseils citoyens"
    assert guide.display_doc_type == "guide"
    # a PDF linked from a « Santé » article has the theme santé
    assert "santé" in by_name["dossier-journee-sante-lodeve.pdf"].all_themes
