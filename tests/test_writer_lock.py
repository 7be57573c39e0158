"""One writer per data dir (issue 15 §8): a second writer is refused at once with a French
line; readers go on; the lock of a killed writer is taken over."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fonds.app.lock import LOCK_NAME, writer_lock
from fonds.app.update import child_environment
from fonds.settings import load_settings
from tests.conftest import ROOT, child_env, run_fonds
from tests.pdfs import text_pdf

WRITERS = [("import", "{pdf}"), ("ingest",), ("reindex",), ("update",), ("crawl",)]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    sources = tmp_path / "sources.toml"
    sources.write_text("")  # no source: nothing can reach a network
    return child_env(FONDS_DATA_DIR=str(tmp_path / "data"), FONDS_EMBEDDER="none",
                     FONDS_OCR="false", FONDS_SOURCES_FILE=str(sources))


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c[0])
def test_a_second_writer_is_refused_at_once(tmp_path: Path, env: dict[str, str],
                                            command: tuple[str, ...]) -> None:
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(text_pdf(["Guide des conseils citoyens\nLes conseils citoyens se réunissent."]))
    assert run_fonds(env, "import", str(pdf)).returncode == 0
    with writer_lock(Path(env["FONDS_DATA_DIR"])):
        result = run_fonds(env, *(a.format(pdf=pdf) for a in command))
        assert result.returncode == 3, result.stderr
        assert "une autre écriture est en cours" in result.stderr
        assert "Traceback" not in result.stderr
        # readers are never refused
        assert run_fonds(env, "status").returncode == 0
        assert run_fonds(env, "search", "conseils", "--mode", "keyword").returncode == 0


def test_a_stale_lock_is_taken_over(env: dict[str, str]) -> None:
    data_dir = Path(env["FONDS_DATA_DIR"])
    data_dir.mkdir(parents=True)
    (data_dir / LOCK_NAME).write_text("999999 fonds ingest")  # a killed run: no flock held
    result = run_fonds(env, "ingest")
    assert result.returncode == 0, result.stderr
    assert "Verrou d'une écriture interrompue (pid 999999 fonds ingest) repris" in result.stderr


def test_child_environment_carries_every_setting_flags_included(tmp_path: Path) -> None:
    settings = load_settings({"engine": "meilisearch", "data_dir": str(tmp_path / "d")},
                             env={"FONDS_OCR": "false"})
    env = child_environment(settings, {"PATH": "/usr/bin", "FONDS_ENGINE": "embedded"})
    assert env["PATH"] == "/usr/bin"
    assert load_settings(env=env) == settings  # the child reads back the very same settings


def test_schedule_passes_the_engine_flag_to_its_child(tmp_path: Path,
                                                      env: dict[str, str]) -> None:
    # A Meilisearch URL where nothing listens: the child's ingest must try Meilisearch (and
    # say it is unreachable) rather than update the embedded index.
    env = env | {"FONDS_MEILI_URL": "http://127.0.0.1:9"}
    result = subprocess.run(
        [sys.executable, "-m", "fonds", "--engine", "meilisearch", "schedule", "--every", "1h",
         "--runs", "1"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr  # the schedule survives a failed run
    assert "en échec" in result.stdout
    assert "Meilisearch" in result.stderr, result.stderr
    assert not (Path(env["FONDS_DATA_DIR"]) / "index").exists()
