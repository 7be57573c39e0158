"""Small PDFs made for the case they cover, written object by object (no PDF library, so
that broken and hostile ones can be made as easily as good ones)."""

from __future__ import annotations

import zlib
from pathlib import Path

from fonds.models import DocStatus, Document, ExtractionStatus
from replica.pdf import build, stream


def text_pdf(pages: list[str]) -> bytes:
    """One page per string, lines split on newlines, in Helvetica (WinAnsi: French accents)."""
    n = len(pages)
    font = 3 + 2 * n
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode()]
    for i, text in enumerate(pages):
        lines = text.split("\n")
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 800 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) '")
        ops.append("ET")
        content = "\n".join(ops).encode("cp1252", errors="replace")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents "
                       f"{4 + 2 * i} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>"
                       .encode())
        objects.append(stream(content))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    return build(objects)


def bomb_pdf(megabytes: int = 600) -> bytes:
    """A page whose content stream inflates to `megabytes` of spaces."""
    content = zlib.compress(b" " * (megabytes * 2**20), 9)
    stream = (f"<< /Length {len(content)} /Filter /FlateDecode >>\nstream\n".encode()
              + content + b"\nendstream")
    return build([b"<< /Type /Catalog /Pages 2 0 R >>",
                  b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                  b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                  stream])


def deep_pdf(depth: int = 100_000) -> bytes:
    """An object nested `depth` arrays deep."""
    nested = b"[" * depth + b"]" * depth
    return build([b"<< /Type /Catalog /Pages 2 0 R /Deep 3 0 R >>",
                  b"<< /Type /Pages /Kids [] /Count 0 >>", nested])


def scripted_pdf(page_text: str, attachment: bytes) -> bytes:
    """A page of text, JavaScript run on opening, and an embedded file."""
    content = f"BT /F1 11 Tf 50 800 Td ({page_text}) Tj ET".encode("cp1252")
    return build([
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R /Names << /EmbeddedFiles "
        b"<< /Names [(notes.txt) 6 0 R] >> /JavaScript << /Names [(go) 5 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 8 0 R >> >> >>",
        stream(content),
        b"<< /S /JavaScript /JS (app.alert\\('bonjour'\\); this.exportDataObject\\("
        b"{cName: 'notes.txt', nLaunch: 2}\\);) >>",
        b"<< /Type /Filespec /F (notes.txt) /EF << /F 7 0 R >> >>",
        stream(attachment),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ])


def pending_document(path: Path) -> Document:
    """A catalog record for a PDF on disk, not yet extracted (what ingest is handed)."""
    return Document(id="d1", canonical_url=path.as_uri(), urls=(path.as_uri(),), sha256="x",
                    file_path=str(path), media_type="application/pdf", size=1, title=None,
                    source="import", doc_type=None, themes=(), departements=(),
                    published=None, first_seen="", last_seen="", status=DocStatus.ACTIVE,
                    extraction_status=ExtractionStatus.PENDING, error=None,
                    meta={"file_name": path.name})
