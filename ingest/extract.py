"""Extraction: the text of a stored file, page by page, with what the file says about itself.

Runs inside a worker process (ingest/worker.py) so that a hostile file can be stopped:
no function here needs to defend against hanging, the worker's time and memory limits do.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fonds import media
from ingest.clean import is_garbage, normalise

MIN_PAGE_CHARS = 20  # fewer extracted characters: the page has no usable text layer


class ExtractionError(Exception):
    """The file cannot be read; the message is shown to users (French). `transient`: the
    cause may go away (a timeout, a crashed reader), so the next ingest tries again."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class EnvironmentProblem(Exception):
    """This machine cannot extract anything of a kind (a missing module): the run stops
    once, loudly, instead of blaming every document."""


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    text: str
    ocr: bool = False  # the text comes from OCR
    garbage: bool = False  # the text layer is unusable (broken glyph map)


@dataclass(frozen=True)
class Extracted:
    pages: tuple[Page, ...]
    title: str | None = None
    date: str | None = None  # ISO date from the file's metadata
    page_count: int = 0
    notes: tuple[str, ...] = field(default=())
    # Page 1's lines set larger than its body text, largest first: title candidates.
    headings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    max_pages: int = 2000
    ocr: bool = True
    ocr_max_pages: int = 50
    ocr_timeout_s: int = 60


def _text(path: Path, limits: Limits) -> Extracted:
    return Extracted((Page(1, decode(path.read_bytes())),), page_count=1)


def _record(path: Path, limits: Limits) -> Extracted:
    record = json.loads(path.read_text(encoding="utf-8"))
    title = str(record.get("title") or "").strip() or None
    return Extracted((Page(1, str(record.get("text") or "")),), title=title, page_count=1,
                     date=str(record.get("date") or "")[:10] or None)


def _html(path: Path, limits: Limits) -> Extracted:
    return extract_html(path.read_bytes())


def extract(path: Path, media_type: str, limits: Limits | None = None) -> Extracted:
    """The extractor of a media type (the bytes decided it, not the name)."""
    extractor = EXTRACTORS.get(media_type)
    if extractor is None:
        raise ExtractionError(f"format non pris en charge ({media_type})")
    return extractor(path, limits or Limits())


def decode(data: bytes) -> str:
    """UTF-8, else Windows-1252 (what French sites without a charset usually send)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# -- PDF -----------------------------------------------------------------------------------


def _pdf_date(value: object) -> str | None:
    match = re.match(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?", str(value or ""))
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    if not (1990 <= int(year) <= 2100 and 1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    return f"{year}-{month}-{day}"


def extract_pdf(path: Path, limits: Limits) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    notes: list[str] = []
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise ExtractionError("PDF chiffré : un mot de passe est nécessaire")
            except (NotImplementedError, FileNotDecryptedError) as exc:
                raise ExtractionError(f"PDF chiffré : impossible de le déchiffrer ({exc})"
                                      ) from None
            notes.append("PDF chiffré sans mot de passe, déchiffré")
        count = len(reader.pages)
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, TypeError, KeyError, AttributeError, OSError,
            RecursionError) as exc:
        raise ExtractionError(f"PDF illisible ({type(exc).__name__}: {str(exc)[:120]})"
                              ) from None
    if count == 0:
        raise ExtractionError("PDF sans aucune page")

    title = date = None
    try:
        meta = reader.metadata
        if meta is not None:
            title = (str(meta.title).strip() or None) if meta.title else None
            date = _pdf_date(meta.get("/CreationDate")) or _pdf_date(meta.get("/ModDate"))
    except Exception:  # noqa: BLE001 - broken metadata must not lose the text
        notes.append("métadonnées illisibles")

    try:
        headings = _large_lines(reader.pages[0])
    except Exception:  # noqa: BLE001 - a title candidate is a bonus
        headings = ()
    pages: list[Page] = []
    failed = 0
    for index in range(min(count, limits.max_pages)):
        try:
            text = reader.pages[index].extract_text() or ""
        except Exception:  # noqa: BLE001 - one broken page must not lose the others
            text, failed = "", failed + 1
        pages.append(Page(index + 1, text))
    if count > limits.max_pages:
        notes.append(f"limité aux {limits.max_pages} premières pages sur {count}")
    if failed:
        notes.append(f"{failed} page(s) illisible(s)")

    pages = [Page(p.number, p.text, garbage=is_garbage(normalise(p.text))) for p in pages]
    unusable = [p.number for p in pages if p.garbage or len(p.text.strip()) < MIN_PAGE_CHARS]
    if unusable and limits.ocr and ocr_available():
        pages = _ocr_pages(path, pages, set(unusable[: limits.ocr_max_pages]), limits, notes)
    return Extracted(tuple(pages), title=title, date=date, page_count=count, notes=tuple(notes),
                     headings=headings)


HEADING_RATIO = 1.2  # a heading's font is at least this much larger than the body's
MAX_HEADING_WORDS = 30


def _large_lines(page: object) -> tuple[str, ...]:
    """Text set in a larger font than the page's body, grouped by size, largest first:
    what a reader sees as the title, even when the text layer's order says otherwise."""
    runs: list[tuple[float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
        runs.append((round(float(size) * scale, 1) if text.strip() else 0.0, text))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    chars: dict[float, int] = {}
    for size, text in runs:
        if size:
            chars[size] = chars.get(size, 0) + len(text.strip())
    if not chars:
        return ()
    body = max(chars, key=lambda k: chars[k])
    blocks: list[tuple[float, list[str]]] = []
    for size, text in runs:
        if not size:  # spacing belongs to the block it sits in
            if blocks:
                blocks[-1][1].append(text)
        elif blocks and abs(blocks[-1][0] - size) <= 0.5:
            blocks[-1][1].append(text)
        else:
            blocks.append((size, [text]))
    # Consecutive large blocks read as one title (« Guide » / « méthodologique »); a web
    # address set large on a cover is skipped; body-size text ends a group.
    groups: list[tuple[float, list[str]]] = []
    current: list[tuple[float, str]] = []
    for size, parts in [*blocks, (0.0, ["."])]:
        text = " ".join("".join(parts).split())
        if len(text.split()) == 1 and re.search(r"[./@]\w", text):
            continue
        if size >= HEADING_RATIO * body:
            current.append((size, text))
            continue
        if current:
            groups.append((max(s for s, _ in current), [t for _, t in current]))
            current = []
    found: list[str] = []
    for _, texts in sorted(groups, key=lambda g: -g[0]):
        joined = " ".join(texts)
        if (len(texts) > 1 and len(joined.split()) <= 12
                and all(len(t) >= 2 and len(t.split()) <= 5 for t in texts)):
            found.append(joined)
        found.extend(t for t in texts if len(t.split()) <= MAX_HEADING_WORDS)
    return tuple(dict.fromkeys(found))[:8]


# -- OCR ------------------------------------------------------------------------------------


def ocr_available() -> bool:
    """Tesseract with French data, and pdftoppm to render pages."""
    if not (shutil.which("tesseract") and shutil.which("pdftoppm")):
        return False
    try:
        langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True,
                               timeout=10, check=False).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return False
    return "fra" in langs


def _ocr_pages(path: Path, pages: list[Page], wanted: set[int], limits: Limits,
               notes: list[str]) -> list[Page]:
    done = 0
    result = []
    with tempfile.TemporaryDirectory(prefix="fonds-ocr-") as tmp:
        for page in pages:
            if page.number not in wanted:
                result.append(page)
                continue
            image = Path(tmp) / f"p{page.number}"
            try:
                subprocess.run(["pdftoppm", "-f", str(page.number), "-l", str(page.number),
                                "-r", "200", "-gray", "-png", "-singlefile", str(path),
                                str(image)], check=True, capture_output=True,
                               timeout=limits.ocr_timeout_s)
                text = subprocess.run(["tesseract", f"{image}.png", "stdout", "-l", "fra",
                                       "--psm", "3"], check=True, capture_output=True,
                                      timeout=limits.ocr_timeout_s).stdout.decode(
                                          "utf-8", errors="replace")
            except (OSError, subprocess.SubprocessError):
                result.append(page)
                continue
            done += 1
            result.append(Page(page.number, text, ocr=True))
    if done:
        notes.append(f"{done} page(s) lue(s) par OCR")
    return result


# -- HTML -------------------------------------------------------------------------------------


def extract_html(data: bytes) -> Extracted:
    """Main content only (trafilatura), without navigation and boilerplate."""
    import trafilatura

    html = decode(data)
    text = trafilatura.extract(html, output_format="txt", include_comments=False,
                               include_tables=True, favor_recall=True) or ""
    title = date = None
    try:
        metadata = trafilatura.extract_metadata(html)
        if metadata is not None:
            title, date = metadata.title, metadata.date
    except Exception:  # noqa: BLE001 - metadata is a bonus
        pass
    return Extracted((Page(1, text),), title=title, date=(date or None) and date[:10],
                     page_count=1)


# -- office documents ---------------------------------------------------------------------------


def office_available() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def extract_office(path: Path, limits: Limits) -> Extracted:
    binary = office_available()
    if binary is None:
        raise ExtractionError("document bureautique : LibreOffice n'est pas installé")
    with tempfile.TemporaryDirectory(prefix="fonds-office-") as tmp:
        try:
            subprocess.run([binary, "--headless", "--convert-to", "pdf", "--outdir", tmp,
                            str(path)], check=True, capture_output=True, timeout=180)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ExtractionError(f"conversion LibreOffice impossible ({exc})") from None
        converted = list(Path(tmp).glob("*.pdf"))
        if not converted:
            raise ExtractionError("conversion LibreOffice sans résultat")
        return extract_pdf(converted[0], limits)


# One extractor per media type: a new format is a row here.
EXTRACTORS: dict[str, Callable[[Path, Limits], Extracted]] = {
    media.PDF: extract_pdf,
    media.HTML: _html,
    media.TEXT: _text,
    media.RECORD: _record,
    media.DOC: extract_office,
    media.DOCX: extract_office,
    media.ODT: extract_office,
}
