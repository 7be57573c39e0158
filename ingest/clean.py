"""Cleaning extracted text: what PDFs do to words, undone.

Each function takes and returns text and can be tested on its own; `clean_pages` applies
them in order to a document's pages (headers and footers need every page at once).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import cache

from fonds.french import fold

_ODD_SPACES = re.compile(r"[\t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_LEADERS = re.compile(r"(?:\s*[.…·_]\s*){4,}")
_PAGE_NUMBER = re.compile(r"^\s*(?:page|p\.)?\s*\d{1,4}\s*(?:(?:/|sur)\s*\d{1,4})?\s*$", re.I)
_LETTER_RUN = re.compile(r"(?<!\S)(?:(?:[^\W\d_]{1,2}|[’']) ){2,}(?:[^\W\d_]{1,2}|[’'])(?!\S)")
_ALPHA = re.compile(r"[^\W\d_]+")
_HYPHEN_BREAK = re.compile(r"([^\W\d_])[-\u00ad]\n\s*([a-zà-ÿ])")


def normalise(text: str) -> str:
    """NFKC (ligatures ﬁ ﬂ, full-width forms), soft hyphens, odd spaces, dot leaders.
    Runs of spaces are kept: letter-spaced words are told apart by them."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad\n", "").replace("\u00ad", "")
    text = text.replace("\x00", "").replace("\u2010", "-").replace("\u2011", "-")
    text = _LEADERS.sub(" … ", text)
    return "\n".join(_ODD_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def collapse_spaces(text: str) -> str:
    return "\n".join(re.sub(r" {2,}", " ", line) for line in text.split("\n"))


def dehyphenate(text: str) -> str:
    """« inter-\\nnational » → « international »; « Pyrénées-\\nOrientales » keeps its hyphen."""
    return _HYPHEN_BREAK.sub(r"\1\2", text)


def join_letter_spacing(text: str) -> str:
    """« C O M M I S S I O N  D ’ A C C È S » → « COMMISSION D’ACCÈS »."""
    def join(match: re.Match[str]) -> str:
        tokens = match.group().split(" ")
        singles = sum(len(t) == 1 for t in tokens)
        return "".join(tokens) if singles / len(tokens) >= 0.7 else match.group()

    return "\n".join(_LETTER_RUN.sub(join, line) for line in text.split("\n"))


# -- words without spaces ---------------------------------------------------------------


@cache
def _lexicon() -> tuple[dict[str, float], int]:
    """-log probability of each known French word (wordfreq), and the longest length."""
    from wordfreq import top_n_list, word_frequency

    costs = {}
    for word in top_n_list("fr", 120_000):
        if word.isalpha():
            costs[word] = -math.log(max(word_frequency(word, "fr"), 1e-9))
    return costs, max(len(w) for w in costs)


def is_word(token: str) -> bool:
    return token.lower() in _lexicon()[0]


def segment(token: str) -> str:
    """Most probable split of a run of letters into French words (Viterbi)."""
    costs, longest = _lexicon()
    lowered = token.lower()
    n = len(lowered)
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    unknown = -math.log(1e-9) * 1.5  # a letter outside any word: allowed, expensive
    for end in range(1, n + 1):
        for start in range(max(0, end - longest), end):
            piece = lowered[start:end]
            cost = costs.get(piece)
            if cost is None:
                if end - start > 1:
                    continue
                cost = unknown
            total = best[start] + cost
            if total < best[end]:
                best[end], back[end] = total, start
    pieces, end = [], n
    while end > 0:
        pieces.append(token[back[end]:end])
        end = back[end]
    return " ".join(reversed(pieces))


def lacks_spaces(text: str) -> bool:
    """Text whose words run together (some xdvipdfmx PDFs): many long unknown tokens."""
    tokens = _ALPHA.findall(text)
    letters = sum(len(t) for t in tokens)
    if letters < 200:
        return False
    long_unknown = sum(len(t) for t in tokens if len(t) >= 16 and not is_word(t))
    return long_unknown / letters > 0.15


def restore_spaces(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        token = match.group()
        return token if len(token) < 8 or is_word(token) else segment(token)

    text = _ALPHA.sub(fix, text)
    # The same typesetting lost the spaces around numbers and brackets.
    text = re.sub(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_]{2})", " ", text)
    return re.sub(r"(?<=[^\W\d_])\(|\)(?=[^\W\d_])", lambda m: " (" if m.group() == "(" else ") ",
                  text)


# -- garbage ----------------------------------------------------------------------------------


def is_garbage(text: str) -> bool:
    """Broken glyph maps give symbols, or letters that form no words."""
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < 40:
        return False
    letters = sum(ch.isalpha() for ch in visible)
    if letters / len(visible) < 0.5:
        return True
    tokens = [t for t in _ALPHA.findall(text) if len(t) > 1]
    if len(tokens) < 15 or lacks_spaces(text):
        return False
    known = sum(is_word(t) or is_word(fold(t)) for t in tokens)
    # Arabic, English or other scripts are words too: judge only Latin tokens.
    latin = [t for t in tokens if t.isascii() or fold(t).isascii()]
    if len(latin) < 15:
        return False
    return known / len(tokens) < 0.3


# -- headers and footers ---------------------------------------------------------------------


EDGE_LINES = 2  # where running headers and footers live


def _line_key(line: str) -> str:
    return re.sub(r"\d+", "#", fold(line)).strip()


def strip_repeated_lines(pages: list[str]) -> list[str]:
    """Lines repeated at the top or bottom of most pages (running headers, footers) and bare
    page numbers are removed."""
    if len(pages) >= 3:
        edges: Counter[str] = Counter()
        for page in pages:
            lines = [ln for ln in page.split("\n") if ln.strip()]
            edges.update({_line_key(ln) for ln in lines[:EDGE_LINES] + lines[-EDGE_LINES:]})
        repeated = {key for key, n in edges.items() if n >= max(3, 0.5 * len(pages)) and key}
    else:
        repeated = set()
    cleaned = []
    for page in pages:
        lines = page.split("\n")
        head = {i for i, ln in enumerate(lines) if ln.strip()}
        edge = set(sorted(head)[:EDGE_LINES] + sorted(head)[-EDGE_LINES:])
        kept = [ln for i, ln in enumerate(lines)
                if not (_PAGE_NUMBER.match(ln) and ln.strip())
                and not (i in edge and _line_key(ln) in repeated)]
        cleaned.append("\n".join(kept))
    return cleaned


def clean_pages(pages: list[str]) -> list[str]:
    """All cleaning steps, in order, for a document's pages."""
    pages = [dehyphenate(collapse_spaces(join_letter_spacing(normalise(p)))) for p in pages]
    pages = strip_repeated_lines(pages)
    if lacks_spaces("\n".join(pages)):
        pages = [restore_spaces(p) for p in pages]
    return [re.sub(r"\n{3,}", "\n\n", p).strip() for p in pages]
