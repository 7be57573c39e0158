"""fonds eval on a small BEIR set made here, and its metrics on known rankings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fonds.app.evaluation import metrics
from fonds.catalog import Catalog
from tests.conftest import Fonds


def test_metrics_on_known_rankings() -> None:
    relevant = {"a": 1}
    assert metrics(["a", "b"], relevant) == {"ndcg@10": 1.0, "recall@10": 1.0,
                                             "mrr@10": 1.0, "recall@1": 1.0}
    second = metrics(["b", "a"], relevant)
    assert second["mrr@10"] == 0.5 and second["recall@1"] == 0.0
    assert second["ndcg@10"] == pytest.approx(1 / 1.584962500721156)
    assert metrics(["x"] * 10 + ["a"], relevant)["recall@10"] == 0.0


def write_set(folder: Path) -> tuple[Path, Path, Path]:
    docs = {"d1": "La médiation familiale aide les parents séparés à s'entendre.",
            "d2": "Le permis de conduire se demande en ligne auprès de l'ANTS.",
            "d3": "Le revenu de solidarité active est versé par la CAF."}
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"_id": k, "title": "", "text": v},
                                         ensure_ascii=False) + "\n" for k, v in docs.items()),
                      encoding="utf-8")
    queries = folder / "queries.jsonl"
    queries.write_text("".join(json.dumps({"_id": q, "text": t}, ensure_ascii=False) + "\n"
                               for q, t in [("q1", "Qu'est-ce que la médiation familiale ?"),
                                            ("q2", "Comment obtenir son permis de conduire ?"),
                                            ("q3", "Qui verse le RSA ?")]), encoding="utf-8")
    qrels = folder / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n",
                     encoding="utf-8")
    return corpus, queries, qrels


def test_eval_keyword_against_bm25(fonds: Fonds, tmp_path: Path, monkeypatch) -> None:
    corpus, queries, qrels = write_set(tmp_path)
    monkeypatch.setenv("FONDS_EMBEDDER", "none")
    result = fonds("eval", "--corpus", str(corpus), "--queries", str(queries), "--qrels",
                   str(qrels), "--modes", "keyword", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["documents"] == 3 and report["queries"] == 3
    assert set(report["results"]) == {"bm25", "keyword"}
    assert report["results"]["keyword"]["recall@1"] == 1.0  # RSA → revenu de solidarité active
    assert report["results"]["bm25"]["recall@10"] == 1.0
    assert report["per_query"][0]["first_relevant"]["keyword"] == 1


def test_eval_bad_input(fonds: Fonds, tmp_path: Path) -> None:
    result = fonds("eval", "--corpus", str(tmp_path / "absent.jsonl"), "--queries", "q",
                   "--qrels", "r")
    assert result.exit_code == 1 and "fichier introuvable" in result.output
    corpus, queries, qrels = write_set(tmp_path)
    result = fonds("eval", "--corpus", str(corpus), "--queries", str(queries), "--qrels",
                   str(qrels), "--modes", "magique")
    assert result.exit_code == 1 and "modes invalides" in result.output


def test_reuse_searches_the_last_scratch_archive(fonds: Fonds, tmp_path: Path,
                                                  monkeypatch) -> None:
    corpus, queries, qrels = write_set(tmp_path)
    monkeypatch.setenv("FONDS_EMBEDDER", "none")
    work = tmp_path / "scratch"
    args = ["eval", "--corpus", str(corpus), "--queries", str(queries), "--qrels", str(qrels),
            "--modes", "keyword", "--json", "--work-dir", str(work)]
    first = json.loads((r := fonds(*args)).output[r.output.index("{"):])
    again = json.loads((r := fonds(*args, "--reuse")).output[r.output.index("{"):])
    assert again["results"] == first["results"]
    with Catalog(work / "catalog.sqlite") as catalog:  # no second import or ingest run
        kinds = [str(run.kind) for run in catalog.runs()]
    assert kinds.count("ingest") == 1 and kinds.count("import") == 1
    fonds(*args)  # without --reuse: a fresh scratch archive
    with Catalog(work / "catalog.sqlite") as catalog:
        assert [str(run.kind) for run in catalog.runs()].count("ingest") == 1


@pytest.mark.parametrize(("name", "content", "message"), [
    ("queries.jsonl", '{"_id": "q1", "text": "ok"}\n{not json\n', "ligne 2"),
    ("queries.jsonl", '{"_id": "q1"}\n', "ligne 1"),
    ("queries.jsonl", "", "aucune requête"),
    ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\tbeaucoup\n", "ligne 2"),
    ("qrels.tsv", "q1\td1\t1\nq2 d2 1\n", "ligne 2"),
    ("qrels.tsv", "query-id\tcorpus-id\tscore\n", "aucun jugement"),
])
def test_malformed_eval_files_are_one_located_line(tmp_path: Path, fonds: Fonds, name: str,
                                                   content: str, message: str) -> None:
    corpus, queries, qrels = write_set(tmp_path)
    (tmp_path / name).write_text(content, encoding="utf-8")
    result = fonds("eval", "--corpus", str(corpus), "--queries", str(queries), "--qrels",
                   str(qrels), "--work-dir", str(tmp_path / "work"))
    assert result.exit_code == 1, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "work").exists()  # refused before any import
