"""Values from outside (a page, a PDF's metadata, a JSONL line), parsed at the edge.

Every function here takes anything and returns a clean value or None: a date is ISO or
nothing, a text has no control characters and a bounded length. Callers note what they
rejected; nothing a document says can crash a later stage.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from fonds.french import fold

MAX_TITLE = 300
MAX_LABEL = 80  # a theme, a type, a source
MAX_LABELS = 30
MIN_YEAR = 1800  # older is not a publication date of this archive

MONTHS = {"janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
          "juillet": 7, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
          "decembre": 12, "janv": 1, "fevr": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10,
          "nov": 11, "dec": 12}

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[tT ].*)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_LONG = re.compile(r"^(?:\w+\s+)?(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})$")
_MONTH_YEAR = re.compile(r"^([a-z]+)\.?\s+(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")


def clean_text(value: object, limit: int = MAX_TITLE) -> str | None:
    """One line of printable text: control and format characters dropped, whitespace
    collapsed, at most `limit` characters (cut at a word). None when nothing is left."""
    if value is None or isinstance(value, dict | list | tuple | set | bool):
        return None
    text = str(value)
    kept = [" " if ch.isspace() else ch for ch in text
            if ch.isspace() or unicodedata.category(ch)[0] != "C"]
    cleaned = " ".join("".join(kept).split())
    if len(cleaned) > limit:
        cut = cleaned[:limit + 1].rsplit(" ", 1)[0] if " " in cleaned[:limit] else ""
        cleaned = (cut or cleaned[:limit]).rstrip(" ,;:-–—") + "…"
    return cleaned or None


def clean_labels(value: object, limit: int = MAX_LABEL) -> tuple[str, ...]:
    """A list of short labels (themes, départements): strings only, cleaned, unique."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return ()
    out = [clean_text(v, limit) for v in value[:MAX_LABELS] if isinstance(v, str | int)]
    return tuple(dict.fromkeys(v for v in out if v))


def _valid(year: int, month: int, day: int) -> str | None:
    if not MIN_YEAR <= year <= date.today().year + 1:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(value: object) -> str | None:
    """« 2020-05-12 », « 2020/05/12 », « 12/05/2020 », « 12 mai 2020 », « mai 2020 »,
    « 2020 », an ISO timestamp → ISO date; anything else (garbage, year 99999) → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = " ".join(fold(value).split())
    if match := _ISO.match(text):
        return _valid(int(match[1]), int(match[2]), int(match[3] or 1))
    if match := _DMY.match(text):
        return _valid(int(match[3]), int(match[2]), int(match[1]))
    if (match := _LONG.match(text)) and match[2] in MONTHS:
        return _valid(int(match[3]), MONTHS[match[2]], int(match[1]))
    if (match := _MONTH_YEAR.match(text)) and match[1] in MONTHS:
        return _valid(int(match[2]), MONTHS[match[1]], 1)
    if match := _YEAR.match(text):
        return _valid(int(match[1]), 1, 1)
    return None
