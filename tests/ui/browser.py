"""What the browser tests share: Debian's chromium driven by pip's playwright (no browser
download), `fonds serve` on a free port of the caller's range, and a wait for the app to
have rendered a view (not for a fixed time)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.request import urlopen

import pytest

from tests.conftest import ROOT, child_env, free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
# The script ran to its end (main.py writes .fonds-end last) and nothing is stale.
SETTLED = ("document.querySelector('.fonds-end') && !document.querySelector("
           "'[data-stale=true]')")


def need_chromium() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")


@contextmanager
def serving(data_dir: Path, ports: range, **env: str) -> Iterator[str]:
    """`fonds serve` on the archive of `data_dir`, on a free port of `ports`."""
    need_chromium()
    port = free_port(candidates=ports)
    environ = child_env(FONDS_DATA_DIR=str(data_dir), FONDS_OCR="false", **env)
    proc = subprocess.Popen([sys.executable, "-m", "fonds", "serve", "--port", str(port)],
                            env=environ, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


def open_view(page, url: str) -> None:
    """Load a view and wait for the app to have rendered it, in French."""
    from playwright.sync_api import expect

    page.goto(url, timeout=60_000)
    expect(page.locator("[data-testid=stMain] h1").first).to_be_visible(timeout=90_000)
    page.wait_for_function("document.documentElement.lang === 'fr'", timeout=30_000)
    page.wait_for_function(SETTLED, timeout=60_000)
