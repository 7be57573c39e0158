"""The Meilisearch master key stays out of the UI process, the output, the logs and the
errors; the crawler never reaches private addresses unless told to.

There is no Meilisearch server here: the engine talks to a closed loopback port, which is
exactly the situation where keys tend to leak into error messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawler.middlewares import SafetyMiddleware, is_private
from fonds.app.cli import ui_environment
from fonds.settings import load_settings
from tests.conftest import child_env, run_fonds

MASTER = "m4ster-k3y-do-not-leak"
SEARCH = "s3arch-only-k3y"


def meili_env(tmp_path: Path) -> dict[str, str]:
    return child_env(FONDS_DATA_DIR=str(tmp_path / "data"), FONDS_ENGINE="meilisearch",
                     FONDS_MEILI_URL="http://127.0.0.1:9", FONDS_MEILI_KEY=MASTER,
                     FONDS_MEILI_SEARCH_KEY=SEARCH, FONDS_EMBEDDER="none")


@pytest.mark.parametrize("args", [("status",), ("status", "--json"), ("search", "conseil"),
                                  ("search", "conseil", "--json"), ("ingest",), ("reindex",)])
def test_the_master_key_is_never_printed(tmp_path: Path, args: tuple[str, ...]) -> None:
    env = meili_env(tmp_path)
    result = run_fonds(env, *args, timeout=120)
    assert "Traceback" not in result.stderr
    for secret in (MASTER, SEARCH):
        assert secret not in result.stdout and secret not in result.stderr, args
    logs = tmp_path / "data"
    for path in logs.rglob("*") if logs.exists() else ():
        if path.is_file() and path.stat().st_size < 10_000_000:
            assert MASTER.encode() not in path.read_bytes(), path


def test_the_ui_process_never_holds_the_master_key(tmp_path: Path) -> None:
    # Even written in fonds.toml, not only in the environment.
    config = tmp_path / "fonds.toml"
    config.write_text(f'engine = "meilisearch"\nmeili_key = "{MASTER}"\n', encoding="utf-8")
    environ = meili_env(tmp_path) | {"FONDS_CONFIG": str(config)}
    settings = load_settings(env=environ)
    assert settings.meili_key == MASTER
    ui_env = ui_environment(settings, environ)
    assert MASTER not in json.dumps(ui_env)
    ui_settings = load_settings(env=ui_env)
    assert ui_settings.meili_key == "" and ui_settings.meili_search_key == SEARCH
    assert MASTER not in repr(settings) and MASTER not in str(settings.redacted())


def middleware(allow_private: bool, hosts: set[str]) -> SafetyMiddleware:
    settings = load_settings(env={"FONDS_CRAWL_ALLOW_PRIVATE": str(allow_private).lower()})
    crawler = SimpleNamespace(settings={"FONDS_SETTINGS": settings},
                              spider=SimpleNamespace(allowed_hosts=hosts))
    return SafetyMiddleware(crawler)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x.pdf", "http://10.0.0.8/x.pdf", "http://192.168.1.1/x.pdf",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/x.pdf", "http://0.0.0.0/x.pdf",
    "http://localhost/x.pdf",  # a name that resolves to loopback
])
def test_private_addresses_are_refused(url: str) -> None:
    from urllib.parse import urlsplit

    netloc = urlsplit(url).netloc
    guard = middleware(False, {netloc})  # even when the allow-list names them
    with pytest.raises(IgnoreRequest, match="adresse privée"):
        guard.process_request(Request(url))
    middleware(True, {netloc}).process_request(Request(url))  # unless enabled


def test_a_redirect_is_checked_again() -> None:
    # Scrapy's redirect middleware sends the new request through the downloader
    # middlewares again; here, the request it builds for a Location to the metadata address.
    guard = middleware(False, {"www.example.org", "169.254.169.254"})
    first = Request("http://www.example.org/doc.pdf")
    redirected = first.replace(url="http://169.254.169.254/latest/meta-data/")
    with pytest.raises(IgnoreRequest, match="adresse privée"):
        guard.process_request(redirected)
    with pytest.raises(IgnoreRequest, match="hors de la liste"):
        middleware(False, {"www.example.org"}).process_request(
            first.replace(url="http://ailleurs.example.net/x.pdf"))


def test_is_private_knows_the_ranges() -> None:
    assert is_private("127.0.0.2") and is_private("fd00::1") and is_private("localhost")
    assert not is_private("93.184.216.34")
