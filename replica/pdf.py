"""A small PDF writer: French text with headings and a table, several pages, no library.

Used to generate the replica site's documents (and, in tests, broken ones: `build` takes
any objects, so hostile files are as easy to make as good ones).
"""

from __future__ import annotations

import textwrap
import zlib
from dataclasses import dataclass

PAGE_LINES = 46


def build(objects: list[bytes], root: int = 1, info: int | None = None) -> bytes:
    """A PDF file from numbered objects (1-based), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    extra = f" /Info {info} 0 R" if info else ""
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R{extra} >>\nstartxref\n"
            f"{xref}\n%%EOF\n").encode()
    return bytes(out)


def stream(data: bytes, compress: bool = True) -> bytes:
    if compress:
        packed = zlib.compress(data, 9)
        return (f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode()
                + packed + b"\nendstream")
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_string(text: str) -> str:
    return "(" + _escape(text).decode("latin-1") + ")"


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()  # rows of cells, the first one a header


def make_pdf(title: str, sections: list[Section], date: str | None = None) -> bytes:
    """A text PDF: title, headings in bold, wrapped paragraphs, tables in columns."""
    lines: list[tuple[str, str]] = [("title", title), ("blank", "")]
    for section in sections:
        lines += [("heading", section.heading), ("blank", "")]
        for paragraph in section.paragraphs:
            lines += [("text", ln) for ln in textwrap.wrap(paragraph, 92)]
            lines.append(("blank", ""))
        for row in section.table:
            lines.append(("text", "  ".join(cell.ljust(24)[:24] for cell in row).rstrip()))
        if section.table:
            lines.append(("blank", ""))
    pages = [lines[i:i + PAGE_LINES] for i in range(0, len(lines), PAGE_LINES)] or [[]]
    n = len(pages)
    regular, bold = 3 + 2 * n, 4 + 2 * n
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode()]
    for index, page in enumerate(pages):
        ops = ["BT", "50 790 Td"]
        for kind, text in page:
            font, size = (("/F2 16", 20) if kind == "title" else ("/F2 12", 16)
                          if kind == "heading" else ("/F1 10", 14))
            ops += [f"{font} Tf", f"{_pdf_string(text)} Tj", f"0 -{size} Td"]
        ops += ["/F1 9 Tf", f"0 -10 Td ({index + 1} / {n}) Tj", "ET"]
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents "
                       f"{4 + 2 * index} 0 R /Resources << /Font << /F1 {regular} 0 R /F2 "
                       f"{bold} 0 R >> >> >>".encode())
        objects.append(stream("\n".join(ops).encode("latin-1")))
    for font in ("Helvetica", "Helvetica-Bold"):
        objects.append(f"<< /Type /Font /Subtype /Type1 /BaseFont /{font} /Encoding "
                       f"/WinAnsiEncoding >>".encode())
    # Info strings in UTF-16 (with its byte order mark), as PDF readers expect for accents.
    info_fields = f"/Title <FEFF{title.encode('utf-16-be').hex().upper()}>"
    if date:
        info_fields += f" /CreationDate (D:{date.replace('-', '')}000000)"
    objects.append(f"<< {info_fields} >>".encode("latin-1"))
    return build(objects, info=len(objects))
