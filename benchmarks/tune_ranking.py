"""Sweep ranking parameters on a dev set already indexed by `fonds eval`.

One parameter at a time around the current defaults, on the scratch archive of the last
`fonds eval` run (nothing is re-imported or re-embedded; query vectors are computed once):

    python benchmarks/tune_ranking.py --set ../shared/eval/piaf-v1.0 \
        --modes keyword,hybrid --try title_boost=1,1.5,2 --try RATIO=0.3,0.5,0.7

Names are fields of fonds.engines.ranking.RankingConfig (the engine is given another config,
nothing is patched); RATIO is the hybrid semantic ratio; FLOOR_ABSOLUTE, FLOOR_RELATIVE and
FLOOR_IN_DOMAIN are the similarity floor's numbers (fonds/engines/floor.py), written into
the scratch index's meta for the try and restored after. Prints nDCG@10 / R@10 / MRR@10 /
R@1 per setting and mode, and with --no-answer the mean number of documents each mode
finds for questions the set cannot answer (the floor's other side).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fonds.app.evaluation import (
    load_qrels,
    load_queries,
    mode_ranker,
    no_answer_counts,
    prepare,
    score,
)
from fonds.engines import floor as similarity
from fonds.engines.base import DEFAULT_SEMANTIC_RATIO, Mode
from fonds.engines.embedded import EmbeddedEngine
from fonds.engines.ranking import DEFAULT_RANKING, RankingConfig
from fonds.search import SearchService
from fonds.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, required=True, help="a BEIR folder")
    parser.add_argument("--extra-corpus", type=Path, default=None)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--modes", default="keyword,hybrid")
    parser.add_argument("--try", dest="tries", action="append", default=[],
                        help="NAME=v1,v2,… (repeatable)")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--no-answer", type=Path, action="append", default=[],
                        help="queries.jsonl the set has no answer for (repeatable)")
    args = parser.parse_args()

    files = [args.set / "corpus.jsonl", *([args.extra_corpus] if args.extra_corpus else [])]
    name = args.set.resolve().name + (f"+{args.extra_corpus.stem}" if args.extra_corpus else "")
    work_dir = args.work_dir or Path("benchmarks/cache/eval") / name
    queries = load_queries(args.set / "queries.jsonl")
    qrels = load_qrels(args.set / "qrels.tsv")
    chosen = [q for q in queries if q in qrels][: args.limit or None]
    scratch, corpus_id = prepare(load_settings(), files, work_dir, reuse=True,
                                 say=lambda m: print(m, file=sys.stderr))
    engine = EmbeddedEngine(scratch.index_dir)
    service = SearchService(scratch, engine=engine)
    embedder = service.embedder()
    if embedder is not None:  # each query embedded once for the whole sweep
        vectors: dict[str, object] = {}
        embed = embedder.embed_query

        def cached(text: str) -> object:
            if text not in vectors:
                vectors[text] = embed(text)
            return vectors[text]

        embedder.embed_query = cached  # type: ignore[method-assign]
    modes = [Mode(m) for m in args.modes.split(",")]
    unanswerable = [t for path in args.no_answer for t in load_queries(path).values()]
    recorded = similarity.from_meta(engine.meta())

    def run(label: str, ratio: float = DEFAULT_SEMANTIC_RATIO,
            config: RankingConfig = DEFAULT_RANKING,
            floor: similarity.SimilarityFloor = recorded) -> None:
        started = time.perf_counter()
        engine.set_meta({similarity.META_KEY: floor.as_json()})
        service.engine = EmbeddedEngine(scratch.index_dir, config)
        rankers: dict[str, Callable[[str], list[str]]] = {
            str(m): mode_ranker(service, m, corpus_id, ratio) for m in modes}
        results, _ = score(rankers, queries, qrels, chosen)
        cells = "  ".join(f"{m} {r['ndcg@10']:.4f}/{r['recall@10']:.3f}/{r['mrr@10']:.3f}/"
                          f"{r['recall@1']:.3f}" for m, r in results.items())
        if unanswerable:
            counts = no_answer_counts(service, unanswerable, modes)
            cells += "  no-answer " + " ".join(f"{m} {c['mean_total']}"
                                               for m, c in counts.items())
        print(f"{label:<28}{cells}  ({time.perf_counter() - started:.0f} s)", flush=True)

    print(f"{len(chosen)} queries; cells are nDCG@10/R@10/MRR@10/R@1")
    run("defaults")
    for spec in args.tries:
        key, values = spec.split("=", 1)
        for raw in values.split(","):
            if key == "RATIO":
                run(f"RATIO={raw}", float(raw))
                continue
            if key.startswith("FLOOR_"):
                field = key.removeprefix("FLOOR_").lower()
                run(f"{key}={raw}", floor=dataclasses.replace(recorded, **{field: float(raw)}))
                continue
            try:
                config = DEFAULT_RANKING.with_value(key, raw)
            except ValueError as exc:
                sys.exit(str(exc))
            run(f"{key}={raw}", config=config)
    engine.set_meta({similarity.META_KEY: recorded.as_json()})
    engine.close()


if __name__ == "__main__":
    main()
