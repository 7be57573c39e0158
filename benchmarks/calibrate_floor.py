"""Distributions behind the similarity floor (fonds/engines/floor.py), on a set `fonds eval`
has already indexed (nothing is re-imported; each query is embedded once):

    python benchmarks/calibrate_floor.py --set ../shared/eval/piaf-v1.0 --limit 400 \
        --no-answer benchmarks/no-answer/queries.jsonl

For each question: the cosine of its relevant document's best passage, the best cosine of
any passage, and the gap between them; for questions with no answer, the best cosine.
A floor keeps a relevant document when its score is above `absolute` and within `relative`
of the best: the script prints how many relevant documents and how many no-answer queries
each candidate floor keeps.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from fonds.app.evaluation import load_qrels, load_queries, prepare
from fonds.engines.embedded import EmbeddedEngine
from fonds.search import SearchService
from fonds.settings import load_settings


def best_per_doc(engine: EmbeddedEngine, vector: np.ndarray) -> dict[str, float]:
    gen = engine._reader()  # noqa: SLF001 - a measurement tool reads the vectors directly
    assert gen is not None
    scores, row_docs, code_docs = gen.vectors.doc_scores(vector)
    best = np.full(len(code_docs), -np.inf, dtype=np.float32)
    np.maximum.at(best, row_docs, scores)
    return {code_docs[i]: float(best[i]) for i in range(len(code_docs))}


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    q = np.percentile(values, [1, 5, 10, 25, 50, 75, 90, 95, 99])
    return " ".join(f"{x:.3f}" for x in q)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, required=True)
    parser.add_argument("--extra-corpus", type=Path, default=None)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--no-answer", type=Path, action="append", default=[])
    args = parser.parse_args()

    files = [args.set / "corpus.jsonl", *([args.extra_corpus] if args.extra_corpus else [])]
    name = args.set.resolve().name + (f"+{args.extra_corpus.stem}" if args.extra_corpus else "")
    work_dir = args.work_dir or Path("benchmarks/cache/eval") / name
    scratch, corpus_id = prepare(load_settings(), files, work_dir, reuse=True,
                                 say=lambda m: print(m, file=sys.stderr))
    engine = EmbeddedEngine(scratch.index_dir)
    embedder = SearchService(scratch, engine=engine).embedder()
    if embedder is None:
        sys.exit("this archive has no vectors")
    queries = load_queries(args.set / "queries.jsonl")
    qrels = load_qrels(args.set / "qrels.tsv")
    chosen = [q for q in queries if q in qrels][: args.limit]
    relevant, best, gap = [], [], []
    for qid in chosen:
        scores = best_per_doc(engine, embedder.embed_query(queries[qid]))
        top = max(scores.values())
        wanted = [s for d, s in scores.items() if qrels[qid].get(corpus_id.get(d, d), 0) > 0]
        if wanted:
            relevant.append(max(wanted))
            best.append(top)
            gap.append(top - max(wanted))
    print(f"{embedder.info.id}, {len(chosen)} questions, percentiles 1 5 10 25 50 75 90 95 99")
    print(f"relevant document   {percentiles(relevant)}")
    print(f"best of any         {percentiles(best)}")
    print(f"best - relevant     {percentiles(gap)}")
    outside: list[float] = []
    for path in args.no_answer:
        for text in load_queries(path).values():
            outside.append(max(best_per_doc(engine, embedder.embed_query(text)).values()))
    if outside:
        print(f"no-answer best      {percentiles(outside)}  ({len(outside)} queries)")
    rel, gaps = np.array(relevant), np.array(gap)
    for absolute in (0.78, 0.79, 0.80, 0.81, 0.82, 0.83):
        for relative in (0.04, 0.06, 0.08, 0.10):
            kept = float(np.mean((rel >= absolute) & (gaps <= relative))) if len(rel) else 0
            leaked = float(np.mean(np.array(outside) >= absolute)) if outside else 0
            print(f"floor {absolute:.2f} / {relative:.2f}: relevant kept {kept:.3f}, "
                  f"no-answer queries with a match {leaked:.3f}")


if __name__ == "__main__":
    main()
