"""Snippets: the passage cropped around the matched words, matches marked.

Done here rather than by tantivy's SnippetGenerator because that one does not mark typo
and prefix matches. The output is safe HTML: the text is escaped, only our marks are tags.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from fonds import french
from fonds.query import ParsedQuery

MARK_START = "<mark>"
MARK_END = "</mark>"
CROP_CHARS = 240  # about 32 words
LEAD_CHARS = 40  # context kept before the first match
_TOKEN = re.compile(r"[^\W_]+")


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition counts as one), capped at limit+1."""
    if abs(len(a) - len(b)) > limit or not _close(a, b, limit):
        return limit + 1  # the archive's words mostly fail these cheap tests: no table
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


def _close(a: str, b: str, typos: int) -> bool:
    """Cheap necessary condition for an edit distance <= typos (most words fail it)."""
    return len(set(a).symmetric_difference(b)) <= 2 * typos


@lru_cache(maxsize=200_000)
def _token_key(token: str) -> tuple[str, str]:
    """(folded, stem) of a word as written: shared by all queries of the process."""
    folded = french.fold_word(token)
    return folded, french.stem(folded)


class Matcher:
    """Decides whether a word of a passage matches the query, and which slot it serves."""

    def __init__(self, query: ParsedQuery) -> None:
        self.query = query
        self.stems: dict[str, int] = {}
        # (slot, word, typos, prefix) of the terms that also match loosely, by first letter:
        # a snippet marks typos after the first letter only, which spares most words a test.
        self.loose: dict[str, list[tuple[int, str, int, bool]]] = {}
        self._seen: dict[str, int | None] = {}
        for index, slot in enumerate(query.slots):
            for term in slot.terms:
                self.stems.setdefault(term.stem, index)
                if (term.typos or term.prefix) and term.word:
                    self.loose.setdefault(term.word[0], []).append(
                        (index, term.word, term.typos, term.prefix))
            for phrase in slot.alternatives:
                for word in phrase:
                    if word not in french.stop_words():
                        self.stems.setdefault(french.stem(word), index)

    def slot_of_token(self, token: str) -> int | None:
        """The slot a word as written serves, or None."""
        return self.slots_of((token,)).get(token)

    def slots_of(self, tokens: Iterable[str]) -> dict[str, int]:
        """The tokens that serve a slot, with it; cached per query, texts repeat their
        words (a page of snippets puts about a thousand distinct words through it)."""
        seen, stems, loose = self._seen, self.stems, self.loose
        out = {}
        for token in tokens:
            hit = seen.get(token, -1)
            if hit == -1:
                folded, stem = _token_key(token)
                hit = stems.get(stem)
                if hit is None and folded[:1] in loose:
                    hit = self._loose(folded)
                seen[token] = hit
            if hit is not None:
                out[token] = hit
        return out

    def _loose(self, folded: str) -> int | None:
        size = len(folded)
        for index, word, typos, prefix in self.loose.get(folded[:1], ()):
            n = len(word)
            if prefix and folded.startswith(word):
                return index
            if not typos:
                continue
            if abs(size - n) <= typos and _close(folded, word, typos) and \
                    osa_distance(folded, word, typos) <= typos:
                return index
            if prefix and size > n and _close(folded[:n], word, typos) and \
                    osa_distance(folded[:n], word, typos) <= typos:
                return index
        return None


class Snippet(NamedTuple):
    html: str  # safe HTML, cropped around the matches, matches between <mark> tags
    slots: int  # distinct query words in it
    start: int  # offset in the text of its first match (0 without one): the snippet's page


def highlight(text: str, matcher: Matcher, crop_chars: int = CROP_CHARS) -> Snippet:
    """The snippet of `text` with the most distinct query words (then most matches).

    Only the distinct words of the text go through the matcher (a passage repeats its
    words); then one pass keeps where the matching ones occur.
    """
    hits = matcher.slots_of(set(_TOKEN.findall(text)))
    if not hits:
        return Snippet(_crop(text, 0, crop_chars, []), 0, 0)
    # Only the matching words' occurrences, found by one pattern of them (whole tokens).
    pattern = _whole_words(tuple(sorted(hits, key=len, reverse=True)))
    found = [(m.start(), m.end(), hits[m.group()]) for m in pattern.finditer(text)]
    # The window with the most distinct slots (then most matches), starting a bit before;
    # one sliding pass (found is in text order), with the slots inside counted.
    best, best_score = 0, (-1, -1)
    inside: dict[int, int] = {}
    end = 0
    for i, (start, _, slot) in enumerate(found):
        end = max(end, i)
        while end < len(found) and found[end][0] < start + crop_chars - LEAD_CHARS:
            inside[found[end][2]] = inside.get(found[end][2], 0) + 1
            end += 1
        score = (len(inside), end - i)
        if score > best_score:
            best, best_score = i, score
        if end > i:  # found[i] leaves the window
            inside[slot] -= 1
            if not inside[slot]:
                del inside[slot]
    begin = max(0, found[best][0] - LEAD_CHARS)
    return Snippet(_crop(text, begin, crop_chars, found), best_score[0], found[best][0])


@lru_cache(maxsize=4096)
def _whole_words(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of `words` as a whole token (as _TOKEN cuts them), longest first."""
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, words)) + r")(?![^\W_])")


def _crop(text: str, begin: int, size: int, found: list[tuple[int, int, int]]) -> str:
    if begin > 0:  # start on a word
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < begin + 20 else begin
    end = min(len(text), begin + size)
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > begin + size // 2 else end
    pieces = ["… "] if begin > 0 else []
    cursor = begin
    for start, finish, _ in found:
        if start < begin or finish > end:
            continue
        pieces.append(html.escape(text[cursor:start], quote=False))
        pieces.append(MARK_START + html.escape(text[start:finish], quote=False) + MARK_END)
        cursor = finish
    pieces.append(html.escape(text[cursor:end], quote=False))
    if end < len(text):
        pieces.append(" …")
    return "".join(pieces).strip()


def plain(snippet: str, bold: bool = False) -> str:
    """A snippet as plain text for terminals: marks in bold, or as [ ]."""
    start, end = ("\x1b[1m", "\x1b[0m") if bold else ("[", "]")
    return html.unescape(snippet.replace(MARK_START, start).replace(MARK_END, end))
