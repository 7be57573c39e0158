"""`fonds serve` becomes Streamlit (exec): a signal stops the UI and leaves no process
holding the port; a taken port is one French line before anything runs (issue 14 §7)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, child_env, free_port, run_fonds

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def test_sigterm_to_fonds_serve_leaves_no_streamlit_behind(tmp_path: Path) -> None:
    port = free_port()
    env = child_env(FONDS_DATA_DIR=str(tmp_path / "data"), FONDS_EMBEDDER="none",
                    FONDS_MEILI_KEY="master-key-of-the-shell")
    proc = subprocess.Popen([sys.executable, "-m", "fonds", "serve", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the UI did not answer")
        # exec: the process we started is Streamlit itself, with no child UI of its own
        command = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"streamlit" in command and not _children(proc.pid)
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
        assert b"master-key-of-the-shell" not in environ  # gone with the parent (issue 15 §15)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    with socket.socket() as probe:  # nothing listens on the port any more
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not a holder
        probe.bind(("127.0.0.1", port))


def test_a_taken_port_is_one_line_before_any_work(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = child_env(FONDS_DATA_DIR=str(tmp_path / "data"))
        for args in (("serve", "--port", str(port)), ("demo", "--port", str(port)),
                     ("demo", "--no-ui", "--site-port", str(port))):
            done = run_fonds(env, *args, timeout=120)
            assert done.returncode == 1, done.stderr
            assert done.stderr.strip().splitlines() == [line for line in
                                                         done.stderr.strip().splitlines()
                                                         if line.startswith("fonds : ")]
            assert "déjà pris" in done.stderr
    assert not (tmp_path / "data" / "catalog.sqlite").exists()  # nothing was crawled
    assert os.environ.get("FONDS_MEILI_KEY") is None
