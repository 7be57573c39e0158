"""The one title rule (ingest/titles.py): what is never a title, and the order of the
candidates. The demo and the real corpus are checked in tests/ingest/test_real_titles.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fonds import media
from fonds.models import Link
from ingest.titles import (
    Origin,
    choose_title,
    generic_link_texts,
    is_all_caps,
    is_generic,
    plausible,
    sentence_case,
)


@pytest.mark.parametrize("candidate", [
    "aidantsconnecttutoriel", "Document1.docx", "untitled", "Pair à pair_AidantsConnect",
    "Microsoft Word - doc1.docx", "AC-Affiche2024-CharteReferent.indd", "gevasco_1redemande",
    "CertificatHabilitationAidantsConnectVide", "circulaire", "Rapport", "Accéder au document",
    "voir le programme", "En savoir plus", "Version imprimable", "télécharger", "ici", "PDF",
    "Télécharger le rapport", "Rapport 2019 (PDF, 2 Mo)", "pour comprendre les enjeux",
    "c’est :", "C ada", "12/05/2019", "Page 3", "Paris, le 11 mai 2018",
    "1. Le Service Administration +", "Parcours de scolarisation @..-)8 G9’06,786*7’.",
    "Je vais vivre avec ma mère. Mais quand elle m’a dit qu’on allait déménager"])
def test_never_a_title(candidate: str) -> None:
    assert plausible(candidate) is None


@pytest.mark.parametrize(("candidate", "title"), [
    ("Identifier les données à ouvrir", "Identifier les données à ouvrir"),
    ("CHOISIR SA PLATFORME DE CONSULTATION", "Choisir sa platforme de consultation"),
    ("LE DÉPÔT D’UN DOSSIER DE SURENDETTEMENT", "Le dépôt d’un dossier de surendettement"),
    ("RAPPORT DE LA CNDP SUR LES CONSEILS CITOYENS",
     "Rapport de la CNDP sur les conseils citoyens"),
    ("Microsoft Word - Guide des conseils citoyens", "Guide des conseils citoyens"),
    ("  Guide\x1b des\tconseils\x07 ", "Guide des conseils")])
def test_titles_are_tidied(candidate: str, title: str) -> None:
    assert plausible(candidate) == title


def test_every_generic_link_text_is_generic() -> None:
    assert len(generic_link_texts()) >= 20
    for text in ("Accéder au document", "voir le programme", "En savoir plus", "circulaire",
                 "rapport", "Version imprimable", "télécharger", "ici", "PDF",
                 "Accéder à la circulaire", "Télécharger la synthèse"):
        assert is_generic(text), text
    assert not is_generic("Guide des bonnes pratiques des conseils citoyens")


def _title(**kw: object) -> tuple[str, Origin]:
    options: dict = {"media_type": media.PDF, "source_title": None, "file_title": None,
                     "file_name": "x.pdf"} | kw
    found = choose_title(**options)
    return found.text, found.origin


def test_the_order_of_candidates() -> None:
    link = Link("https://site/a", "Rencontres territoriales 2018", "Accéder au document")
    assert _title(file_title="Guide des bonnes pratiques", headings=("Autre chose ici",),
                  links=[link]) == ("Guide des bonnes pratiques", Origin.METADATA)
    assert _title(file_title="Microsoft Word - doc1.docx",
                  headings=("c’est :", "Bilan de l’expérimentation"), links=[link]
                  ) == ("Bilan de l’expérimentation", Origin.HEADING)
    assert _title(first_page="\nRapport annuel des maisons France services\nTexte.",
                  links=[link]) == ("Rapport annuel des maisons France services",
                                    Origin.HEADING)
    assert _title(links=[link]) == ("Accéder au document — Rencontres territoriales 2018",
                                    Origin.LINK)
    assert _title(links=[Link("u", "", "Le guide du référent numérique")]) == (
        "Le guide du référent numérique", Origin.LINK)
    assert _title(source_title="circulaire", file_name="anct_kit-aidants.pdf") == (
        "Anct kit aidants", Origin.FILE_NAME)


def test_a_metadata_title_that_lost_its_accents_yields_to_its_heading() -> None:
    assert _title(file_title="Certificat mdical", headings=("Certificat médical",)) == (
        "Certificat médical", Origin.METADATA)


def test_an_article_keeps_its_title() -> None:
    assert _title(media_type=media.HTML, source_title="Journée santé à Lodève",
                  file_title="Autre") == ("Journée santé à Lodève", Origin.SOURCE)
    assert _title(media_type=media.RECORD, source_title="LOI RELATIVE À LA VILLE") == (
        "Loi relative à la ville", Origin.SOURCE)


@given(st.text(max_size=400))
def test_any_candidate_gives_a_clean_bounded_title(candidate: str) -> None:
    text, _ = _title(file_title=candidate, headings=(candidate,), first_page=candidate,
                     links=[Link("u", candidate, candidate)])
    assert text and len(text) <= 260
    assert not any(ord(ch) < 32 or 0x7f <= ord(ch) < 0xa0 for ch in text)
    assert not is_generic(text)
    assert sentence_case(text) == text or not is_all_caps(text)
