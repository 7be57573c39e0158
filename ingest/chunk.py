"""Chunking: passages of about 150-250 words along paragraph and sentence boundaries.

Each passage knows the page where it starts, where each later page starts inside it, and
the heading in force where it starts; it overlaps its neighbour by
one short sentence, and never cuts a word. Positions are stable: the same text gives the
same passages, so re-ingesting an unchanged document yields the same passage ids.

With a TokenCap (the embedder's window and its own token count), a passage the embedder
would read only in part is split further: at sentences, then at words, and only a "word"
longer than the window (text without spaces) is cut. The same text and the same embedder
give the same passages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fonds.models import page_at

TARGET_WORDS = 200
MAX_WORDS = 250
MIN_TAIL_WORDS = 60
OVERLAP_MAX_WORDS = 40

_SENTENCE_END = re.compile(r"(?<=[.!?…])[»\")]*\s+(?=[«\"(\-—–•]?\s*[A-ZÀ-ÝÉÈ0-9])")
_BULLET = re.compile(r"^\s*([-•–—*▪►✓]|\d{1,2}[.)]|[a-z][.)])\s+")
_NUMBERED_HEADING = re.compile(r"^\s*(\d{1,2}(\.\d{1,2})*\.?|[IVX]{1,5}\.|[A-H]\.)\s+\S")


@dataclass(frozen=True)
class Chunk:
    position: int
    page: int | None
    heading: str
    text: str
    page_breaks: tuple[tuple[int, int], ...] = ()  # (offset in text, page) of later pages

    @property
    def words(self) -> int:
        return len(self.text.split())

    def page_at(self, offset: int) -> int | None:
        return page_at(self.page, self.page_breaks, offset)


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of a very long one) with where it comes from."""

    text: str
    page: int | None
    heading: str
    paragraph_end: bool

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class TokenCap:
    """At most `limit` tokens per passage as the embedder reads it; `count(heading, text)`
    is that count (the caller adds the context the embedder sees: title, heading, prefix)."""

    count: Callable[[str, str], int]
    limit: int

    def fits(self, heading: str, text: str) -> bool:
        return self.count(heading, text) <= self.limit


def is_heading(line: str, next_line: str) -> bool:
    words = line.split()
    if not (1 <= len(words) <= 12) or line.rstrip().endswith((".", ",", ";", "…")):
        return False
    letters = [ch for ch in line if ch.isalpha()]
    if len(letters) < 3:
        return False
    if _NUMBERED_HEADING.match(line) or (line.isupper() and len(letters) >= 4):
        return True
    # A short line ending without punctuation, followed by a capitalised line.
    return (len(words) <= 8 and line[:1].isupper() and not line.rstrip().endswith(":")
            and next_line[:1].isupper() and not _BULLET.match(line))


def _paragraphs(text: str) -> list[tuple[str, bool]]:
    """(paragraph, is a heading) in reading order; wrapped lines are joined."""
    lines = [ln.strip() for ln in text.split("\n")]
    out: list[tuple[str, bool]] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            out.append((" ".join(current), False))
            current.clear()

    for i, line in enumerate(lines):
        following = next((ln for ln in lines[i + 1:] if ln), "")
        if not line:
            flush()
        elif is_heading(line, following):
            flush()
            out.append((line, True))
        elif _BULLET.match(line) and current:
            flush()
            current.append(line)
        else:
            current.append(line)
            if line.endswith((".", "!", "?", ":")) and following[:1].isupper():
                flush()
    flush()
    return out


def _units(pages: Sequence[tuple[int | None, str]]) -> list[_Unit]:
    units: list[_Unit] = []
    heading = ""
    for page, text in pages:
        for paragraph, is_title in _paragraphs(text):
            if is_title:
                heading = paragraph
            sentences = [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]
            for index, sentence in enumerate(sentences):
                words = sentence.split()
                # A sentence longer than a passage (tables, lists without punctuation).
                pieces = [" ".join(words[i:i + TARGET_WORDS])
                          for i in range(0, len(words), TARGET_WORDS)] or [sentence]
                for k, piece in enumerate(pieces):
                    last = index == len(sentences) - 1 and k == len(pieces) - 1
                    units.append(_Unit(piece, page, heading, last))
    return units


def chunk(pages: Sequence[tuple[int | None, str]], cap: TokenCap | None = None
          ) -> list[Chunk]:
    units = _units(pages)
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0
    for unit in units:
        if current and size + unit.words > MAX_WORDS:
            groups.append(current)
            current, size = _overlap(current), sum(u.words for u in _overlap(current))
        current.append(unit)
        size += unit.words
        if size >= TARGET_WORDS and unit.paragraph_end:
            groups.append(current)
            current, size = _overlap(current), sum(u.words for u in _overlap(current))
    if current and (not groups or any(u not in groups[-1] for u in current)):
        fresh = [u for u in current if u not in groups[-1]] if groups else current
        if groups and sum(u.words for u in fresh) < MIN_TAIL_WORDS and \
                sum(u.words for u in groups[-1]) + sum(u.words for u in fresh) <= MAX_WORDS + 50:
            groups[-1].extend(fresh)
        else:
            groups.append(current)
    if cap is not None:
        groups = [part for i, group in enumerate(groups)
                  for part in _capped(group, i > 0 and group[0] is groups[i - 1][-1], cap)]
    return [_chunk(i, group, carried=i > 0 and len(group) > 1 and group[0] is groups[i - 1][-1])
            for i, group in enumerate(groups)]


def _heading(units: list[_Unit], carried: bool) -> str:
    return (units[1] if carried and len(units) > 1 else units[0]).heading  # as _chunk says


def _fits(units: list[_Unit], carried: bool, cap: TokenCap) -> bool:
    return cap.fits(_heading(units, carried), " ".join(u.text for u in units))


def _capped(group: list[_Unit], carried: bool, cap: TokenCap) -> list[list[_Unit]]:
    """The group as consecutive parts that each fit the cap (most groups: itself)."""
    if _fits(group, carried, cap):
        return [group]
    parts: list[list[_Unit]] = []
    current: list[_Unit] = []
    for unit in (piece for u in group for piece in _fitting_pieces(u, cap)):
        first = carried and not parts and bool(current) and current[0] is group[0]
        if current and not _fits([*current, unit], first, cap):
            if not (first and len(current) == 1):  # the carried sentence alone: context only
                parts.append(current)
            current = []
        current.append(unit)
    if current:
        parts.append(current)
    return parts


def _fitting_pieces(unit: _Unit, cap: TokenCap) -> list[_Unit]:
    """A unit cut into pieces that each fit: the longest run of words that fits, then the
    next; a single word that does not fit is cut by characters."""
    if cap.fits(unit.heading, unit.text) or not cap.fits(unit.heading, unit.text[:1]):
        return [unit]  # fits, or the context alone fills the window: nothing to gain
    def longest(pieces: list[str], sep: str) -> int:
        return _longest(len(pieces), lambda k: cap.fits(unit.heading, sep.join(pieces[:k])))

    words = unit.text.split()
    texts: list[str] = []
    while words:
        if n := longest(words, " "):
            texts.append(" ".join(words[:n]))
            words = words[n:]
            continue
        chars = list(words.pop(0))
        while chars:
            cut = max(1, longest(chars, ""))
            texts.append("".join(chars[:cut]))
            chars = chars[cut:]
    return [_Unit(text, unit.page, unit.heading, unit.paragraph_end and i == len(texts) - 1)
            for i, text in enumerate(texts)]


def _longest(size: int, fits: Callable[[int], bool]) -> int:
    """The largest k in 0..size with fits(k), for fits true then false as k grows."""
    low, high = 0, size
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _chunk(position: int, group: list[_Unit], carried: bool) -> Chunk:
    """The passage starts where its own text starts: a sentence carried over from the
    previous passage (the overlap) is context, so it neither sets the page nor the
    heading; page_breaks still give it its own page (offset 0)."""
    own = group[1:] if carried else group
    page = next((u.page for u in own if u.page is not None), None)
    breaks: list[tuple[int, int]] = []
    offset, current = 0, page
    for unit in group:
        if unit.page is not None and unit.page != current:
            breaks.append((offset, unit.page))
            current = unit.page
        offset += len(unit.text) + 1
    return Chunk(position, page, own[0].heading, " ".join(u.text for u in group),
                 tuple(breaks))


def _overlap(group: list[_Unit]) -> list[_Unit]:
    """The last sentence, carried into the next passage when it is short."""
    last = group[-1]
    return [last] if last.words <= OVERLAP_MAX_WORDS and len(group) > 1 else []
