from __future__ import annotations

import re

from ingest.chunk import MAX_WORDS, chunk, is_heading

SENTENCE = ("Les conseils citoyens de l'Hérault se sont réunis à Lodève pour parler de santé "
            "et de contrats de ville avec les services de l'État.")


def pages(n_pages: int = 4, sentences: int = 30) -> list[tuple[int, str]]:
    out = []
    for page in range(1, n_pages + 1):
        body = "\n".join(f"{SENTENCE} Phrase {page}.{i}." for i in range(sentences))
        out.append((page, f"{page}. Partie numéro {page}\n{body}"))
    return out


def test_sizes_pages_and_headings() -> None:
    chunks = chunk(pages())
    sizes = [c.words for c in chunks]
    assert all(sizes[i] >= 150 for i in range(len(sizes) - 1)), sizes
    assert all(s <= MAX_WORDS + 50 for s in sizes), sizes
    assert [c.page for c in chunks] == sorted(c.page for c in chunks)
    assert chunks[0].page == 1 and chunks[-1].page == 4
    assert chunks[0].heading == "1. Partie numéro 1"
    assert chunks[-1].heading == "4. Partie numéro 4"


def test_never_cuts_a_word_and_loses_nothing() -> None:
    source = pages()
    text = " ".join(t for _, t in source)
    words = set(re.findall(r"\S+", text))
    chunks = chunk(source)
    for c in chunks:
        assert set(c.text.split()) <= words
    covered = " ".join(c.text for c in chunks)
    for i in range(30):
        assert f"Phrase 4.{i}." in covered and f"Phrase 1.{i}." in covered


def test_neighbours_overlap_by_a_short_sentence() -> None:
    chunks = chunk(pages())
    for left, right in zip(chunks, chunks[1:], strict=False):
        last = left.text.rsplit(". ", 1)[-1]
        assert right.text.startswith(last) or right.heading != left.heading


def test_stable_positions() -> None:
    assert chunk(pages()) == chunk(pages())


def test_a_huge_sentence_is_split_without_cutting_words() -> None:
    words = [f"mot{i}" for i in range(1200)]
    chunks = chunk([(1, " ".join(words))])
    assert all(c.words <= MAX_WORDS for c in chunks)
    assert " ".join(c.text for c in chunks).split()[:10] == words[:10]
    assert {w for c in chunks for w in c.text.split()} == set(words)


def test_short_document_is_one_passage() -> None:
    (only,) = chunk([(1, "Compte rendu du conseil citoyen.")])
    assert only.text == "Compte rendu du conseil citoyen." and only.position == 0


def test_heading_detection() -> None:
    assert is_heading("2.1 Le cadre juridique", "Le texte suit.")
    assert is_heading("SYNTHÈSE DES ÉCHANGES", "Les participants")
    assert not is_heading("Les participants ont échangé sur la santé.", "Puis")


def test_heading_in_force_where_the_passage_starts_and_page_breaks() -> None:
    chunks = chunk(pages(n_pages=3, sentences=12))
    assert len({c.page for c in chunks}) == 3
    for c in chunks:  # each page opens with its heading: the one in force at the start
        assert c.heading == f"{c.page}. Partie numéro {c.page}", (c.heading, c.text[:60])
        for offset, page in c.page_breaks:
            if offset == 0:  # the sentence carried over from the previous page
                assert page == c.page - 1 and c.page_at(0) == page
            else:
                assert c.text[offset:].startswith(f"{page}. Partie numéro {page}")
    assert any(c.page_breaks for c in chunks)
