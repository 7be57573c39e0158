"""`fonds update` (crawl then ingest, under a lock) and `fonds schedule` (update, again).

The lock is an flock on data/update.lock: the kernel releases it when its holder dies, so
the lock of a killed run is simply taken over; the pid inside says whose it was.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fonds.errors import FondsError
from fonds.settings import Settings


class AlreadyRunning(FondsError):
    exit_code = 3


@contextmanager
def update_lock(data_dir: Path, say: Callable[[str], None] = lambda m: None) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "update.lock"
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise AlreadyRunning(f"une mise à jour est déjà en cours (pid {holder}) ; "
                             "réessayez plus tard") from None
    handle.seek(0)
    previous = handle.read().strip()
    if previous:
        say(f"Verrou d'une mise à jour interrompue (pid {previous}) repris.")
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        handle.seek(0)
        handle.truncate()
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def run_update(settings: Settings, say: Callable[[str], None]) -> tuple[list[Any], Any]:
    from crawler.run import run_crawl
    from crawler.sources import load_sources
    from ingest.pipeline import ingest_archive

    with update_lock(settings.data_dir, say):
        runs = run_crawl(settings, load_sources())
        report = ingest_archive(settings, progress=False, say=say)
    return runs, report


def parse_every(text: str) -> float:
    """« 24h », « 30m », « 7d », « 90s » → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text.lower())
    if not match:
        raise FondsError(f"intervalle invalide « {text} » (exemples : 30m, 6h, 24h, 7d)")
    seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    if seconds < 1:
        raise FondsError("intervalle trop court")
    return seconds


def schedule(every_s: float, data_dir: Path, say: Callable[[str], None],
             max_runs: int | None = None) -> int:
    """Run `fonds update` every `every_s` seconds in a child process (a fresh Scrapy reactor
    each time), log each run, survive failures; SIGTERM or SIGINT stop it cleanly."""
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    runs = 0
    try:
        while not stopping and (max_runs is None or runs < max_runs):
            started = time.monotonic()
            say(f"{datetime.now():%Y-%m-%d %H:%M:%S} mise à jour…")
            env = {**os.environ, "FONDS_DATA_DIR": str(data_dir)}
            child = subprocess.Popen([sys.executable, "-m", "fonds", "update"], env=env)
            code = child.wait()
            child = None
            runs += 1
            outcome = "terminée" if code == 0 else f"en échec (code {code})"
            say(f"{datetime.now():%Y-%m-%d %H:%M:%S} mise à jour {outcome}")
            while not stopping and time.monotonic() - started < every_s and (
                    max_runs is None or runs < max_runs):
                time.sleep(min(1.0, every_s))
        say("Planification arrêtée.")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return runs
