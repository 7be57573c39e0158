"""`fonds eval` and `fonds bench`: relevance and speed, measured through the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fonds.app.cli_common import archive_of, echo, say, settings_of
from fonds.errors import FondsError


@click.command("eval")
@click.option("--corpus", type=click.Path(path_type=Path), required=True,
              help="BEIR corpus.jsonl ({_id, title, text} per line).")
@click.option("--queries", type=click.Path(path_type=Path), required=True,
              help="BEIR queries.jsonl ({_id, text}).")
@click.option("--qrels", type=click.Path(path_type=Path), required=True,
              help="BEIR qrels.tsv (query-id, corpus-id, score).")
@click.option("--extra-corpus", type=click.Path(path_type=Path), default=None,
              help="More documents (distractors) indexed with the corpus.")
@click.option("--modes", default="keyword,semantic,hybrid", show_default=True,
              help="Search modes to measure, beside the BM25 baseline.")
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Only the first N queries (quick runs).")
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON shape.")
@click.option("--save", type=click.Path(path_type=Path), default=None,
              help="Also write the JSON result to this file.")
@click.option("--work-dir", type=click.Path(path_type=Path), default=None,
              help="Scratch data dir [default: benchmarks/cache/eval/<set>].")
@click.option("--no-answer", "no_answer", multiple=True, type=click.Path(path_type=Path),
              help="Queries (BEIR queries.jsonl) the set has no answer for: how many results "
                   "each mode gives them (repeatable; e.g. benchmarks/no-answer/queries.jsonl).")
@click.option("--reuse", is_flag=True,
              help="Search the scratch archive of the last run as it is (after a ranking "
                   "change: no new import or ingest).")
@click.pass_context
def eval_(ctx: click.Context, corpus: Path, queries: Path, qrels: Path,
          extra_corpus: Path | None, modes: str, limit: int | None, as_json: bool,
          save: Path | None, work_dir: Path | None, no_answer: tuple[Path, ...],
          reuse: bool) -> None:
    """Relevance of each search mode against a BM25 baseline, on a BEIR-format set.

    The set is indexed in a scratch data dir (benchmarks/cache/eval/<set>): your archive
    is never touched, and its embedding cache makes reruns fast. Scores are per document:
    nDCG@10, recall@10, MRR@10, recall@1.

    Example: fonds eval --corpus corpus.jsonl --queries queries.jsonl --qrels qrels.tsv
    """
    from fonds.app import bench as benchmarks
    from fonds.app.evaluation import format_eval
    from fonds.engines.base import Mode

    try:
        chosen = [Mode(m.strip()) for m in modes.split(",") if m.strip()]
    except ValueError:
        raise FondsError(f"modes invalides « {modes} » (keyword, semantic, hybrid)") from None
    progress = (lambda m: None) if as_json else say
    if work_dir is None:
        name = corpus.resolve().parent.name + (f"+{extra_corpus.stem}" if extra_corpus else "")
        work_dir = Path("benchmarks/cache/eval") / name
    report = archive_of(ctx).eval(corpus, queries, qrels, extra_corpus, chosen, work_dir, limit,
                                progress, reuse, no_answer)
    report["environment"] = benchmarks.environment()
    if save is not None:
        _save_json(save, report)
    if as_json:
        echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        echo(format_eval(report))


@click.command("bench")
@click.argument("what", type=click.Choice(["search", "ingest", "crawl"]))
@click.option("--passages", type=click.IntRange(100, 10_000_000), default=10_000,
              show_default=True,
              help="Size of the synthetic archive (bench search).")
@click.option("--no-model", is_flag=True, help="Skip the embedding model (search: query "
              "timing; ingest: no vectors).")
@click.option("--corpus", type=click.Path(path_type=Path), default=None,
              help="Folder to ingest (bench ingest; default ../shared/corpus/pdfs).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--save", type=click.Path(path_type=Path), default=None,
              help="Also write the JSON result to this file (e.g. benchmarks/results/).")
@click.pass_context
def bench(ctx: click.Context, what: str, passages: int, no_model: bool, corpus: Path | None,
          as_json: bool, save: Path | None) -> None:
    """Speed figures: search latency, ingest throughput, crawl throughput.

    bench search builds (once, cached under benchmarks/cache/) a synthetic archive of
    realistic French text with random vectors and times a fixed mix of queries.

    bench ingest imports and ingests a folder into a scratch data dir, then reruns it
    with nothing changed. Both honour the settings (FONDS_OCR, FONDS_EMBEDDER...).

    Example: fonds bench search --passages 100000 --json
    """
    from fonds.app import bench as benchmarks
    from fonds.app import bench_pipeline

    settings = settings_of(ctx)
    progress = (lambda m: None) if as_json else say
    if what == "crawl":
        report = bench_pipeline.bench_crawl(Path("benchmarks/cache/crawl"), progress)
        text = bench_pipeline.format_crawl(report)
    elif what == "ingest":
        corpus = corpus or Path("../shared/corpus/pdfs")
        if not corpus.is_dir():
            raise FondsError(f"corpus introuvable : {corpus} (option --corpus)")
        report = bench_pipeline.bench_ingest(corpus, Path("benchmarks/cache/ingest"), settings.ocr,
                                         "none" if no_model else settings.embedder, progress)
        text = bench_pipeline.format_ingest(report)
    else:
        embed = None
        if not no_model:
            from fonds.embedding import load_embedder

            embedder = load_embedder(settings)
            embed = embedder.embed_query if embedder else None
        report = benchmarks.bench_search(passages, Path("benchmarks/cache"), embed, progress,
                                         settings)
        text = benchmarks.format_search(report)
    if save is not None:
        _save_json(save, report)
    if as_json:
        echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        echo(text)


def _save_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
