"""One ingest over every kind of hostile file at once: each ends with a status and a reason,
in bounded time (a per-document time limit) and memory (the worker's memory limit), and
the run goes on to the good file after them. The odd PDFs of ../shared have their own run
in test_archive (test_odd_pdfs_all_get_a_status)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from fonds.catalog import Catalog
from fonds.engines.base import SearchRequest
from fonds.models import DocStatus, ExtractionStatus
from fonds.search import SearchService
from tests import pdfs
from tests.conftest import ingest_dir

pytestmark = pytest.mark.slow

WORDS = ("quartier", "habitants", "conseil", "citoyen", "logement", "emploi", "santé",
         "école", "jeunesse", "culture", "sport", "transport", "commerce", "association",
         "mairie", "budget", "projet", "rénovation", "médiation", "insertion", "formation",
         "numérique", "solidarité", "sécurité", "environnement")
FILES = {
    "tronque.pdf": pdfs.text_pdf(["Un rapport coupé en plein milieu."] * 3)[:400],
    "aleatoire.pdf": os.urandom(50_000),
    "imbrique.pdf": pdfs.deep_pdf(),
    "cinq-mille-pages.pdf": pdfs.text_pdf([
        " ".join(random.Random(i).sample(WORDS, 12)) for i in range(5000)]),
    "bombe.pdf": pdfs.bomb_pdf(400),
    "script.pdf": pdfs.scripted_pdf("Guide des conseils citoyens", b"PIECEJOINTESECRETE"),
    "vide.pdf": b"",
    "zz-bon.pdf": pdfs.text_pdf(["Rapport annuel des maisons France services."]),
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-files")
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    config, report = ingest_dir(folder.parent / "data", folder, embedder="none",
                                ingest_timeout_s=60, ingest_memory_mb=600,
                                ingest_max_pages=500)
    with Catalog(config.catalog_path) as catalog:
        docs = {Path(d.canonical_url).name: d for d in catalog.documents()}
    return config, report, docs


def test_every_file_ends_with_a_status(ingested) -> None:
    _, _, docs = ingested
    assert set(docs) == set(FILES)
    for name, doc in docs.items():
        assert doc.extraction_status is not ExtractionStatus.PENDING, name
        assert doc.status is DocStatus.ACTIVE or doc.error, name


def test_broken_ones_fail_with_a_reason(ingested) -> None:
    _, _, docs = ingested
    for name in ("tronque.pdf", "aleatoire.pdf", "imbrique.pdf", "vide.pdf"):
        assert docs[name].status is DocStatus.FAILED and docs[name].error, name


def test_the_long_one_is_capped_and_noted(ingested) -> None:
    _, _, docs = ingested
    doc = docs["cinq-mille-pages.pdf"]
    assert doc.status is DocStatus.ACTIVE
    assert doc.notes == ("limité aux 500 premières pages sur 5000",)


def test_scripts_and_attachments_are_never_run_nor_indexed(ingested) -> None:
    config, _, docs = ingested
    assert docs["script.pdf"].status is DocStatus.ACTIVE
    service = SearchService(config)
    try:
        assert service.search(SearchRequest("conseils citoyens")).total >= 1
        assert service.search(SearchRequest("PIECEJOINTESECRETE")).total == 0
    finally:
        service.engine.close()


def test_the_run_goes_on_to_the_good_file(ingested) -> None:
    config, report, docs = ingested
    assert docs["zz-bon.pdf"].status is DocStatus.ACTIVE
    service = SearchService(config)
    try:
        hits = service.search(SearchRequest("maisons France services")).hits
        assert hits and hits[0].title
    finally:
        service.engine.close()
    assert report.counts["failed"] >= 2  # those that got past the import's byte sniffing
