from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from ingest.clean import (
    clean_pages,
    collapse_spaces,
    dehyphenate,
    is_garbage,
    join_letter_spacing,
    lacks_spaces,
    normalise,
    segment,
    strip_repeated_lines,
)


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def test_ligatures_and_odd_spaces() -> None:
    assert collapse_spaces(normalise("simpliﬁer\t\r\xa0les ﬂux")) == "simplifier les flux"
    assert normalise("Nom ………………… Prénom . . . . . . . fin") == "Nom … Prénom … fin"


def test_dehyphenation_keeps_real_hyphens() -> None:
    assert dehyphenate("inter-\nnational") == "international"
    assert dehyphenate("Pyrénées-\nOrientales") == "Pyrénées-\nOrientales"
    assert dehyphenate("auto‐\nmatisée".replace("‐", "-")) == "automatisée"


def test_letter_spacing_is_rejoined() -> None:
    assert join_letter_spacing("C O M M I S S I O N  D ’ A C C È S") == "COMMISSION  D’ACCÈS"
    assert join_letter_spacing("Il y a un an") == "Il y a un an"


def test_letter_spaced_heading_of_the_cada_pdf(corpus_pdfs: Path) -> None:
    first = clean_pages(pdf_pages(corpus_pdfs / "cada_avis-20172386.pdf"))[0]
    assert first.startswith("COMMISSION D’ACCÈS\nAUX DOCUMENTS ADMINISTRATIFS")


def test_words_without_spaces_are_split() -> None:
    assert segment("Expliquerlesalgorithmespublics") == "Expliquer les algorithmes publics"
    assert segment("Identifierlesdonnéesàouvrir") == "Identifier les données à ouvrir"


def test_the_etalab_guides_get_their_spaces_back(corpus_pdfs: Path) -> None:
    raw = pdf_pages(corpus_pdfs / "etalab_guide-expliquer-algorithmes-publics.pdf")
    assert lacks_spaces("\n".join(raw))
    text = "\n".join(clean_pages(raw))
    assert "Expliquer les algorithmes publics" in text
    assert "traitement automatisé" in text
    assert "Expliquerlesalgorithmespublics" not in text
    assert not lacks_spaces(text)


def test_normal_french_is_not_resegmented(corpus_pdfs: Path) -> None:
    raw = pdf_pages(corpus_pdfs / "ddd_decision-LCD-2011-63.pdf")
    assert not lacks_spaces("\n".join(raw))


def test_broken_glyph_maps_are_garbage(corpus_pdfs: Path) -> None:
    broken = pdf_pages(corpus_pdfs / "mdph_gevasco-premiere-demande_broken-encoding.pdf")
    assert all(is_garbage(normalise(p)) for p in broken)
    for name in ("cada_avis-20172386.pdf", "anct-aidantsconnect_mandat-traduit-arabe.pdf",
                 "cerfa-13878-01_mdph.pdf", "etalab_guide-juridique-donnees-a-ouvrir.pdf"):
        pages = pdf_pages(corpus_pdfs / name)
        assert not any(is_garbage(normalise(p)) for p in pages), name


def test_running_headers_footers_and_page_numbers_go() -> None:
    topics = ["la santé", "l'emploi", "le logement", "la culture", "la jeunesse"]
    pages = [f"Rapport annuel 2019\nCette page parle de {t}.\nEt de bien d'autres choses.\n"
             f"{n}\nVilles et Territoires Occitanie" for n, t in enumerate(topics, start=1)]
    cleaned = strip_repeated_lines(pages)
    for topic, page in zip(topics, cleaned, strict=True):
        assert page == f"Cette page parle de {topic}.\nEt de bien d'autres choses."


@pytest.mark.parametrize("text", ["", "Bonjour", "12 / 13"])
def test_small_inputs(text: str) -> None:
    assert isinstance(clean_pages([text]), list)
