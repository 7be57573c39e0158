"""What the test site publishes: posts from the seed category page, real PDFs, a page.

Pure data and pure functions (no server): the seed page's items become posts whose
document links carry the seed's own generic link texts (« Accéder au document »,
« En savoir plus »...), so a crawler that titles a PDF by its link text shows it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

CATEGORIES = ("Participation des habitants", "Santé", "Inclusion numérique", "Discriminations")
# WordPress's sanitize_title of the names above (accents removed, lower case, dashes).
SLUGS = {"Participation des habitants": "participation-des-habitants", "Santé": "sante",
         "Inclusion numérique": "inclusion-numerique", "Discriminations": "discriminations"}
DEAD = "dead"  # a document link to a PDF URL that answers 404


@dataclass(frozen=True)
class Link:
    text: str
    target: str  # a PDF file name of ../shared/corpus/pdfs, or DEAD


@dataclass(frozen=True)
class Draft:
    """A post or page before WordPress has it: what the content script is sent."""

    title: str
    paragraphs: tuple[str, ...]
    categories: tuple[str, ...]  # names from CATEGORIES
    date: str  # "YYYY-MM-DD HH:MM:SS", site time
    links: tuple[Link, ...] = ()
    inline: tuple[tuple[str, Link], ...] = field(default=())  # (phrase in a paragraph, link)
    kind: str = "post"

    @property
    def all_links(self) -> tuple[Link, ...]:
        """Inline links first, as they come first in the rendered post."""
        return (*(link for _, link in self.inline), *self.links)


# Seed item → (title, thematic category, date, link targets in the order of its link texts).
# Targets are small text-layer PDFs so a crawl + ingest stays quick.
SEED_ITEMS = (
    ("Inclusion numérique : une circulaire précise le volet du plan de relance",
     "Inclusion numérique", "2021-02-08 10:00:00", ("jorf_decret-2016-1036-redevances.pdf",)),
    ("Tiers-lieux : le 5e volet de l’AMI Fabriques de territoire est ouvert",
     "Inclusion numérique", "2020-12-01 09:30:00", (DEAD,)),
    ("Le test de discrimination, une méthodologie à respecter", "Discriminations",
     "2020-10-15 14:00:00", ("ddd_decision-LCD-2011-63.pdf",)),
    ("La santé dans les contrats de ville : retour sur la journée de Lodève", "Santé",
     "2019-11-20 11:00:00", ("cerfa-13878-01_mdph.pdf",)),
    ("Mettre en réseau les conseils citoyens du Gard", "Participation des habitants",
     "2019-10-20 16:00:00", ("regardscitoyens_proces-verbal-assemblee-2018.pdf",)),
    ("4e rencontres territoriales des conseils citoyens de l’Hérault",
     "Participation des habitants", "2019-10-07 10:00:00",
     ("conseil-constitutionnel_contributions-2017-749-DC.pdf", "cada_avis-20172386.pdf")),
    ("Guide des bonnes pratiques des conseils citoyens de l’Hérault",
     "Participation des habitants", "2019-03-01 10:00:00",
     ("anct-aidantsconnect_elements-juridiques-2024.pdf",)),
    ("Rencontres territoriales des conseils citoyens : le compte rendu",
     "Participation des habitants", "2018-11-20 10:00:00",
     ("regardscitoyens_proces-verbal-ca-2017.pdf",)),
    ("Conseils citoyens : le rapport de la CNDP", "Participation des habitants",
     "2018-10-01 10:00:00", ("ddd_reglement-concours-grands-droits.pdf",
                             "etalab_guide-juridique-donnees-a-ouvrir.pdf")),
)
# The santé item of the seed links a mini site, not a file: the test site gives it one.
SANTE_LINK_TEXT = "Version imprimable"
INLINE_LINK_TEXT = "voir le programme"

# More posts so listings paginate (10 a page) and every category has several; three of
# them link PDFs, one links a PDF already linked from an « Inclusion numérique » post.
NEWS = (
    ("Inclusion numérique", "Des fiches pratiques pour les agents France Services",
     Link("En savoir plus", "anct-franceservices_administration-plus_fiche-pratique-agent.pdf")),
    ("Inclusion numérique", "Les conditions d’utilisation d’Administration+",
     Link("Télécharger", "administration-plus_cgu-2019.pdf")),
    ("Discriminations", "Une décision du Défenseur des droits sur le logement",
     Link("Accéder au document", "ddd_decision-MLD-2014-005.pdf")),
    ("Participation des habitants", "Le décret sur les redevances expliqué aux conseils citoyens",
     Link("rapport", "jorf_decret-2016-1036-redevances.pdf")),
)
NEWS_THEMES = ("Santé", "Discriminations", "Inclusion numérique", "Participation des habitants")
NEWS_COUNT = 17  # 9 seed items + 17 = 26 posts, as on the site of issue 12

PAGE = Draft(
    title="Ressources documentaires",
    paragraphs=("Le centre de ressources met à disposition des habitants et des professionnels "
                "un modèle de mandat pour accompagner une démarche administrative en ligne.",),
    categories=(), date="2018-09-01 10:00:00",
    links=(Link("Version imprimable", "anct-aidantsconnect_exemple-mandat.pdf"),), kind="page")


def seed_items(text: str) -> list[tuple[list[str], list[str]]]:
    """The seed page as (body paragraphs, link texts) items, in page order.

    A paragraph that is short and does not end a sentence is a link text; links end an
    item. « A l’occasion … » opens one too: the santé item before it links a mini site,
    which is not in the text. The page title and the toolbar line are not content."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()][1:]
    items: list[tuple[list[str], list[str]]] = [([], [])]
    for paragraph in paragraphs:
        if paragraph.startswith("Aller à la barre"):
            continue
        is_link = len(paragraph) < 80 and not paragraph.endswith(".") and "•" not in paragraph
        body, links = items[-1]
        if not is_link and (links or (paragraph.startswith("A l’occasion") and body)):
            items.append(([], []))
        if is_link:
            items[-1][1].append(paragraph)
        else:
            items[-1][0].append(paragraph)
    return [item for item in items if item[0]]


def seed_drafts(seed_text: str) -> list[Draft]:
    drafts = []
    for (body, link_texts), (title, theme, date, targets) in zip(
            seed_items(seed_text), SEED_ITEMS, strict=True):
        texts = link_texts or [SANTE_LINK_TEXT]
        inline: tuple[tuple[str, Link], ...] = ()
        if len(targets) > len(texts):  # the item's first link is inline in its text
            inline = ((INLINE_LINK_TEXT, Link(INLINE_LINK_TEXT, targets[0])),)
            targets = targets[1:]
        categories = tuple(dict.fromkeys(("Participation des habitants", theme)))
        drafts.append(Draft(title=title, paragraphs=tuple(body), categories=categories,
                            date=date, inline=inline,
                            links=tuple(Link(t, f) for t, f in zip(texts, targets, strict=True))))
    return drafts


def news_drafts(count: int, start: int = 1, year: int = 2022) -> list[Draft]:
    """`count` short posts « Lettre d'information n° k », themes in turn; the first ones
    (from `start` = 1) carry NEWS's titles and PDF links."""
    drafts = []
    for k in range(start, start + count):
        theme = NEWS_THEMES[k % len(NEWS_THEMES)]
        title = f"Lettre d’information n° {k} : l’actualité de la politique de la ville"
        links: tuple[Link, ...] = ()
        if k <= len(NEWS):
            theme, title, link = NEWS[k - 1]
            links = (link,)
        day = 1 + (k * 7) % 28
        month = 1 + (k // 4) % 12
        drafts.append(Draft(
            title=title, categories=(theme,), links=links,
            date=f"{year + k // 48}-{month:02d}-{day:02d} {8 + k % 10:02d}:{k % 60:02d}:00",
            paragraphs=(f"Numéro {k} de la lettre d’information du centre de ressources : "
                        f"les rendez-vous du mois, les appels à projets en cours et les "
                        f"publications récentes sur le thème « {theme} ».",
                        "Les conseils citoyens et les professionnels des quartiers prioritaires "
                        "y trouveront les dates des prochaines rencontres départementales.")))
    return drafts


def render(draft: Draft, urls: dict[str, str]) -> str:
    """The post's HTML as an editor's blocks would save it; `urls` maps targets to URLs."""
    parts = []
    for paragraph in draft.paragraphs:
        text = html.escape(paragraph, quote=False)
        for phrase, link in draft.inline:
            anchor = f'<a href="{html.escape(urls[link.target])}">{html.escape(phrase)}</a>'
            text = text.replace(html.escape(phrase), anchor, 1)
        if text.lstrip().startswith("•"):
            items = "".join(f"<li>{line.strip(' •')}</li>" for line in text.splitlines()
                            if line.strip())
            parts.append(f"<!-- wp:list -->\n<ul>{items}</ul>\n<!-- /wp:list -->")
        else:
            parts.append(f"<!-- wp:paragraph -->\n<p>{text}</p>\n<!-- /wp:paragraph -->")
    for link in draft.links:
        parts.append(f'<!-- wp:paragraph -->\n<p><a href="{html.escape(urls[link.target])}">'
                     f"{html.escape(link.text)}</a></p>\n<!-- /wp:paragraph -->")
    return "\n\n".join(parts)


def targets(drafts: list[Draft]) -> list[str]:
    """PDF file names the drafts link, each once, in order (DEAD excluded)."""
    names = [link.target for d in drafts for link in d.all_links]
    return [name for name in dict.fromkeys(names) if name != DEAD]

