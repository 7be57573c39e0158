"""Media types decided from the bytes, not from the name: an HTML error page named .pdf is HTML."""

from __future__ import annotations

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
