"""Snippets: the passage cropped around the matched words, matches marked.

Done here rather than by tantivy's SnippetGenerator because that one does not mark typo
and prefix matches. The output is safe HTML: the text is escaped, only our marks are tags.
"""

from __future__ import annotations

import html
import re

from fonds import french
from fonds.query import ParsedQuery

MARK_START = "<mark>"
MARK_END = "</mark>"
CROP_WORDS = 32
_TOKEN = re.compile(r"[^\W_]+")


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition counts as one), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class Matcher:
    """Decides whether a word of a passage matches the query, and which slot it serves."""

    def __init__(self, query: ParsedQuery) -> None:
        self.query = query
        self.stems: dict[str, int] = {}
        self.terms = []
        self._seen: dict[str, int | None] = {}
        for index, slot in enumerate(query.slots):
            for term in slot.terms:
                self.stems.setdefault(term.stem, index)
                self.terms.append((index, term))
            for phrase in slot.alternatives:
                for word in phrase:
                    if word not in french.stop_words():
                        self.stems.setdefault(french.stem(word), index)

    def slot_of(self, folded: str) -> int | None:
        if folded not in self._seen:
            self._seen[folded] = self._slot_of(folded)
        return self._seen[folded]

    def _slot_of(self, folded: str) -> int | None:
        hit = self.stems.get(french.stem(folded))
        if hit is not None:
            return hit
        for index, term in self.terms:
            if term.prefix and folded.startswith(term.word):
                return index
            if term.typos:
                if osa_distance(folded, term.word, term.typos) <= term.typos:
                    return index
                if term.prefix and len(folded) > len(term.word) and osa_distance(
                    folded[: len(term.word)], term.word, term.typos
                ) <= term.typos:
                    return index
        return None


def highlight(text: str, matcher: Matcher, crop_words: int = CROP_WORDS) -> tuple[str, int]:
    """(safe HTML snippet, number of distinct slots matched in it)."""
    tokens = [(m.start(), m.end(), matcher.slot_of(french.fold(m.group()))) for m in
              _TOKEN.finditer(text)]
    if not tokens:
        return html.escape(text[: crop_words * 8], quote=False), 0
    start, end = _best_window(tokens, crop_words)
    pieces: list[str] = []
    if start > 0:
        pieces.append("… ")
    cursor = tokens[start][0]
    matched: set[int] = set()
    for begin, finish, slot in tokens[start:end]:
        if slot is None:
            continue
        matched.add(slot)
        pieces.append(html.escape(text[cursor:begin], quote=False))
        pieces.append(MARK_START + html.escape(text[begin:finish], quote=False) + MARK_END)
        cursor = finish
    tail_end = tokens[end - 1][1]
    # keep closing punctuation of the last word
    while tail_end < len(text) and text[tail_end] in ".,;:!?»)":
        tail_end += 1
    pieces.append(html.escape(text[cursor:tail_end], quote=False))
    if end < len(tokens):
        pieces.append(" …")
    return "".join(pieces).strip(), len(matched)


def _best_window(tokens: list[tuple[int, int, int | None]], size: int) -> tuple[int, int]:
    """The window of `size` words with the most distinct matched slots, then most matches."""
    if len(tokens) <= size:
        return 0, len(tokens)
    best = (-1, -1, 0)
    counts: dict[int, int] = {}
    hits = 0
    for i, (_, _, slot) in enumerate(tokens):
        if slot is not None:
            counts[slot] = counts.get(slot, 0) + 1
            hits += 1
        if i >= size:
            old = tokens[i - size][2]
            if old is not None:
                counts[old] -= 1
                hits -= 1
                if not counts[old]:
                    del counts[old]
        if i >= size - 1:
            score = (len(counts), hits)
            if score > best[:2]:
                best = (*score, i - size + 1)
    first = best[2]
    # Start a little before the first match, so the snippet reads as a sentence.
    for j in range(first, min(first + size, len(tokens))):
        if tokens[j][2] is not None:
            first = max(0, min(j - 4, len(tokens) - size))
            break
    return first, first + size


def plain(snippet: str, bold: bool = False) -> str:
    """A snippet as plain text for terminals: marks in bold, or as [ ]."""
    start, end = ("\x1b[1m", "\x1b[0m") if bold else ("[", "]")
    return html.unescape(snippet.replace(MARK_START, start).replace(MARK_END, end))
