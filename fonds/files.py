"""Content-addressed file store: data/files/<sha256>.<ext>, one copy whatever the URLs."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fonds.errors import FondsError

CHUNK = 1 << 20
INCOMING = ".incoming-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FileTooLarge(FondsError):
    """The content is larger than the max_file_mb setting."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    relative_path: str  # relative to the data dir, so the data dir can move
    size: int
    head: bytes  # the first bytes, for media type sniffing


class FileStore:
    def __init__(self, data_dir: Path, max_bytes: int) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "files"
        self.max_bytes = max_bytes
        if self.root.is_dir():
            self.sweep()

    def sweep(self) -> int:
        """Remove temp files left by killed writers (their pid is in the name)."""
        removed = 0
        for leftover in self.root.glob(f"{INCOMING}*"):
            pid = leftover.name[len(INCOMING):].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed

    def put_stream(self, stream: BinaryIO, ext: str) -> StoredFile:
        """Copy a stream into the store. Written to a temp file then renamed: never half a file."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=f"{INCOMING}{os.getpid()}-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    if not head:
                        head = chunk[:4096]
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FileTooLarge(
                            f"fichier trop volumineux (plus de {self.max_bytes // 2**20} Mo)"
                        )
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            name = f"{sha}.{ext}" if ext else sha
            final = self.root / name
            if final.exists():
                os.unlink(tmp_name)
            else:
                os.replace(tmp_name, final)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return StoredFile(sha, f"files/{name}", size, head)

    def put_bytes(self, data: bytes, ext: str) -> StoredFile:
        import io

        return self.put_stream(io.BytesIO(data), ext)

    def put_file(self, source: Path, ext: str) -> StoredFile:
        with source.open("rb") as handle:
            return self.put_stream(handle, ext)
