"""A small French archive made for the conformance suite: each document covers a case."""

from __future__ import annotations

from dataclasses import dataclass

from fonds.engines.base import Passage


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    pages: tuple[str, ...]
    themes: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()
    doc_type: str = "guide"
    source: str = "villes-et-territoires"
    date: str | None = None


DOCS = (
    Doc("securite", "Sécurité et prévention de la délinquance dans les quartiers",
        ("La sécurité du quotidien est une priorité des contrats de ville.",
         "Le conseil local de sécurité et de prévention de la délinquance réunit les acteurs.",
         "Les médiateurs de nuit contribuent à la tranquillité publique et à la sécurité."),
        themes=("sécurité et prévention",), departements=("34",), doc_type="rapport",
        date="2019-11-06"),
    Doc("egalite", "Égalité femmes-hommes dans les contrats de ville",
        ("L'égalité entre les femmes et les hommes est un axe transversal des contrats de ville.",
         "Les conseils citoyens de Montpellier ont travaillé sur l'égalité femmes-hommes."),
        themes=("Égalité femmes-hommes", "politique de la ville"), departements=("34",),
        doc_type="compte rendu", date="2019-10-05"),
    Doc("numerique", "Circulaire relative au volet inclusion numérique du plan de relance",
        ("La circulaire précise le déploiement de 4 000 conseillers numériques France Services.",
         "Le numérique inclusif passe par des lieux de médiation numérique de proximité.",
         "Le service public numérique Aidants Connect outille les aidants professionnels."),
        themes=("inclusion numérique",), doc_type="circulaire", source="journal-officiel",
        date="2021-02-05"),
    Doc("habitat", "Guide de l'habitat participatif",
        ("L'habitat participatif permet aux habitants de concevoir ensemble leur logement.",),
        themes=("logement et cadre de vie", "l'habitat"), departements=("66",),
        date="2020-03-15"),
    Doc("discrimination", "Le test de discrimination, une méthodologie à respecter",
        ("Un test de discrimination consiste à soumettre deux profils comparables.",
         "La discrimination à l'embauche peut être prouvée par un testing rigoureux.",
         "Le Défenseur des droits peut ouvrir une enquête."),
        themes=("discriminations",), doc_type="fiche pratique", source="defenseur-des-droits",
        date="2020-06-01"),
    Doc("conseils", "État des lieux 2019 des conseils citoyens de l'Est Occitanie",
        ("Les conseils citoyens de l'Aude, du Gard, de l'Hérault et des Pyrénées-Orientales.",
         "Depuis 2015 les conseillers citoyens participent au pilotage des contrats de ville.",
         "Les conseils citoyens expriment le besoin d'une mise en réseau départementale."),
        themes=("participation des habitants", "conseils citoyens"),
        departements=("11", "30", "34", "66"), doc_type="état des lieux", date="2019-12-01"),
    Doc("qpv", "Les QPV en Occitanie",
        ("Les QPV bénéficient de crédits spécifiques de l'État.",
         "Les QPV forment la géographie prioritaire de la politique de la ville."),
        themes=("politique de la ville",), departements=("31",), doc_type="synthèse",
        date="2018-04-01"),
    Doc("cndp", "Rapport de la Commission nationale du débat public sur les conseils citoyens",
        ("La Commission nationale du débat public propose dix actions pour relancer le "
         "dispositif des conseils citoyens.",
         "Après six mois d'enquête, 258 acteurs rencontrés dont 119 conseillers citoyens."),
        themes=("participation des habitants",), doc_type="rapport", source="cndp",
        date="2019-01-15"),
    Doc("sante", "Journée santé des conseils citoyens de l'Hérault à Lodève",
        ("La santé dans les contrats de ville : repères pour les conseils citoyens.",
         "Une journée de formation organisée à Lodève le 6 novembre 2019."),
        themes=("santé", "conseils citoyens"), departements=("34",), doc_type="compte rendu",
        date="2019-11-06"),
    Doc("tiers-lieux", "Appel à manifestation d'intérêt Fabriques de territoire",
        ("Les fabriques de territoire sont des tiers-lieux ressources : fablab, espaces "
         "partagés, friches artistiques.",),
        themes=("tiers-lieux",), doc_type="programme", source="anct", date="2021-12-01"),
    Doc("proximite", "Note sur la ville et la politique",
        ("La ville a publié une note. Plus loin, bien plus loin dans ce texte, il est question "
         "de sport, de culture et de budget, puis enfin de politique générale.",),
        themes=("culture",), departements=("30",), doc_type="article", date="2017-05-05"),
    Doc("injection", "Note <script>alert('x')</script> & « guillemets »",
        ('Texte avec <b>balises</b>, des "guillemets" et une apostrophe d\'usage : sécurité.',),
        themes=('thème "entre guillemets"',), doc_type="article", source="test", date=None),
)


def passages(vectorize=None) -> list[Passage]:
    out = []
    for doc in DOCS:
        texts = list(doc.pages)
        vectors = vectorize([f"{doc.title}. {t}" for t in texts]) if vectorize else None
        for position, text in enumerate(texts):
            out.append(Passage(
                doc_id=doc.doc_id, passage_id=f"{doc.doc_id}:{position}", position=position,
                page=position + 1, title=doc.title, text=text,
                url=f"https://exemple.fr/{doc.doc_id}.pdf", source=doc.source,
                doc_type=doc.doc_type, themes=doc.themes, departements=doc.departements,
                date=doc.date, vector=None if vectors is None else vectors[position]))
    return out
