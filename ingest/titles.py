"""A document's title: one rule, in one place (issue 13 « Real titles »).

In order: the article's title for an HTML page (and a record's own title); for a file,
its metadata title when plausible, then the first heading of its first page, then a
link text (« <link text> — <article title> » when the text is generic), then the file
name made readable. A title is never a generic link text, a type alone, a file name, a
fragment of a sentence or ALL CAPS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from fonds import french, media
from fonds.models import Link, readable_file_name
from fonds.values import clean_text
from index_config import DIR as CONFIG_DIR

MAX_TITLE = 200
MAX_WORDS = 25
# What software writes where a title should be.
_SOFTWARE = re.compile(r"^(microsoft (word|powerpoint|excel)|libreoffice|openoffice|"
                       r"adobe indesign|powerpoint)\s*[-–—:]\s*", re.I)
_DEFAULTS = {"untitled", "sans titre", "titre", "document", "diapositive 1", "presentation",
             "presentation powerpoint", "page 1", "new document", "nouveau document"}
_FILE_NAME = re.compile(r"\.(docx?|pdf|odt|ods|odp|pptx?|indd|xlsx?|rtf|txt|html?|jpe?g|png)"
                        r"\b", re.I)
_LINK_VERBS = re.compile(
    r"^(t[eé]l[eé]charger|acc[eé]der|consulter|lire|voir|ouvrir|d[eé]couvrir|retrouver|"
    r"cliquez|cliquer)\b\s*(ici|sur)?\s*(a|à|au|aux)?\s*(le |la |les |l'|l’|un |une |ce |"
    r"cette )?", re.I)
# Words that name a kind of document: alone, they are not a title.
TYPE_WORDS = {"circulaire", "rapport", "guide", "fiche", "fiche pratique", "synthese", "note",
              "etat des lieux", "compte rendu", "compte-rendu", "decision", "formulaire",
              "programme", "texte reglementaire", "document", "dossier", "annexe", "avis",
              "plaquette", "affiche", "diaporama", "presentation", "livret", "kit", "bilan",
              "etude", "article", "arrete", "decret", "lettre", "courrier", "charte",
              "support", "tutoriel", "mandat", "attestation", "cerfa", "flyer", "depliant",
              "brochure", "questionnaire", "convention", "deliberation", "communique",
              "communique de presse", "ordre du jour", "proces-verbal", "proces verbal"}
# Acronyms kept in capitals when an ALL CAPS title is put in sentence case.
_ACRONYMS = {"ANCT", "CNDP", "CADA", "MDPH", "DINSIC", "QPV", "DDCS", "DDETS", "DREETS",
             "EPCI", "CAF", "CCAS", "API", "RGPD", "UE", "PDF", "FAQ", "AECG", "DC", "ANRU",
             "CGET", "PNRU", "NPNRU", "ESS", "CRPV", "CESE", "CNIL", "INSEE", "ONPV", "CAP",
             "MLD", "LCD", "JO", "JORF", "IMPACT", "PMI", "ARS", "CPAM", "URSSAF", "RSA"}


def _key(text: str) -> str:
    """Compared without accents, case, quotes or final punctuation."""
    return " ".join(french.fold(text).replace("’", "'").strip(" .:;!?…»«\"'()").split())


@cache
def generic_link_texts() -> frozenset[str]:
    lines = (CONFIG_DIR / "generic_link_texts.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(_key(ln) for ln in lines if ln.strip() and not ln.startswith("#"))


def _core(text: str) -> str:
    """A link text without its verb: « Télécharger le rapport » → « rapport »."""
    return _key(_LINK_VERBS.sub("", text.strip()))


def is_generic(text: str) -> bool:
    """A link text (or a title) that says nothing of its document: « Accéder au document »,
    « voir le programme », « PDF », a type alone (« circulaire »), with or without its year
    or size (« Rapport 2019 (PDF, 2 Mo) »)."""
    key = _key(text)
    core = re.sub(r"\b(pdf|\d+([,.]\d+)? ?[km]?o|19\d\d|20\d\d)\b", " ",
                  _core(re.sub(r"\(.*?\)|\[.*?\]", " ", text)))
    core = " ".join(core.split()).strip(" -–—,")
    return (key in generic_link_texts() or _core(text) in generic_link_texts()
            or key in TYPE_WORDS or core in TYPE_WORDS or not core
            or core in generic_link_texts())


def is_file_name(text: str) -> bool:
    """« AC-Affiche2024-CharteReferent.indd », « gevasco_1redemande »,
    « aidantsconnecttutoriel »."""
    if _FILE_NAME.search(text) or "_" in text:
        return True
    words = text.split()
    if len(words) == 1 and (len(text) >= 12 or re.search(r"[a-z][A-Z]|\d[a-zA-Z]", text)):
        return True
    return bool(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+){2,}", text))


def is_fragment(text: str) -> bool:
    """The middle of a sentence: « pour comprendre les enjeux », « c’est : »."""
    first = text.lstrip("«\"“'( ")[:1]
    if first.isalpha() and first.islower():
        return True
    last = french.fold(text.split()[-1]).strip("'’") if text.split() else ""
    return text.rstrip().endswith((",", ":", ";", "-", "–")) or last in {
        "de", "du", "des", "la", "le", "les", "l", "d", "et", "ou", "a", "au", "aux", "en",
        "pour", "par", "sur", "avec", "dans", "un", "une", "qui", "que"}


def _is_caps(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def is_all_caps(text: str) -> bool:
    words = [w for w in text.split() if any(ch.isalpha() for ch in w)]
    caps = [w for w in words if _is_caps(w)]
    return bool(words) and len(caps) >= 2 and len(caps) >= 0.6 * len(words)


def sentence_case(text: str) -> str:
    """« CHOISIR SA PLATEFORME DE CONSULTATION » → « Choisir sa plateforme de consultation »,
    known acronyms kept (« ANCT »)."""
    if not is_all_caps(text):
        return text
    out = []
    for word in text.split():
        bare = re.sub(r"[^\w]", "", word)
        upper = any(ch.isalpha() for ch in word) and not any(ch.islower() for ch in word)
        out.append(word if bare in _ACRONYMS or not upper else word.lower())
    result = " ".join(out)
    return result[:1].upper() + result[1:]


def tidy(candidate: object) -> str | None:
    """A candidate cleaned: one line, software prefixes and quotes removed, sentence case."""
    text = clean_text(candidate, MAX_TITLE)
    if not text:
        return None
    text = _SOFTWARE.sub("", text).strip(" \"'«»“”-–—•·|:;,")
    return sentence_case(" ".join(text.split())) or None


def plausible(candidate: object) -> str | None:
    """A candidate worth showing as a file's title, tidied; None when it is not one."""
    text = tidy(candidate)
    if not text:
        return None
    words = text.split()
    letters = sum(ch.isalpha() for ch in text)
    if not 2 <= len(words) <= MAX_WORDS or letters < 0.55 * len(text.replace(" ", "")):
        return None
    if any(len(w) == 1 and w.isalpha() and w.lower() not in "àay" for w in words[:2]):
        return None  # a drop capital split from its word: « C ada »
    if _key(text) in _DEFAULTS or is_file_name(text) or is_generic(text) or is_fragment(text):
        return None
    if re.fullmatch(r"[\d\s/.,:-]+", text) or re.match(r"^(page|p\.)\s*\d+\b", _key(text)):
        return None
    if _NOT_TITLE.search(text) or _SECTION.match(text) or _DATELINE.match(_key(text)):
        return None
    return text


_NOT_TITLE = re.compile(r"[@*<>{}\[\]\\|^~#$%=]|[.!?]\s+[A-ZÀ-Ý]")  # garbage, sentences
_SECTION = re.compile(r"^\d{1,2}(\.\d{1,2})*[.)]\s")  # « 1. Le service »: a section
_DATELINE = re.compile(r"^([\w' -]+, )?le \d{1,2}(er)? \w+ \d{4}$")  # « Paris, le 11 mai 2018 »


def _repaired(meta: str, headings: Sequence[str]) -> str:
    """A metadata title that lost its accents (« Certificat mdical ») yields to the heading
    it was written from (« Certificat médical »)."""
    letters = [ch for ch in french.fold(meta) if ch.isalnum()]
    for heading in headings[:3]:
        target = iter(ch for ch in french.fold(heading) if ch.isalnum())
        if (len(heading) - len(meta)) in range(1, 4) and all(ch in target for ch in letters):
            return plausible(heading) or meta
    return meta


def title_from_text(text: str) -> str | None:
    """The first line of the first page that reads as a title (a line cut before « de la »
    continues on the next one)."""
    lines = [" ".join(ln.split()) for ln in text.split("\n")[:20]]
    for i, line in enumerate(lines):
        if not line:
            continue
        while (line.split() and _key(line.split()[-1]) in french.stop_words()
               and i + 1 < len(lines) and lines[i + 1]):
            i += 1
            line = f"{line} {lines[i]}"
        found = plausible(line)
        if found:
            return found
    return None


def _link_title(text: str, article_title: str) -> str | None:
    cleaned = tidy(text)
    if cleaned is None:
        return None
    article = tidy(article_title)
    if is_generic(cleaned):
        if not article or sum(ch.isalpha() for ch in article) < 3 or is_generic(article):
            return None
        if sum(ch.isalpha() for ch in cleaned) < 2:
            return article
        return f"{cleaned[:1].upper()}{cleaned[1:]} — {article}"
    return plausible(cleaned)


class Origin(StrEnum):
    SOURCE = "source"  # the article's or the record's own title
    METADATA = "metadata"  # the file's metadata title
    HEADING = "heading"  # the first page's heading
    LINK = "link"  # a link text, with its article's title when the text is generic
    FILE_NAME = "file_name"


@dataclass(frozen=True)
class Title:
    text: str
    origin: Origin

    @property
    def own(self) -> bool:
        """The document's own words (what a type may be guessed from)."""
        return self.origin not in (Origin.LINK, Origin.FILE_NAME)


def choose_title(*, media_type: str | None, source_title: str | None,
                 file_title: str | None, headings: Sequence[str] = (), first_page: str = "",
                 links: Iterable[Link] = (), link_texts: Iterable[str] = (),
                 file_name: str = "") -> Title:
    """The one title rule. `source_title` is what the source said (an article's title,
    a record's title; for a crawled file, a link text); `links` the articles linking it."""
    if media_type in (media.HTML, media.RECORD):
        found = tidy(source_title) or tidy(file_title)
        if found:
            return Title(found, Origin.SOURCE)
    else:
        found = plausible(file_title)
        if found:
            return Title(_repaired(found, headings), Origin.METADATA)
        for candidate in headings:
            found = plausible(candidate)
            if found:
                return Title(found, Origin.HEADING)
    found = title_from_text(first_page)
    if found:
        return Title(found, Origin.HEADING)
    for link in links:
        found = _link_title(link.link_text, link.article_title)
        if found:
            return Title(found, Origin.LINK)
    for text in (*link_texts, source_title or ""):
        found = _link_title(text, "")
        if found:
            return Title(found, Origin.LINK)
    name = readable_file_name(file_name) if file_name else "Document sans titre"
    return Title(name, Origin.FILE_NAME)
