"""Media types decided from the bytes, not from the name: an HTML error page named .pdf is HTML."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PDF = "application/pdf"
HTML = "text/html"
TEXT = "text/plain"
DOC = "application/msword"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
RECORD = "application/x-fonds-record+json"  # one record of a JSONL corpus
UNKNOWN = "application/octet-stream"

EXTENSIONS = {PDF: "pdf", HTML: "html", TEXT: "txt", DOC: "doc", DOCX: "docx", ODT: "odt",
              RECORD: "json", UNKNOWN: "bin"}

# What a name promises, to compare with what the bytes say.
BY_SUFFIX = {".pdf": PDF, ".html": HTML, ".htm": HTML, ".txt": TEXT, ".doc": DOC,
             ".docx": DOCX, ".odt": ODT}

LABELS = {PDF: "PDF", HTML: "HTML", TEXT: "texte", DOC: "Word", DOCX: "Word", ODT: "OpenDocument",
          RECORD: "enregistrement", UNKNOWN: "non reconnu"}


def sniff(head: bytes) -> str:
    """Media type of a file from its first bytes."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    # PDF readers accept the header anywhere in the first KB.
    if b"%PDF-" in head[:1024]:
        return PDF
    lowered = start[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")) or (
        b"<html" in lowered
    ):
        return HTML
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return DOC
    if head.startswith(b"PK\x03\x04"):
        if b"mimetypeapplication/vnd.oasis.opendocument.text" in head[:100]:
            return ODT
        if b"word/" in head or b"[Content_Types].xml" in head:
            return DOCX
        return UNKNOWN
    if start and _looks_like_text(start[:2048]):
        return TEXT
    return UNKNOWN


def _looks_like_text(sample: bytes) -> bool:
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        # a cut multi-byte character at the end of the sample is still text
        if exc.start >= len(sample) - 3:
            return True
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable / max(len(text), 1) > 0.95


def mismatch(expected: str, actual: str) -> str | None:
    """A readable reason when the bytes are not what the name or server announced."""
    if expected == actual or (expected in (DOC, DOCX) and actual in (DOC, DOCX)):
        return None
    if expected == TEXT and actual == HTML:
        return None
    wanted = LABELS.get(expected, expected)
    if actual == UNKNOWN:
        return f"contenu non reconnu ({wanted} attendu)"
    return f"contenu {LABELS.get(actual, actual)} au lieu de {wanted}"


# -- archived copies, for the UI: only stored files, a page as an image -----------------------

MAX_SIDE_PX = 1600  # a page image's longest side: a 200-inch page is not 20,000 pixels
RENDER_TIMEOUT_S = 30


@dataclass(frozen=True)
class StoredFile:
    path: Path
    media_type: str
    name: str  # for a download: the name at the source, with the right extension


def stored_file(data_dir: Path, relative: str | None, media_type: str | None,
                url: str = "") -> StoredFile | None:
    """The archived file of a document, if it is a regular file inside the data dir's
    files (a catalog cell is never followed to /etc or through a symlink)."""
    if not relative:
        return None
    root = (data_dir / "files").resolve()
    path = data_dir / relative
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root) or path.is_symlink() or not resolved.is_file():
        return None
    kind = media_type or UNKNOWN
    name = url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1] or resolved.stem
    extension = EXTENSIONS.get(kind, resolved.suffix.lstrip(".") or "bin")
    if not name.lower().endswith(f".{extension}"):
        name = f"{name}.{extension}"
    return StoredFile(resolved, kind, "".join(c for c in name if c.isalnum() or c in "._-")
                      or f"document.{extension}")


# Poppler runs in a child process: a hostile PDF that crashes or hangs the renderer ends
# that child, never the UI server that every visitor shares.
def page_count(path: Path) -> int:
    """Pages of a stored PDF; 0 when it cannot be read (encrypted, broken, no poppler)."""
    try:
        out = subprocess.run(["pdfinfo", str(path)], capture_output=True,
                             timeout=RENDER_TIMEOUT_S, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.search(rb"^Pages:\s+(\d+)", out, re.MULTILINE)
    return int(match.group(1)) if match else 0


def render_page(path: Path, page: int) -> bytes | None:
    """Page `page` (1-based) of a stored PDF as a PNG, or None (no such page, unreadable,
    poppler missing)."""
    if page < 1:
        return None
    with tempfile.TemporaryDirectory(prefix="fonds-page-") as scratch:
        out = Path(scratch) / "page"
        try:
            done = subprocess.run(
                ["pdftoppm", "-f", str(page), "-l", str(page), "-png", "-singlefile",
                 "-scale-to", str(MAX_SIDE_PX), str(path), str(out)],
                capture_output=True, timeout=RENDER_TIMEOUT_S, check=False)
            png = out.with_suffix(".png").read_bytes() if done.returncode == 0 else b""
        except (OSError, subprocess.TimeoutExpired):
            return None
    return png if png.startswith(b"\x89PNG") else None
