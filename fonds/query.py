"""A user's query as slots of words, with typo budgets, prefix and synonyms.

A slot is what ranking counts as « one query word »: a single word, or a phrase of the
synonym table (« politique de la ville ») with its alternatives (« pdv »). Both engines
read the same parse, so they agree on what a match is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fonds import french

MAX_QUERY_WORDS = 32  # beyond this, words add noise and cost, not recall


@dataclass(frozen=True)
class Term:
    word: str  # folded
    stem: str
    typos: int
    prefix: bool


@dataclass(frozen=True)
class Slot:
    terms: tuple[Term, ...]  # the user's words (stop words left out)
    alternatives: tuple[tuple[str, ...], ...] = ()  # synonym phrases, folded words


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    slots: tuple[Slot, ...]

    @property
    def is_empty(self) -> bool:
        return not self.slots

    def terms(self) -> list[Term]:
        return [term for slot in self.slots for term in slot.terms]


def _term(word: str, prefix: bool) -> Term:
    return Term(word=word, stem=french.stem(word), typos=french.max_typos(word), prefix=prefix)


def parse(text: str) -> ParsedQuery:
    """Split, fold, match synonym phrases (longest first), mark the last word as a prefix."""
    tokens = french.words(text)[: MAX_QUERY_WORDS * 2]
    stops = french.stop_words()
    table = french.synonyms()
    # The last word is being typed unless the query ends with a space or punctuation.
    typing = bool(text) and (text[-1].isalnum())
    slots: list[Slot] = []
    i = 0
    while i < len(tokens) and len(slots) < MAX_QUERY_WORDS:
        for size in range(min(table.longest, len(tokens) - i), 0, -1):
            phrase = tuple(tokens[i : i + size])
            alternatives = table.alternatives(phrase)
            if alternatives:
                kept = tuple(_term(w, False) for w in phrase if w not in stops)
                if kept:
                    slots.append(Slot(kept, alternatives))
                i += size
                break
        else:
            word = tokens[i]
            is_last = i == len(tokens) - 1
            if word not in stops:
                slots.append(Slot((_term(word, typing and is_last and len(word) >= 2),)))
            i += 1
    return ParsedQuery(text=text, slots=tuple(slots))


def without_typos(parsed: ParsedQuery, words: set[str]) -> ParsedQuery:
    """The same query, these words matched exactly (their prefix, if any, is kept)."""
    if not words:
        return parsed
    slots = tuple(
        Slot(tuple(replace(t, typos=0) if t.word in words else t for t in slot.terms),
             slot.alternatives)
        for slot in parsed.slots)
    return ParsedQuery(parsed.text, slots)
