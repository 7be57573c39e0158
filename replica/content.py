"""What the replica site publishes: articles of the seed page, with their documents.

French text written for the demo from the items of ../shared/seed (a politique-de-la-ville
resource centre's category page). Dates, categories and places are those of the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from replica.pdf import Section

CATEGORIES = {
    "participation-des-habitants": "Participation des habitants",
    "politique-de-la-ville": "Politique de la ville",
    "sante": "Santé",
    "inclusion-numerique": "Inclusion numérique",
    "discriminations": "Discriminations",
    "tiers-lieux": "Tiers-lieux",
}


@dataclass(frozen=True)
class Attachment:
    slug: str  # file name under wp-content/uploads/<year>/<month>/
    link_text: str
    title: str
    sections: tuple[Section, ...]
    official: bool = False  # published on the official site, linked from the article


@dataclass(frozen=True)
class Article:
    slug: str
    date: str
    title: str
    categories: tuple[str, ...]
    paragraphs: tuple[str, ...]
    attachments: tuple[Attachment, ...] = field(default=())

    def __post_init__(self) -> None:
        # A string where a tuple was meant would make one paragraph per character.
        if not isinstance(self.paragraphs, tuple):
            raise TypeError(f"{self.slug}: paragraphs must be a tuple of strings")


def _sections(topic: str, place: str, extra: tuple[str, ...] = ()) -> tuple[Section, ...]:
    """Several pages of plausible text around a topic, with a table."""
    intro = (f"Ce document porte sur {topic}. Il s'adresse aux conseillers citoyens, aux "
             f"délégués du préfet, aux équipes des contrats de ville et aux associations "
             f"de {place}. Il rassemble les enseignements des rencontres organisées par le "
             f"centre de ressources Villes et Territoires Occitanie.")
    method = ("La démarche a associé les habitants des quartiers prioritaires dès le "
              "diagnostic : ateliers, questionnaires, permanences sur les marchés et "
              "rencontres avec les services de l'État et des collectivités. Chaque étape a "
              "fait l'objet d'un compte rendu partagé avec les participants.")
    results = (f"Les participants ont identifié des pistes d'action concrètes sur {topic} : "
               "mieux informer les habitants, faciliter l'accès aux droits, soutenir les "
               "initiatives locales et renforcer la coordination entre les acteurs. Les "
               "conseils citoyens demandent à être associés au suivi des actions.")
    return (
        Section("1. Introduction", (intro, *extra)),
        Section("2. Méthode", (method,) * 3),
        Section("3. Enseignements", (results,) * 4),
        Section("4. Chiffres clés", ("Le tableau ci-dessous résume la participation.",),
                table=(("Territoire", "Participants", "Ateliers"),
                       (place, "120", "8"), ("Autres communes", "45", "3"))),
        Section("5. Recommandations", (results.replace("Les participants", "Le groupe"),) * 3),
    )


ARTICLES = (
    Article("circulaire-inclusion-numerique-plan-de-relance", "2021-02-08",
            "Inclusion numérique : la circulaire du volet du plan de relance",
            ("inclusion-numerique", "politique-de-la-ville"),
            ("Une circulaire publiée au Journal officiel du vendredi 5 février 2021 précise "
             "les modalités de déploiement du volet inclusion numérique du plan de relance, "
             "piloté par l'Agence nationale de la cohésion des territoires (ANCT).",
             "Le premier axe traite de la formation et du déploiement de 4 000 conseillers "
             "numériques France Services. Le second concerne des solutions innovantes "
             "d'accueil de proximité. Le troisième concerne l'outillage des aidants "
             "professionnels et la généralisation d'Aidants Connect."),
            (Attachment("circulaire-inclusion-numerique-2021.pdf", "Accéder à la circulaire",
                        "Circulaire relative au volet inclusion numérique du plan de relance",
                        _sections("l'inclusion numérique et les conseillers numériques",
                                  "la France entière")),)),
    Article("ami-fabriques-de-territoire", "2020-11-20",
            "Tiers-lieux : 5e vague de l'AMI Fabriques de territoire",
            ("tiers-lieux", "politique-de-la-ville"),
            ("Le 5e volet de l'appel à manifestation d'intérêt Fabriques de territoire est "
             "ouvert jusqu'au 30 décembre. Ces fabriques sont des lieux ressources : fablab, "
             "espaces partagés, inclusion numérique, friches artistiques.",
             "À ce jour, 170 fabriques situées hors des grands centres urbains et dans des "
             "quartiers prioritaires sont soutenues par le programme Nouveaux lieux, "
             "nouveaux liens de l'ANCT."),
            (Attachment("ami-fabriques-de-territoire.pdf", "En savoir plus",
                        "Appel à manifestation d'intérêt Fabriques de territoire",
                        _sections("les tiers-lieux et les fabriques de territoire",
                                  "l'Occitanie"), official=True),)),
    Article("fiche-pratique-test-de-discrimination", "2020-09-15",
            "Fiche pratique – Le test de discrimination, une méthodologie à respecter",
            ("discriminations",),
            ("Le Défenseur des droits a publié une fiche pratique intitulée « Le test de "
             "discrimination, une méthodologie à respecter », pour les personnes qui pensent "
             "avoir subi un refus discriminatoire.",
             "Un test de discrimination, ou testing, consiste à soumettre deux profils "
             "comparables pour une même demande, sauf pour le critère susceptible d'exposer "
             "aux discriminations : origine, handicap, âge, sexe."),
            (Attachment("fiche-test-de-discrimination.pdf", "Fiche pratique – Le test de "
                        "discrimination", "Fiche pratique : le test de discrimination",
                        _sections("le test de discrimination et la preuve devant le juge",
                                  "la France entière"), official=True),)),
    Article("journee-sante-conseils-citoyens-herault-lodeve", "2019-11-20",
            "Journée santé des conseils citoyens de l'Hérault à Lodève",
            ("sante", "participation-des-habitants"),
            ("Retour sur la journée de formation des conseils citoyens de l'Hérault sur le "
             "thème de la santé dans les contrats de ville, organisée à Lodève (34) le 6 "
             "novembre 2019.",
             "Un dossier récapitule les enseignements de cette journée et propose des repères "
             "pour les conseils citoyens qui souhaitent s'emparer de la thématique santé."),
            (Attachment("dossier-journee-sante-lodeve.pdf", "Accéder au dossier",
                        "Dossier de la journée santé des conseils citoyens de l'Hérault",
                        _sections("la santé dans les contrats de ville", "Lodève",
                                  ("La journée s'est tenue à Lodève, dans l'Hérault.",))),)),
    Article("outils-mise-en-reseau-conseils-citoyens-gard", "2019-10-30",
            "Guide « Les outils de votre mise en réseau » – conseils citoyens du Gard",
            ("participation-des-habitants",),
            ("Lors d'un séminaire dédié aux conseils citoyens du Gard, le 15 octobre 2019, "
             "Villes et Territoires a consacré un temps à la mise en réseau : pourquoi se "
             "mettre en réseau, que partager et comment ?",
             "Ce mode d'emploi propose un appui technique pour concrétiser la mise en réseau "
             "des conseils citoyens à l'échelle départementale, à Nîmes, Alès et Beaucaire."),
            (Attachment("guide-outils-mise-en-reseau-gard.pdf", "Guide « Les outils de votre "
                        "mise en réseau »", "Les outils de votre mise en réseau",
                        _sections("la mise en réseau des conseils citoyens", "Nîmes",
                                  ("Le séminaire a réuni les conseils citoyens du Gard.",))),)),
    Article("rencontres-territoriales-conseils-citoyens-herault-2019", "2019-10-10",
            "4e rencontres territoriales des conseils citoyens de l'Hérault",
            ("participation-des-habitants", "politique-de-la-ville"),
            ("À l'initiative de la Préfecture, la 4e édition des rencontres territoriales des "
             "conseils citoyens de l'Hérault s'est tenue le samedi 5 octobre à Montpellier.",
             "Les conseillers citoyens ont échangé sur le recueil de la parole des habitants, "
             "leur contribution au contrat de ville et l'égalité femmes-hommes."),
            (Attachment("programme-rencontres-herault-2019.pdf", "voir le programme",
                        "Programme des rencontres territoriales 2019",
                        _sections("les rencontres territoriales des conseils citoyens",
                                  "Montpellier")),)),
    Article("etat-des-lieux-2019-conseils-citoyens-est-occitanie", "2019-07-01",
            "État des lieux 2019 des conseils citoyens de l'Est Occitanie",
            ("participation-des-habitants",),
            ("Depuis leur mise en place en 2015, Villes et Territoires appuie les conseils "
             "citoyens par des rencontres départementales et des formations.",
             "Cette 3e édition rend compte de l'avancement de cette instance participative "
             "dans l'Aude, le Gard, l'Hérault et les Pyrénées-Orientales."),
            (Attachment("etat-des-lieux-2019-conseils-citoyens.pdf", "Lire l'état des lieux "
                        "2019", "État des lieux 2019 des conseils citoyens de l'Est Occitanie",
                        _sections("le fonctionnement des conseils citoyens", "Perpignan",
                                  ("Aude (11), Gard (30), Hérault (34) et Pyrénées-Orientales "
                                   "(66) sont concernés.",))),)),
    Article("guide-bonnes-pratiques-conseils-citoyens-herault", "2019-03-12",
            "Guide des bonnes pratiques des conseils citoyens de l'Hérault",
            ("participation-des-habitants",),
            ("Les troisièmes rencontres départementales des conseils citoyens de l'Hérault, "
             "organisées à Montpellier le 10 novembre 2018, ont fait ressortir la richesse "
             "des initiatives. Avec le soutien de la DDCS de l'Hérault, Villes et Territoires "
             "a réalisé ce guide des bonnes pratiques.",),
            (Attachment("guide-bonnes-pratiques-conseils-citoyens-herault.pdf",
                        "Accéder au guide", "Guide des bonnes pratiques des conseils citoyens",
                        _sections("les bonnes pratiques des conseils citoyens", "Béziers",
                                  ("Des exemples viennent de Montpellier, Béziers, Sète et "
                                   "Lunel.",))),)),
    Article("rencontres-territoriales-conseils-citoyens-herault-2018", "2018-11-20",
            "Rencontres territoriales des conseils citoyens de l'Hérault 2018",
            ("participation-des-habitants",),
            ("Les rencontres territoriales des conseils citoyens de l'Hérault se sont tenues "
             "à la faculté d'économie de Montpellier le samedi 10 novembre 2018.",
             "Les ateliers ont porté sur le fonctionnement d'un conseil citoyen, le lien avec "
             "les habitants et le rôle du conseil face aux enjeux du quartier."),
            (Attachment("compte-rendu-rencontres-herault-2018.pdf", "Accéder au document",
                        "Compte rendu des rencontres territoriales 2018",
                        _sections("le rôle des conseils citoyens dans les quartiers",
                                  "Montpellier")),)),
    Article("rapport-cndp-conseils-citoyens", "2019-01-16",
            "Rapport et synthèse de la CNDP sur les conseils citoyens",
            ("participation-des-habitants", "politique-de-la-ville"),
            ("Le 21 mars 2018, le ministère de la Cohésion des territoires a saisi la "
             "Commission nationale du débat public (CNDP) pour un rapport sur les conseils "
             "citoyens des quartiers prioritaires.",
             "Après 6 mois d'enquête, 258 acteurs rencontrés et 23 villes étudiées, la CNDP "
             "préconise 10 actions pour relancer ce dispositif."),
            (Attachment("rapport-cndp-conseils-citoyens.pdf", "Télécharger le rapport",
                        "Rapport de la CNDP sur les conseils citoyens",
                        _sections("la relance des conseils citoyens", "la France entière"),
                        official=True),
             Attachment("synthese-cndp-conseils-citoyens.pdf", "Télécharger la synthèse",
                        "Synthèse du rapport de la CNDP sur les conseils citoyens",
                        _sections("les dix actions proposées par la CNDP",
                                  "la France entière"), official=True))),
)
