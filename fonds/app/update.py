"""`fonds schedule`: `fonds update` again and again, each run in a child process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from fonds.errors import FondsError
from fonds.settings import Settings

MAX_EVERY_S = 366 * 86400


def child_environment(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child `fonds` process: this one's, with every resolved setting."""
    return {**environ, **settings.as_environment()}


def parse_every(text: str) -> float:
    """« 24h », « 30m », « 7d », « 90s » → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text.lower())
    if not match:
        raise FondsError(f"intervalle invalide « {text} » (exemples : 30m, 6h, 24h, 7d)")
    seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    if seconds < 1:
        raise FondsError("intervalle trop court")
    if seconds > MAX_EVERY_S:
        raise FondsError("intervalle trop long (un an au plus)")
    return seconds


def schedule(every_s: float, settings: Settings, say: Callable[[str], None],
             max_runs: int | None = None) -> int:
    """Run `fonds update` every `every_s` seconds in a child process (a fresh Scrapy reactor
    each time), log each run, survive failures; SIGTERM or SIGINT stop it cleanly.

    The child gets every setting of this process (flags included) through its environment,
    so `fonds --engine meilisearch schedule` updates the Meilisearch index."""
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
            env = child_environment(settings, os.environ)
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
