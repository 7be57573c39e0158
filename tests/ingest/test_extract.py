"""Extraction through the worker process, on real, odd and hostile PDFs."""

from __future__ import annotations

from pathlib import Path

import pytest

from fonds import media
from ingest.extract import ExtractionError, Limits, extract, ocr_available
from ingest.worker import ExtractionWorker
from tests import pdfs


@pytest.fixture(scope="module")
def worker():
    with ExtractionWorker(Limits(ocr=False), timeout_s=60, memory_mb=1024) as w:
        yield w


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_pages_keep_their_numbers_and_french(worker, tmp_path: Path) -> None:
    path = write(tmp_path, "a.pdf", pdfs.text_pdf(["Première page : égalité.", "", "Trois"]))
    result = worker.extract(path, media.PDF)
    assert [p.number for p in result.pages] == [1, 2, 3]
    assert "égalité" in result.pages[0].text
    assert result.pages[1].text.strip() == ""


def test_real_pdf_with_metadata(worker, corpus_pdfs: Path) -> None:
    result = worker.extract(corpus_pdfs / "etalab_guide-juridique-donnees-a-ouvrir.pdf",
                            media.PDF)
    assert result.page_count == 11 and len(result.pages) == 11
    assert result.title == "Identifier les données à ouvrir"
    assert result.date == "2024-05-27"


@pytest.mark.parametrize(
    ("name", "reason"),
    [("pypdf-resources/encrypted-file.pdf", "PDF chiffré"),
     ("sample-files/005-libreoffice-writer-password/libreoffice-writer-password.pdf",
      "PDF chiffré"),
     ("real-world/ddd_affiche_empty-0-bytes.pdf", "PDF illisible")],
)
def test_odd_pdfs_fail_with_a_reason(worker, odd_pdfs: Path, name: str, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        worker.extract(odd_pdfs / name, media.PDF)


def test_every_odd_pdf_ends_with_text_or_a_reason(worker, odd_pdfs: Path) -> None:
    files = sorted(odd_pdfs.rglob("*.pdf"))
    assert len(files) >= 30
    outcomes = {}
    for path in files:
        try:
            outcomes[path.name] = len(worker.extract(path, media.PDF).pages)
        except ExtractionError as exc:
            outcomes[path.name] = str(exc)
    assert all(isinstance(v, int) or v for v in outcomes.values())
    assert isinstance(outcomes["crazyones.pdf"], int)


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"\x00\x01garbage" * 1000, "PDF illisible"),
     (b"<html><body>404 Not Found</body></html>", "PDF illisible"),
     (pdfs.text_pdf(["Une page de texte."])[:300], "PDF illisible"),
     (pdfs.build([b"<< /Type /Catalog /Pages 2 0 R >>",
                  b"<< /Type /Pages /Kids [] /Count 0 >>"]), "sans aucune page")],
)
def test_broken_files(worker, tmp_path: Path, data: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        worker.extract(write(tmp_path, "x.pdf", data), media.PDF)


def test_a_decompression_bomb_is_stopped_and_the_worker_recovers(tmp_path: Path) -> None:
    bomb = write(tmp_path, "bomb.pdf", pdfs.bomb_pdf(600))
    good = write(tmp_path, "good.pdf", pdfs.text_pdf(["Après la bombe."]))
    with ExtractionWorker(Limits(ocr=False), timeout_s=60, memory_mb=300) as worker:
        # pypdf caps inflation itself; our memory limit is the second line of defence.
        # Either way: a readable outcome, in bounded memory, and the next file is read.
        try:
            result = worker.extract(bomb, media.PDF)
            assert all(not p.text.strip() for p in result.pages)
        except ExtractionError as exc:
            assert str(exc)
        assert "Après la bombe" in worker.extract(good, media.PDF).pages[0].text


def test_a_slow_document_is_stopped(tmp_path: Path, odd_pdfs: Path) -> None:
    slow = odd_pdfs / "sample-files/009-pdflatex-geotopo/GeoTopo-komprimiert.pdf"
    good = write(tmp_path, "good.pdf", pdfs.text_pdf(["Toujours là."]))
    with ExtractionWorker(Limits(ocr=False), timeout_s=0.3, memory_mb=1024) as worker:
        with pytest.raises(ExtractionError, match="délai dépassé"):
            worker.extract(slow, media.PDF)
        worker.timeout_s = 30
        assert "Toujours là" in worker.extract(good, media.PDF).pages[0].text


def test_page_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "long.pdf", pdfs.text_pdf([f"Page {i}" for i in range(1, 31)]))
    result = extract(path, media.PDF, Limits(max_pages=10, ocr=False))
    assert len(result.pages) == 10 and result.page_count == 30
    assert "limité aux 10 premières pages sur 30" in result.notes


def test_deep_nesting_is_a_reason_not_a_crash(worker, tmp_path: Path) -> None:
    path = write(tmp_path, "deep.pdf", pdfs.deep_pdf())
    with pytest.raises(ExtractionError):
        worker.extract(path, media.PDF)


def test_html_main_content_and_cp1252(tmp_path: Path) -> None:
    page = ("<html><head><title>Journée santé à Lodève</title></head><body>"
            "<nav>Accueil | Contact | Plan du site</nav><article><h1>Journée santé</h1>"
            + "<p>Les conseils citoyens de l'Hérault se sont réunis à Lodève.</p>" * 5
            + "</article><footer>Mentions légales</footer></body></html>")
    result = extract(write(tmp_path, "a.html", page.encode("cp1252")), media.HTML)
    text = result.pages[0].text
    assert "Lodève" in text and "Mentions légales" not in text and "Plan du site" not in text
    assert result.title in ("Journée santé à Lodève", "Journée santé")


@pytest.mark.skipif(not ocr_available(), reason="tesseract-ocr-fra or pdftoppm not installed")
def test_scans_are_read_by_ocr(corpus_pdfs: Path) -> None:
    result = extract(corpus_pdfs / "dinsic_lettre-engagement-decidim-scan.pdf", media.PDF,
                     Limits(ocr=True))
    page = result.pages[0]
    assert page.ocr and len(page.text) > 200
    assert "1 page(s) lue(s) par OCR" in result.notes


def test_office_documents_need_libreoffice(tmp_path: Path) -> None:
    from ingest.extract import office_available

    path = write(tmp_path, "note.docx", b"PK\x03\x04[Content_Types].xml word/document.xml")
    if office_available():
        with pytest.raises(ExtractionError, match="LibreOffice"):
            extract(path, media.DOCX)  # not a real document: the conversion fails, clearly
    else:
        with pytest.raises(ExtractionError, match="LibreOffice n'est pas installé"):
            extract(path, media.DOCX)
