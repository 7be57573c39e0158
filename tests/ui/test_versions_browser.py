"""Versions in a real browser (issue 18, « Done when »): after three crawls of the real
WordPress with a PDF replaced twice, the document page in Debian's chromium lists three
versions, opens each in the archive viewer, and shows what changed with pages; after a
fourth crawl that finds the PDF gone (404), it says since when. `fonds serve` on
127.0.0.1 (a free port of this module's range), playwright without a browser download."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.request import urlopen

import pytest

from fonds.catalog import Catalog
from tests.ui.browser import CHROMIUM, FLAGS, open_view, serving
from tests.versions_history import AVENANT, COMMITTEE, FOUR, PAGE, THREE, three_versions

PORTS = range(8651, 8661)  # this module's ports (tests/ui/test_browser.py has 8601-8650)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.wordpress]


def shows_page(page, number: int, total: int) -> None:
    from playwright.sync_api import expect

    main = page.locator("[data-testid=stMain]")
    expect(main).to_contain_text(f"Page {number} sur {total}", timeout=90_000)
    page.wait_for_function("() => { const img = document.querySelector("
                           "'[data-testid=stMain] img'); return img && img.complete "
                           "&& img.naturalWidth > 300; }", timeout=90_000)


def diff_text(page) -> str:
    """What the section « Ce qui a changé » shows (after the table's links of that name,
    before the passages), as the reader reads it."""
    text = page.locator("[data-testid=stMain]").inner_text()
    return text.rsplit("Ce qui a changé", 1)[-1].split("\nPassages", 1)[0]


def test_three_versions_open_and_show_what_changed(wordpress, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    history = three_versions(wordpress, tmp_path)
    with Catalog(history.data_dir / "catalog.sqlite") as catalog:
        doc_id = catalog.doc_id_for(history.pdf.url)
    with sync_playwright() as p, serving(history.data_dir, PORTS, FONDS_EMBEDDER="none",
                                            FONDS_UI_SHOW_MAINTENANCE="true") as base:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        document = f"{base}/?vue=document&doc={doc_id}"
        open_view(page, document)
        main = page.locator("[data-testid=stMain]")
        rows = main.locator("table.fonds-table tbody tr")
        expect(rows.filter(has_text=re.compile(r"version \d sur 3"))).to_have_count(3)
        for number in (1, 2, 3):
            expect(main).to_contain_text(f"version {number} sur 3")
        # by default: the latest version's changes, by page, with their words
        shown = diff_text(page)
        assert "Version 3" in shown and "comparée à la version 2" in shown, shown
        assert "1 phrase retirée, 1 modifiée" in shown, shown
        assert f"Page {PAGE}" in shown and FOUR in shown and THREE in shown, shown
        assert COMMITTEE in shown, shown
        assert main.locator("del", has_text="trois").count() == 1
        assert main.locator("ins", has_text="quatre").count() == 1
        page.screenshot(path=str(tmp_path / "versions.png"), full_page=True)

        for number, pages in ((1, 3), (2, 4), (3, 4)):
            open_view(page, document)
            page.get_by_role("link", name=f"Ouvrir la version {number}").click()
            page.wait_for_url(re.compile(rf"version={number}"))
            open_view(page, page.url)
            expect(main).to_contain_text(f"version {number} sur 3")
            shows_page(page, 1, pages)
            with urlopen(f"{base}/copie/{doc_id}?version={number}") as answer:
                assert answer.read() == history.contents[number - 1]

        open_view(page, document)
        page.locator("tr", has_text="version 2 sur 3").get_by_role(
            "link", name="Ce qui a changé").click()
        page.wait_for_url(re.compile(r"version=2"))
        open_view(page, page.url)
        shown = diff_text(page)
        assert "Version 2" in shown and "comparée à la version 1" in shown, shown
        assert "3 phrases ajoutées" in shown, shown
        assert f"Page {PAGE}" in shown, shown
        for sentence in (AVENANT, THREE, COMMITTEE):
            assert sentence in shown, shown

        history.pdf.path.unlink()  # the URL now answers 404
        history.fonds("crawl")
        open_view(page, document)
        expect(main).to_contain_text("ne donne plus ce document depuis le")
        expect(rows.filter(has_text=re.compile(r"version \d sur 3"))).to_have_count(3)
        page.screenshot(path=str(tmp_path / "versions-404.png"), full_page=True)
        browser.close()
