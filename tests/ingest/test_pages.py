"""A passage says the page where it starts and knows where each later page starts inside
it; its heading is the heading in force where it starts (issue 13 « Right pages »)."""

from __future__ import annotations

from pathlib import Path

from ingest.document import build
from ingest.extract import Limits, extract
from replica.pdf import Section, make_pdf
from tests import pdfs

FILLER = ("Les conseillers citoyens ont échangé avec les habitants du quartier sur les "
          "projets de rénovation et les actions du contrat de ville. ")



def _passages(tmp_path: Path, data: bytes):
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    extracted = extract(path, "application/pdf", Limits(ocr=False))
    return build(pdfs.pending_document(path), extracted).passages


def test_words_only_on_page_two_say_page_two(tmp_path: Path) -> None:
    page1 = "Rapport annuel des conseils citoyens\n" + "\n".join([FILLER] * 20)
    page2 = "Annexe\n" + "\n".join(["Le xylographe ornithorynque du conseil. " + FILLER] * 14)
    passages = _passages(tmp_path, pdfs.text_pdf([page1, page2]))
    for p in passages:
        offset = p.text.find("xylographe")
        while offset != -1:
            assert p.page_at(offset) == 2, (p.page, p.page_breaks)
            offset = p.text.find("xylographe", offset + 1)
        if p.text.startswith("Le xylographe"):
            assert p.page == 2
    assert any("xylographe" in p.text for p in passages)
    assert passages[0].page == 1
    assert passages[-1].page_at(len(passages[-1].text) - 1) == 2
    # a passage whose own text is page 2's (after the sentence carried over) says page 2
    assert [p.page for p in passages if p.page_at(len(p.text) - 1) == 2][-1] == 2


def test_the_replica_pdf_pages_and_headings(tmp_path: Path) -> None:
    """The demo's documents: « 4. Chiffres clés » and « 5. Recommandations » are on page 2;
    a passage starting at « 1. Introduction » is headed by it."""
    long = ("Les participants ont identifié des pistes d'action concrètes : mieux informer "
            "les habitants, faciliter l'accès aux droits et soutenir les initiatives locales.")
    sections = [Section("1. Introduction", ("Ce document porte sur la santé.",)),
                Section("2. Méthode", (long,) * 6), Section("3. Enseignements", (long,) * 6),
                Section("4. Chiffres clés", ("Le tableau ci-dessous résume la participation.",)),
                Section("5. Recommandations", (long.replace("Les participants", "Le groupe"),)
                        * 3)]
    passages = _passages(tmp_path, make_pdf("Dossier de la journée santé", sections))
    for p in passages:  # the heading in force where it starts, not the last one inside
        start = p.text[:40]
        if "2. Méthode" not in p.text[:200] and "Les participants" in start:
            assert p.heading in ("2. Méthode", "3. Enseignements"), p.heading
    for p in passages:
        for marker in ("Chiffres clés", "Le groupe"):
            offset = p.text.find(marker)
            if offset != -1:
                assert p.page_at(offset) == 2, (marker, p.page, p.page_breaks, p.text[:80])
        if p.text.startswith("4. Chiffres clés"):
            assert p.heading == "4. Chiffres clés" and p.page == 2
    assert passages[-1].page_at(len(passages[-1].text) - 1) == 2
