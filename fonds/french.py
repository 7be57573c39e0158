"""French text analysis shared by indexing, querying and highlighting.

Order matters: lower-case, fold accents, drop stop words, *then* stem, so that
« securite » and « sécurité » give the same term. Elisions (l', d', qu'...) are split by
the tokenizer (an apostrophe is not a letter) and the elided article is a stop word.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import tantivy

from index_config import DIR as CONFIG_DIR

# tantivy's simple tokenizer splits on anything that is not alphanumeric; so do we.
WORD_RE = re.compile(r"[^\W_]+")
# Characters NFKD does not decompose into ASCII.
_SPECIAL_FOLDS = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss",
                                "ø": "o", "Ø": "o", "đ": "d", "ł": "l", "Ł": "l"})
MAX_TOKEN_LEN = 40


@cache
def stop_words() -> frozenset[str]:
    lines = (CONFIG_DIR / "stopwords_fr.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def fold(text: str) -> str:
    """Lower-case and strip accents: « Égalité Femmes-Hommes » → « egalite femmes-hommes »."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_SPECIAL_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=200_000)
def fold_word(word: str) -> str:
    """fold() for one word, cached: texts repeat their words."""
    return fold(word)


def words(text: str) -> list[str]:
    """Folded words, as the index sees them before stop words and stemming."""
    return WORD_RE.findall(fold(text))


def _builder(stem: bool) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_LEN))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.custom_stopword(sorted(stop_words())))
    )
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("french"))
    return builder.build()


@cache
def stemmed_analyzer() -> tantivy.TextAnalyzer:
    """For ranking: « discriminations » and « discrimination » meet."""
    return _builder(stem=True)


@cache
def exact_analyzer() -> tantivy.TextAnalyzer:
    """For typos and prefixes, which are defined on whole words, as in Meilisearch."""
    return _builder(stem=False)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Stem of one folded word, exactly as the index analyzer computes it."""
    tokens = stemmed_analyzer().analyze(word)
    return tokens[0] if tokens else word


def max_typos(word: str) -> int:
    """Meilisearch's default: 1 typo from 5 letters, 2 from 9; none in numbers."""
    if word.isdigit():
        return 0
    if len(word) >= 9:
        return 2
    if len(word) >= 5:
        return 1
    return 0


@dataclass(frozen=True)
class Synonyms:
    """Folded phrases (tuples of words) mapped to their alternatives."""

    table: dict[tuple[str, ...], tuple[tuple[str, ...], ...]]
    longest: int

    def alternatives(self, phrase: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        return self.table.get(phrase, ())


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(words(text))


@cache
def synonyms() -> Synonyms:
    data = json.loads((CONFIG_DIR / "synonyms.json").read_text(encoding="utf-8"))
    table: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for group in data["groups"]:
        phrases = [_phrase(member) for member in group]
        for phrase in phrases:
            table.setdefault(phrase, []).extend(p for p in phrases if p != phrase)
    for key, targets in data["oneway"].items():
        table.setdefault(_phrase(key), []).extend(_phrase(t) for t in targets)
    frozen = {k: tuple(dict.fromkeys(v)) for k, v in table.items()}
    return Synonyms(frozen, max(len(k) for k in frozen))


def meilisearch_synonyms() -> dict[str, list[str]]:
    """The same table in Meilisearch's shape: one-way lists, mutual ones listed both ways."""
    return {
        " ".join(key): [" ".join(alt) for alt in alts] for key, alts in synonyms().table.items()
    }
