"""A full disk and a read-only data dir: one clear line, nothing corrupted, nothing recorded
against documents, and the rerun completes once there is room.

The data dir is a small tmpfs mounted for the test (the suite runs as root in CI; where
mounting is not allowed the test is skipped with that reason). Permissions cannot simulate
read-only for root, hence a real read-only mount.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fonds.catalog import Catalog
from fonds.files import INCOMING
from fonds.models import DocStatus
from tests.conftest import CORPUS_PDFS, child_env, need_shared, run_fonds


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fonds(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_fonds(child_env(FONDS_DATA_DIR=str(data), FONDS_OCR="false",
                               FONDS_EMBEDDER="none"), *args)


def test_full_disk_stops_with_one_line_and_loses_nothing(small_disk: Path, tmp_path: Path
                                                         ) -> None:
    need_shared(CORPUS_PDFS)
    data = small_disk / "data"
    result = fonds(data, "import", str(CORPUS_PDFS))  # 27 MB into 4 MB
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("fonds : espace disque insuffisant")
    with sqlite3.connect(data / "catalog.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Catalog(data / "catalog.sqlite") as catalog:
        docs = catalog.documents()
    assert docs and all(d.status is DocStatus.ACTIVE for d in docs)  # none blamed
    assert not list((data / "files").glob(f"{INCOMING}*"))
    for doc in docs:  # every recorded file is whole
        assert (data / doc.file_path).stat().st_size == doc.size

    # Room again (the same data moved to a roomy disk): the rerun completes the import.
    roomy = tmp_path / "roomy"
    subprocess.run(["cp", "-a", str(data), str(roomy)], check=True)
    again = fonds(roomy, "import", str(CORPUS_PDFS))
    assert again.returncode == 0, again.stderr
    with Catalog(roomy / "catalog.sqlite") as catalog:
        assert len(catalog.documents()) == 40


def test_read_only_data_dir_is_one_clear_line(small_disk: Path) -> None:
    need_shared(CORPUS_PDFS)
    data = small_disk / "data"
    pdf = sorted(CORPUS_PDFS.glob("*.pdf"), key=lambda p: p.stat().st_size)[0]
    assert fonds(data, "import", str(pdf)).returncode == 0
    assert fonds(data, "ingest").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for args in (("import", str(pdf)), ("ingest",), ("search", "conseil"), ("status",)):
        result = fonds(data, *args)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr, args
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("fonds : ") and "lecture seule" in line, (args, line)
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    with sqlite3.connect(data / "catalog.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert fonds(data, "search", "conseil").returncode == 0
