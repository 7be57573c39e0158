"""End to end in a real browser: Debian's chromium driven by pip's playwright (no browser
download), against `fonds serve` on 127.0.0.1 with the real corpus archive."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, child_env

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(archive):
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    config, _ = archive
    port = free_port()
    env = child_env(FONDS_DATA_DIR=str(config.data_dir), FONDS_OCR="false")
    proc = subprocess.Popen([sys.executable, "-m", "fonds", "serve", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(20)


def test_shared_url_grouped_results_and_a_departement_filter(server, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{server}/?q=mandat+aidants+connect&mode=mots", timeout=60_000)
        count = page.get_by_text(re.compile(r"\d+ documents? trouvés?"))
        expect(count).to_be_visible(timeout=90_000)
        before = int(count.inner_text().split()[0])
        passages = page.locator("div.fonds-passage")
        expect(passages.first).to_contain_text("page ", timeout=30_000)
        assert passages.count() >= 3
        titles = page.locator("h4")
        assert titles.count() >= 2  # grouped: one heading per document
        page.screenshot(path=str(tmp_path / "resultats.png"), full_page=True)

        # a département filter, chosen in the sidebar as a person would
        page.get_by_label("Départements").click()
        page.get_by_role("option").first.click()
        page.keyboard.press("Escape")
        # The caption reads « N documents trouvés · X ms »: wait for the rerun that the
        # filter triggers (URL first, then a different N), not for any change of text.
        expect(page).to_have_url(re.compile(r"dep="), timeout=30_000)
        expect(count).not_to_have_text(re.compile(rf"^\s*{before} documents? trouvé"),
                                       timeout=30_000)
        after = int(count.inner_text().split()[0])
        assert 0 < after < before
        assert "dep=" in page.url
        page.screenshot(path=str(tmp_path / "filtre.png"), full_page=True)
        browser.close()
