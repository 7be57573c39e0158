"""`fonds eval`: relevance of each search mode on a BEIR set, beside a plain BM25 baseline.

The set is imported into a scratch data dir (the user's archive is never touched) and
ingested by the normal pipeline; scoring is per document: a query is answered when a
relevant document comes back, whatever passage matched.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from fonds.app.archive import Archive
from fonds.catalog import Catalog
from fonds.engines.base import Mode, SearchRequest
from fonds.errors import FondsError
from fonds.search import SearchService
from fonds.settings import Settings

K = 10


def load_queries(path: Path) -> dict[str, str]:
    """BEIR queries.jsonl; a malformed line is one error naming the file and the line."""
    queries = {}
    for number, line in _lines(path):
        try:
            record = json.loads(line)
            queries[str(record["_id"])] = str(record["text"])
        except (ValueError, KeyError, TypeError):
            raise FondsError(f"{path}, ligne {number} : attendu un objet JSON "
                             '{"_id": …, "text": …}') from None
    if not queries:
        raise FondsError(f"{path} : aucune requête")
    return queries


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels.tsv (query-id, corpus-id, score); a header line is allowed."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _lines(path):
        parts = line.split("\t")
        score = parts[2].strip() if len(parts) >= 3 else ""
        if not score.lstrip("-").isdecimal() or len(score) > 6:
            if number == 1:
                continue  # the header
            raise FondsError(f"{path}, ligne {number} : attendu « requête<TAB>document"
                             "<TAB>score entier »")
        qrels.setdefault(parts[0], {})[parts[1]] = int(score)
    if not qrels:
        raise FondsError(f"{path} : aucun jugement de pertinence")
    return qrels


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.rstrip("\n")
    except UnicodeDecodeError as exc:
        raise FondsError(f"{path} : n'est pas du texte UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise FondsError(f"{path} : illisible ({exc.strerror})") from None


def metrics(ranked: list[str], relevant: dict[str, int]) -> dict[str, float]:
    gains = [relevant.get(d, 0) for d in ranked[:K]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(relevant.values(), reverse=True)[:K]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    hits = [d for d in ranked[:K] if relevant.get(d, 0) > 0]
    first = next((i for i, d in enumerate(ranked[:K]) if relevant.get(d, 0) > 0), None)
    wanted = sum(1 for v in relevant.values() if v > 0) or 1
    return {"ndcg@10": dcg / idcg if idcg else 0.0, "recall@10": len(hits) / wanted,
            "mrr@10": 1 / (first + 1) if first is not None else 0.0,
            "recall@1": 1.0 if first == 0 else 0.0}


def _bm25_ranker(corpus_files: list[Path]) -> Callable[[str], list[str]]:
    """Plain Okapi BM25 (bm25s) over title + text, with our French folding and stemming."""
    import bm25s

    from fonds import french

    analyzer = french.stemmed_analyzer()
    ids, tokens = [], []
    for path in corpus_files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    ids.append(str(record["_id"]))
                    tokens.append(analyzer.analyze(f"{record.get('title', '')} "
                                                   f"{record.get('text', '')}") or ["_"])
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)

    def rank(query: str) -> list[str]:
        words = analyzer.analyze(query) or ["_"]
        found, _ = retriever.retrieve([words], k=min(K, len(ids)), show_progress=False)
        return [ids[i] for i in found[0]]

    return rank


def _clear_keeping_vectors(work_dir: Path, keep: Path) -> None:
    """A fresh scratch archive, but the embedding cache survives: vectors are keyed by model
    and text, so a rerun (another setting, another chunk size) embeds only what changed."""
    if not work_dir.exists():
        return
    for child in work_dir.iterdir():
        if child == keep or child.name.startswith(keep.name + "-"):  # SQLite -wal/-shm
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def prepare(settings: Settings, files: list[Path], work_dir: Path, reuse: bool = False,
            say: Callable[[str], None] = lambda m: None) -> tuple[Settings, dict[str, str]]:
    """The set imported and ingested in its scratch archive; also each document's BEIR id.
    With reuse, an archive left by a previous run is searched as it is (ranking changes
    need no new ingest)."""
    for path in files:
        if not path.is_file():
            raise FondsError(f"fichier introuvable : {path}")
    work_dir = work_dir.resolve()
    # The configured engine, in a scratch data dir (and a scratch Meilisearch index): the
    # user's archive is never touched, and either engine can be measured.
    scratch = replace(settings, data_dir=work_dir, ocr=False,
                      meili_index=f"{settings.meili_index}_eval_{work_dir.name}"[:60])
    fresh = not (reuse and scratch.catalog_path.is_file())
    if fresh:
        _clear_keeping_vectors(work_dir, scratch.embeddings_path)
    with Catalog(scratch.catalog_path) as catalog:
        docs = catalog.documents()
    if not docs:  # fresh, or a reused archive that never got its documents
        archive = Archive(scratch)
        say(f"import de {', '.join(str(f) for f in files)}…")
        archive.import_paths(files, progress=False)
        say("indexation (découpage, vecteurs)…")
        archive.ingest(rebuild=True, progress=None, say=say)
        with Catalog(scratch.catalog_path) as catalog:
            docs = catalog.documents()
    corpus_id = {d.id: str(d.meta.get("corpus_id")) for d in docs}
    return scratch, corpus_id


def score(rankers: dict[str, Callable[[str], list[str]]], queries: dict[str, str],
          qrels: dict[str, dict[str, int]], chosen: list[str]
          ) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]]]:
    """Mean metrics per ranker, and each query's rank of its first relevant document."""
    totals: dict[str, dict[str, float]] = {name: {} for name in rankers}
    per_query = []
    for query_id in chosen:
        ranks = {}
        for name, ranker in rankers.items():
            ranked = ranker(queries[query_id])
            for key, value in metrics(ranked, qrels[query_id]).items():
                totals[name][key] = totals[name].get(key, 0.0) + value
            ranks[name] = next((i + 1 for i, d in enumerate(ranked)
                                if qrels[query_id].get(d, 0)), None)
        per_query.append({"id": query_id, "query": queries[query_id], "first_relevant": ranks})
    results = {name: {k: round(v / max(len(chosen), 1), 4) for k, v in values.items()}
               for name, values in totals.items()}
    return results, per_query


def mode_ranker(service: SearchService, mode: Mode, corpus_id: dict[str, str],
                semantic_ratio: float | None = None) -> Callable[[str], list[str]]:
    def rank(text: str) -> list[str]:
        request = SearchRequest(text, mode=mode, limit=K, facets=False, passages_per_doc=1)
        if semantic_ratio is not None:
            request = replace(request, semantic_ratio=semantic_ratio)
        result = service.search(request)
        return [corpus_id.get(h.doc_id, h.doc_id) for h in result.hits]

    return rank


def no_answer_counts(service: SearchService, texts: list[str], modes: list[Mode]
                     ) -> dict[str, dict[str, float]]:
    """For questions the corpus does not answer: per mode, the mean number of documents
    found (`total`), the share of questions answered with anything, and the largest total.
    With a relevance floor every figure is 0."""
    out: dict[str, dict[str, float]] = {}
    for mode in modes:
        results = [service.search(SearchRequest(text, mode=mode, limit=K, facets=False,
                                                passages_per_doc=1)) for text in texts]
        totals = [r.total for r in results]
        count = max(len(totals), 1)
        out[str(mode)] = {
            "mean_total": round(sum(totals) / count, 2),
            "answered": round(sum(1 for t in totals if t) / count, 4),
            # answered, but flagged as not having every word (keyword side)
            "partial": round(sum(1 for r in results if r.partial) / count, 4),
            "max_total": max(totals, default=0)}
    return out


def evaluate(settings: Settings, corpus: Path, queries_path: Path, qrels_path: Path,
             extra: Path | None, modes: list[Mode], work_dir: Path, limit: int | None = None,
             say: Callable[[str], None] = lambda m: None, reuse: bool = False,
             no_answer: tuple[Path, ...] = ()) -> dict[str, Any]:
    """`no_answer`: query files (BEIR queries.jsonl) the corpus has no answer for, e.g.
    benchmarks/no-answer/queries.jsonl; their counts go under "no_answer"."""
    files = [corpus, *([extra] if extra else [])]
    for path in (queries_path, qrels_path):  # the corpus files are checked by prepare()
        if not path.is_file():
            raise FondsError(f"fichier introuvable : {path}")
    queries = load_queries(queries_path)
    qrels = load_qrels(qrels_path)
    chosen = [q for q in queries if q in qrels][: limit or None]
    scratch, corpus_id = prepare(settings, files, work_dir, reuse, say)
    rankers = {"bm25": _bm25_ranker(files)}
    with Archive(scratch) as archive:
        service = archive.searcher
        for mode in modes:
            rankers[str(mode)] = mode_ranker(service, mode, corpus_id)
        say(f"{len(chosen)} requêtes × {len(rankers)} méthodes…")
        results, per_query = score(rankers, queries, qrels, chosen)
        embedder = service.engine.meta().get("embedder")
        unanswerable = [text for path in no_answer for text in load_queries(path).values()]
        extra_counts = ({"no_answer": {"queries": len(unanswerable),
                                       "modes": no_answer_counts(service, unanswerable, modes)}}
                        if unanswerable else {})
    return {"documents": len(corpus_id), "queries": len(chosen), "embedder": embedder,
            "results": results, "per_query": per_query, **extra_counts}


def format_eval(report: dict[str, Any]) -> str:
    lines = [f"{report['documents']} documents, {report['queries']} requêtes",
             f"{'méthode':<10}{'nDCG@10':>10}{'R@10':>8}{'MRR@10':>8}{'R@1':>8}"]
    for name, m in report["results"].items():
        lines.append(f"{name:<10}{m['ndcg@10']:>10.3f}{m['recall@10']:>8.3f}"
                     f"{m['mrr@10']:>8.3f}{m['recall@1']:>8.3f}")
    if "no_answer" in report:
        lines.append(f"{report['no_answer']['queries']} questions sans réponse : documents "
                     "trouvés en moyenne (part des questions avec un résultat)")
        for name, m in report["no_answer"]["modes"].items():
            lines.append(f"{name:<10}{m['mean_total']:>10.1f}{m['answered']:>8.1%}")
    return "\n".join(lines)
