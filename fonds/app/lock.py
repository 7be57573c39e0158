"""One writer per data dir: an flock on data/write.lock.

The kernel releases the lock when its holder dies, so the lock of a killed run is simply
taken over; the pid and command inside say whose it was. Readers (search, the UI, status)
never take it.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fonds.errors import FondsError, read_only_error, storage_error

LOCK_NAME = "write.lock"


class AlreadyRunning(FondsError):
    exit_code = 3


def _holder() -> str:
    command = " ".join(a for a in sys.argv[1:3] if not a.startswith("-")) or "?"
    return f"{os.getpid()} fonds {command}"


@contextmanager
def writer_lock(data_dir: Path, say: Callable[[str], None] = lambda m: None) -> Iterator[None]:
    """Hold the data dir's writer lock, or fail at once with who holds it."""
    path = data_dir / LOCK_NAME
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:
        storage = read_only_error(data_dir, "le verrou d'écriture ne peut y être posé")
        raise (storage or storage_error(exc) or exc) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise AlreadyRunning(f"une autre écriture est en cours dans {data_dir} (pid "
                             f"{holder}) ; réessayez quand elle sera finie") from None
    handle.seek(0)
    previous = handle.read().strip()
    if previous:
        say(f"Verrou d'une écriture interrompue (pid {previous}) repris.")
    handle.seek(0)
    handle.truncate()
    handle.write(_holder())
    handle.flush()
    try:
        yield
    finally:
        handle.seek(0)
        handle.truncate()
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
