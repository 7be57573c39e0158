"""A PDF of the real WordPress fixture replaced twice across three crawls, each followed by
an ingest (what a scheduled `fonds update` runs): the history the versions tests of the
crawler and of the browser read (helpers, not tests; issue 18).

Version 1 is the corpus PDF the site was built with; version 2 is the same file with a
page inserted after the first (three sentences, written by tests/pdfs.py and merged with
pypdf); version 3 changes one sentence of that page and drops another.
"""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import child_env, run_fonds
from tests.pdfs import text_pdf
from tests.wordpress.site import Pdf, WordPressSite

PDF_NAME = "ddd_reglement-concours-grands-droits.pdf"  # 3 pages, linked from one post
PAGE = 2  # the inserted page
AVENANT = "Avenant du 8 février 2021 au présent document."
THREE = "La durée du mandat des référents est portée à trois ans."
FOUR = "La durée du mandat des référents est portée à quatre ans."
COMMITTEE = "Un comité de suivi se réunit chaque trimestre."


def with_page(original: bytes, lines: list[str]) -> bytes:
    """`original` with a page of these lines inserted after its first page."""
    from pypdf import PdfReader, PdfWriter

    source, extra = PdfReader(io.BytesIO(original)), PdfReader(io.BytesIO(text_pdf(
        ["\n".join(lines)])))
    out = PdfWriter()
    for index, page in enumerate(source.pages):
        if index == 1:
            out.add_page(extra.pages[0])
        out.add_page(page)
    buffer = io.BytesIO()
    out.write(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class History:
    data_dir: Path
    env: dict[str, str]
    pdf: Pdf
    contents: tuple[bytes, bytes, bytes]  # what the PDF's URL served at each crawl
    crawls: tuple[dict, ...]  # the crawl runs of `fonds status --json`, oldest first

    def fonds(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_fonds(self.env, "--data-dir", str(self.data_dir), *args)
        assert result.returncode == 0 and "Traceback" not in result.stderr, \
            result.stdout + result.stderr
        return result

    def status(self) -> dict:
        return json.loads(self.fonds("status", "--json").stdout)

    def crawl_runs(self) -> list[dict]:
        return [r for r in reversed(self.status()["runs"]) if r["kind"] == "crawl"]


def three_versions(site: WordPressSite, tmp_path: Path) -> History:
    pdf = next(p for p in site.pdfs if p.name == PDF_NAME)
    original = pdf.path.read_bytes()
    contents = (original, with_page(original, [AVENANT, THREE, COMMITTEE]),
                with_page(original, [AVENANT, FOUR]))
    env = child_env(FONDS_SOURCES_FILE=str(site.sources_toml(tmp_path / "sources.toml")),
                    FONDS_CRAWL_ALLOW_PRIVATE="true", FONDS_CRAWL_DELAY_S="0",
                    FONDS_OCR="false", FONDS_EMBEDDER="none")
    history = History(tmp_path / "data", env, pdf, contents, ())
    for number, content in enumerate(contents):
        if number:
            site.replace_pdf(pdf, content)
        history.fonds("crawl")
        history.fonds("ingest")
    return History(history.data_dir, env, pdf, contents, tuple(history.crawl_runs()))
