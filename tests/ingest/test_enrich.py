from __future__ import annotations

import pytest

from ingest.enrich import (
    departement_mentions,
    doc_type,
    enrich,
    find_date,
    language,
    places,
    themes,
)


def test_themes_from_words_and_title() -> None:
    text = ("Les conseils citoyens participent au contrat de ville. " * 3
            + "La santé des habitants. ")
    found = themes("Journée santé des conseils citoyens", text)
    assert found[0] == "conseils citoyens"
    assert "santé" in found  # once in the text, but in the title
    assert "tiers-lieux" not in found


def test_source_categories_come_first() -> None:
    assert themes("", "rien", given=("culture",)) == ("culture",)


@pytest.mark.parametrize(
    ("text", "codes"),
    [("Rencontre à Lodève, puis à Béziers et à Montpellier.", {"34"}),
     ("Le conseil citoyen de Nîmes (Gard) et l'Hérault (34).", {"30", "34"}),
     ("Les Pyrénées-Orientales et Perpignan.", {"66"}),
     ("Un lot de documents ; le Lot de mobilier ; la somme due.", set()),
     ("Dans le département du Lot, à Cahors.", {"46"}),
     ("Seine-Saint-Denis : Bobigny, Montreuil.", {"93"}),
     ("La Réunion, Saint-Pierre et Le Port.", {"974"})],
)
def test_departements(text: str, codes: set[str]) -> None:
    assert set(departement_mentions(text)) == codes


def test_a_single_passing_mention_is_not_enough() -> None:
    text = "Siège : 20 avenue de Ségur, Paris. " + "Les conseils citoyens se réunissent. " * 20
    assert places("Guide", text) == ()
    assert places("Rencontres de l'Hérault", text) == ("34",)


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Circulaire du 5 février 2021", "circulaire"), ("Guide des bonnes pratiques", "guide"),
     ("Fiche pratique – Le test de discrimination", "fiche pratique"),
     ("Synthèse du rapport", "synthèse"), ("État des lieux 2019", "état des lieux"),
     ("Compte rendu de la journée", "compte rendu"), ("Rapport de la CNDP", "rapport"),
     ("Décision MLD-2014-005", "décision"), ("Cerfa 13878", "formulaire"),
     ("Décret n° 2016-1036", "texte réglementaire"), ("Sans indice", "document")],
)
def test_doc_types(title: str, expected: str) -> None:
    assert doc_type(title, "") == expected


def test_dates() -> None:
    assert find_date("Avis n° 20172386 du 21 septembre 2017") == "2017-09-21"
    assert find_date("Fait le 05/02/2021 à Paris") == "2021-02-05"
    assert find_date("le 1er mars 2019") == "2019-03-01"
    assert find_date("le 31 février 2019 puis le 3 mars 2019") == "2019-03-03"
    assert find_date("en l'an 3021") is None


def test_language() -> None:
    assert language("Le conseil citoyen et les habitants de la ville.") == "fr"
    assert language("The council and the residents of the city.") == "en"
    assert language("مرحبا بكم في الموقع") == "ar"


def test_enrich_prefers_the_source_values() -> None:
    found = enrich(title="Guide des conseils citoyens",
                   first_page="Villes et Territoires", text="Lodève, Lodève, Béziers.",
                   media_type="application/pdf", published="2019-11-06",
                   file_date="2021-01-01")
    assert found.title == "Guide des conseils citoyens"
    assert found.published == "2019-11-06"
    assert found.departements == ("34",)
    assert found.doc_type == "guide"


def test_a_file_without_a_date_takes_its_articles() -> None:
    found = enrich(title="Guide", first_page="Sans date", text="Sans date.",
                   media_type="application/pdf", article_date="2019-03-12")
    assert found.published == "2019-03-12"
    found = enrich(title="Guide", first_page="Sans date", text="Sans date.",
                   media_type="application/pdf", file_date="2018-01-02",
                   article_date="2019-03-12")
    assert found.published == "2018-01-02"


@pytest.mark.parametrize(("category", "theme"), [
    ("Santé", "santé"), ("Conseils citoyens", "conseils citoyens"),
    ("Inclusion numérique", "inclusion numérique"), ("Tiers-lieux", "tiers-lieux"),
    ("Vie associative", "vie associative")])
def test_article_categories_map_to_the_taxonomy(category: str, theme: str) -> None:
    from ingest.enrich import theme_for_category

    assert theme_for_category(category) == theme
