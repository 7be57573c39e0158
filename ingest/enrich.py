"""Enrichment: themes, départements, type, date, language and title, from the text.

Deterministic and explainable: every rule reads data in index_config/ (themes.json,
departements.json, communes.json) and counts occurrences; nothing is learned or random.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cache

from fonds import french
from fonds.taxonomy import departements
from fonds.values import parse_date
from index_config import DIR as CONFIG_DIR

MAX_THEMES = 3
THEME_MIN_SCORE = 3
THEME_MIN_DENSITY = 1 / 400  # occurrences per word: long texts need more than a mention
TITLE_WEIGHT = 3
DEPARTEMENT_MIN_SCORE = 2
MONTHS = {"janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
          "juillet": 7, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
          "decembre": 12}
# Names that are also common words: counted only with « département » nearby or a (code).
AMBIGUOUS = {"lot", "nord", "var", "cher", "manche", "somme", "vienne", "loire", "orne",
             "ain", "gers", "aube", "marne", "landes", "jura"}
DOC_TYPES = (  # first match wins: title first, then the start of the text
    ("circulaire", r"\bcirculaire\b"),
    ("fiche pratique", r"\bfiches? (pratique|methodologique|technique)|\bfiche\b"),
    ("guide", r"\bguide\b|\bkit\b|\bmode d.emploi\b|\blivret\b|\btutoriel\b|\bvade.mecum\b"),
    ("synthèse", r"\bsynthese\b"),
    ("état des lieux", r"\betat des lieux\b|\bdiagnostic\b"),
    ("compte rendu", r"\bcompte.rendu\b|\bactes\b|\bproces.verbal\b|\bretour sur\b"
                     r"|\breleve de decisions\b"),
    ("décision", r"\bdecision\b|\bavis n\b|\bdeliberation\b"),
    ("formulaire", r"\bcerfa\b|\bformulaire\b|\battestation\b|\bmandat\b"),
    ("programme", r"\bprogramme\b|\bappel a (projets|manifestation)\b"),
    ("texte réglementaire", r"\bdecret\b|\barrete\b|\bordonnance\b|\bloi n\b"),
    ("rapport", r"\brapport\b|\bbilan\b|\betude\b|\bevaluation\b|\barticle\b"),
)


@dataclass(frozen=True)
class Enrichment:
    title: str | None
    themes: tuple[str, ...]
    departements: tuple[str, ...]
    doc_type: str
    published: str | None
    language: str


def _stems(text: str) -> list[str]:
    return [french.stem(w) for w in french.words(text) if w not in french.stop_words()]


@cache
def _theme_phrases() -> dict[str, list[tuple[str, ...]]]:
    data = json.loads((CONFIG_DIR / "themes.json").read_text(encoding="utf-8"))
    data.pop("_comment", None)
    return {theme: [tuple(_stems(p)) for p in phrases if _stems(p)]
            for theme, phrases in data.items()}


def theme_for_category(category: str) -> str | None:
    """An article category as a theme of the taxonomy: « Santé » → « santé »,
    « Conseils citoyens » → « conseils citoyens »; a category the taxonomy does not know
    stays as it is (lower case), like the crawler's own mapping."""
    name = " ".join(category.split()).lower()
    if not name:
        return None
    phrases = _theme_phrases()
    by_key = {french.fold(t): t for t in phrases}
    if french.fold(name) in by_key:
        return by_key[french.fold(name)]
    stems = _ngrams(_stems(name))
    hits = [t for t, ps in phrases.items() if any(stems[p] for p in ps)]
    return hits[0] if len(hits) == 1 else name


def _ngrams(stems: list[str], longest: int = 6) -> Counter[tuple[str, ...]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for n in range(1, longest + 1):
        counts.update(tuple(stems[i:i + n]) for i in range(len(stems) - n + 1))
    return counts


def themes(title: str, text: str, given: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Themes whose words occur often enough (title words count triple), best first."""
    stems = _stems(text)
    body, head = _ngrams(stems), _ngrams(_stems(title))
    needed = max(THEME_MIN_SCORE, THEME_MIN_DENSITY * len(stems))
    scores = {}
    for theme, phrases in _theme_phrases().items():
        score = sum(body[p] + TITLE_WEIGHT * head[p] for p in phrases)
        if score >= needed or any(head[p] for p in phrases):
            scores[theme] = score
    best = sorted(scores, key=lambda t: -scores[t])[:MAX_THEMES]
    return tuple(dict.fromkeys([*given, *best]))


# -- places ---------------------------------------------------------------------------------


def _place_key(name: str) -> str:
    return " ".join(french.words(name))


@cache
def _places() -> tuple[dict[str, str], int]:
    """Folded place name → département code (département names, prefectures, communes)."""
    names: dict[str, set[str]] = {}
    for code, dep in departements().items():
        names.setdefault(_place_key(dep.name), set()).add(code)
        names.setdefault(_place_key(dep.prefecture), set()).add(code)
    communes = json.loads((CONFIG_DIR / "communes.json").read_text(encoding="utf-8"))
    communes.pop("_comment", None)
    for code, cities in communes.items():
        for city in cities:
            names.setdefault(_place_key(city), set()).add(code)
    # A name shared by two départements (Saint-Denis) says nothing.
    unique = {name: next(iter(codes)) for name, codes in names.items() if len(codes) == 1}
    return unique, max(len(n.split()) for n in unique)


_TOKEN = re.compile(r"[^\W_]+")
_CONTEXT = re.compile(r"(departement|dept|dpt)s?\s+(du|de la|de l|des|de)?\s*$")


def departement_mentions(text: str) -> Counter[str]:
    """Mentions of each département: names and communes (capitalised), « (34) » codes."""
    places, longest = _places()
    counts: Counter[str] = Counter()
    tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(text)]
    folded = [french.fold_word(t) for _, t in tokens]
    i = 0
    while i < len(tokens):
        if not tokens[i][1][:1].isupper():
            i += 1
            continue
        for size in range(min(longest, len(tokens) - i), 0, -1):
            key = " ".join(folded[i:i + size])
            code = places.get(key)
            if code is None:
                continue
            end = tokens[i + size - 1][0] + len(tokens[i + size - 1][1])
            after = text[end:end + 6]
            if key in AMBIGUOUS:
                before = french.fold(text[max(0, tokens[i][0] - 20):tokens[i][0]])
                if not (_CONTEXT.search(before) or re.match(r"\s*\(\d", after)):
                    break
            counts[code] += 1
            i += size - 1
            break
        i += 1
    for match in re.finditer(r"\((\d{2}|2[AB]|97\d)\)", text):
        if match.group(1) in departements():
            counts[match.group(1)] += 1
    return counts


def places(title: str, text: str, given: tuple[str, ...] = ()) -> tuple[str, ...]:
    counts = departement_mentions(text)
    for code, n in departement_mentions(title).items():
        counts[code] += DEPARTEMENT_MIN_SCORE * n
    found = [code for code, n in counts.most_common() if n >= DEPARTEMENT_MIN_SCORE]
    return tuple(dict.fromkeys([*given, *found]))


# -- type, date, language, title ------------------------------------------------------------


def doc_type(title: str, text: str, media_type: str | None = None) -> str:
    if media_type == "text/html":
        return "article"
    for source in (french.fold(title), french.fold(text[:600])):
        for name, pattern in DOC_TYPES:
            if re.search(pattern, source):
                return name
    return "document"


_DATE_LONG = re.compile(r"\b(\d{1,2})(?:er)?\s+(" + "|".join(MONTHS) + r")\s+((?:19|20)\d{2})\b")
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b")


def find_date(text: str) -> str | None:
    """The first plausible date written in the text: « 5 février 2021 », « 05/02/2021 »."""
    folded = french.fold(text)
    candidates = []
    for match in _DATE_LONG.finditer(folded):
        candidates.append((match.start(), int(match.group(3)), MONTHS[match.group(2)],
                           int(match.group(1))))
    for match in _DATE_NUMERIC.finditer(folded):
        candidates.append((match.start(), int(match.group(3)), int(match.group(2)),
                           int(match.group(1))))
    for _, year, month, day in sorted(candidates):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if date(1990, 1, 1) <= found <= date.today():
            return found.isoformat()
    return None


def plausible(value: str | None) -> str | None:
    """A date from the source or the file, parsed at the edge; never in the future."""
    found = parse_date(value)
    return found if found and found <= date.today().isoformat() else None


_EN = {"the", "and", "of", "to", "is", "for", "with", "that", "this", "are"}
_FR = {"le", "la", "les", "et", "des", "du", "est", "pour", "dans", "une", "que", "qui"}


def language(text: str) -> str:
    sample = text[:20_000]
    letters = [ch for ch in sample if ch.isalpha()]
    if not letters:
        return "und"
    if sum("\u0600" <= ch <= "\u06ff" for ch in letters) / len(letters) > 0.5:
        return "ar"
    words = re.findall(r"[a-zà-ÿ]+", sample.lower())
    fr, en = sum(w in _FR for w in words), sum(w in _EN for w in words)
    if fr == en == 0:
        return "und"
    return "fr" if fr >= en else "en"


def enrich(title: str, first_page: str, text: str, media_type: str | None,
           given_themes: tuple[str, ...] = (), given_departements: tuple[str, ...] = (),
           published: str | None = None, file_date: str | None = None,
           article_date: str | None = None) -> Enrichment:
    """Everything at once, for one document, from its chosen title (ingest/titles.py: never
    a link text, so a link text decides no type). Values from the source win over guesses;
    a file without a date takes its article's."""
    deps = places(title, text, given_departements)
    return Enrichment(
        title=title,
        themes=themes(title, text, given_themes),
        departements=deps,
        doc_type=doc_type(title, first_page, media_type),
        published=(plausible(published) or plausible(file_date) or find_date(first_page)
                   or plausible(article_date)),
        language=language(text),
    )
