"""Errors a user can act on: the CLI prints their message on one line, never a traceback."""

import errno
import os
from pathlib import Path


class FondsError(Exception):
    """An error caused by input or environment, with a message fit for the user."""

    exit_code = 1


class SettingsError(FondsError):
    """A setting is unknown or has a value of the wrong type."""


class StorageError(FondsError):
    """The data dir cannot be written: disk full, read-only, no permission. Not a document's
    fault — nothing is recorded against documents, and a rerun resumes where it stopped."""


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def read_only(path: Path) -> bool:
    """Is the file system holding path (or its nearest existing parent) read-only for us?"""
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY) or not os.access(path, os.W_OK)
    except OSError:
        return False


def disk_full(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno in _FULL) or "disk is full" in str(exc)


def storage_error(exc: BaseException) -> StorageError | None:
    """The StorageError an OS or SQLite error stands for, or None if it is something else."""
    text = str(exc).lower()
    where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
    if disk_full(exc):
        return StorageError(f"espace disque insuffisant{where} : libérez de la place puis "
                            "relancez, la commande reprendra où elle s'est arrêtée")
    if (isinstance(exc, OSError) and exc.errno in _READ_ONLY) or "readonly database" in text \
            or "read-only" in text:
        return StorageError(f"le dossier de données n'est pas accessible en écriture{where} : "
                            "vérifiez FONDS_DATA_DIR et ses droits")
    return None


def read_only_error(path: Path, why: str) -> StorageError | None:
    """For a store that failed to open: the read-only StorageError if that is the cause."""
    if not read_only(path):
        return None
    return StorageError(f"{path} : le dossier de données est en lecture seule ({why})")


class IndexDamaged(FondsError):
    """The search index (derived data) cannot be read: `fonds reindex` rebuilds it."""

    def __init__(self, where: object, cause: BaseException) -> None:
        reason = str(cause).splitlines()[0][:160] if str(cause) else type(cause).__name__
        super().__init__(f"index {where} endommagé ({reason}) : lancez « fonds reindex » "
                         "(ou « fonds ingest --rebuild ») pour le reconstruire")
