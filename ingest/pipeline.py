"""`fonds ingest`: every catalog document that is new or changed becomes indexed passages.

Steps per document (ingest/document.py), in order: extract (worker process, limits) →
clean → title → enrich → chunk (to the embedder's window); then per batch: embed (cached)
→ index (one commit) → record in the catalog. The index commit comes before the catalog
write, so a killed ingest redoes at most one batch, and passage ids are stable, so redoing
it replaces rather than duplicates.

Extraction runs ahead (a thread feeds the worker, up to PREFETCH_DOCS documents): the
child extracts while this process embeds, on the two cores. What it extracted ahead is
only written once its batch is indexed, so a stopped run loses nothing that was recorded.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
from tqdm import tqdm

from fonds.catalog import Catalog
from fonds.embedding import Embedder, EmbedderInfo, load_embedder
from fonds.engines.base import SearchEngine
from fonds.errors import FondsError
from fonds.models import DocStatus, Document, ExtractionStatus, FailureKind, RunKind
from fonds.settings import Settings
from ingest.document import (  # noqa: F401 - build, process: the steps, re-exported
    Processed,
    build,
    embedding_text,
    extract_document,
    process,
    to_passages,
)
from ingest.embed_cache import EmbeddingCache, embed_texts
from ingest.extract import EnvironmentProblem, Extracted, Limits
from ingest.worker import ExtractionWorker, Prefetch

BATCH_DOCS = 8
PREFETCH_DOCS = BATCH_DOCS  # extracted documents waiting for the embedder, at most
BATCH_PASSAGES = 400
MAX_AUTO_RETRIES = 3  # a transient failure is retried by this many ingests, then on request
EXTRACTED = (ExtractionStatus.OK, ExtractionStatus.PARTIAL, ExtractionStatus.NO_TEXT)


@dataclass
class IngestReport:
    run_id: int
    counts: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    embedder: str | None = None
    device: str | None = None  # where the embedder computed
    overlapped: bool = True  # extraction ran ahead of the embedding
    timings: Counter[str] = field(default_factory=Counter)  # seconds per step

    @property
    def details(self) -> dict[str, object]:
        """What the run records beside its counts: how it ran."""
        return {"embedder": self.embedder, "embed_device": self.device,
                "pipeline": "overlapped" if self.overlapped else "sequential"}


def _batches(docs: Sequence[Document]) -> Iterator[Sequence[Document]]:
    for start in range(0, len(docs), BATCH_DOCS):
        yield docs[start:start + BATCH_DOCS]


def _timed_batches(items: Iterable[tuple[Document, Extracted | Processed, float]],
                   timings: Counter[str]
                   ) -> Iterator[list[tuple[Document, Extracted | Processed, float]]]:
    """BATCH_DOCS extracted documents at a time; `wait` is the time the embedder waited."""
    items = iter(items)
    while True:
        step = time.perf_counter()
        batch = list(islice(items, BATCH_DOCS))
        timings["wait"] += time.perf_counter() - step
        if not batch:
            return
        timings["extract"] += sum(seconds for _, _, seconds in batch)
        yield batch


def choose_embedder(settings: Settings, engine: SearchEngine, rebuild: bool,
                    say: Callable[[str], None]) -> Embedder | None:
    """The index's embedder, unless rebuilding: vectors of two models do not mix."""
    recorded = engine.meta().get("embedder")
    if not recorded and not rebuild and settings.embedder != "none" and engine.count():
        # Vectors for new documents only would serve meaning search over a fraction of the
        # archive without saying so: keep the index word-only until it is rebuilt whole.
        say("L'index a été construit sans vecteurs : la recherche par le sens demande "
            "« fonds ingest --rebuild ».")
        return None
    wanted = load_embedder(settings) if (rebuild or not recorded) else None
    if recorded and not rebuild:
        current = load_embedder(settings, recorded)
        chosen_setting = settings.embedder
        if chosen_setting not in ("auto", EmbedderInfo.from_json(recorded).backend):
            say(f"L'index utilise {EmbedderInfo.from_json(recorded).id} ; pour passer à "
                f"« {chosen_setting} », lancez « fonds ingest --rebuild ».")
        return current
    return wanted


def retryable(doc: Document, retry_failed: bool) -> bool:
    """A failed extraction worth another try: its cause may have gone (timeout, crashed
    reader, lost file; a bounded number of times), or every failure when asked."""
    if doc.extraction_status is not ExtractionStatus.FAILED or not doc.file_path:
        return False
    if doc.failure_kind is None and doc.ingested_sha256 is None:
        return False  # refused at the edge (empty, wrong type): the next import or crawl
    if retry_failed:
        return True
    return (doc.failure_kind is FailureKind.TRANSIENT
            and doc.failed_attempts < MAX_AUTO_RETRIES)


def run_ingest(settings: Settings, catalog: Catalog, engine: SearchEngine,
               rebuild: bool = False, progress: bool | None = None,
               say: Callable[[str], None] = lambda m: None,
               retry_failed: bool = False, overlap: bool = True) -> IngestReport:
    """Index what is new or changed, retry what may now succeed, and leave the index
    holding every active, extracted document (whatever an earlier run or crawl did).
    overlap=False extracts and embeds in turn (what the benchmark compares with)."""
    started = time.perf_counter()
    report = IngestReport(run_id=catalog.start_run(RunKind.INGEST), overlapped=overlap)
    documents = catalog.documents()
    active = [d for d in documents if d.status is DocStatus.ACTIVE]
    retries = [d for d in documents if retryable(d, retry_failed)]
    todo = (active if rebuild else [d for d in active if d.needs_ingest]) + [
        d for d in retries if rebuild is False or d.status is not DocStatus.ACTIVE]
    todo = list({d.id: d for d in todo}.values())
    todo_ids = {d.id for d in todo}
    if retries:
        report.counts["retried"] = len(retries)
    report.counts["unchanged"] = len([d for d in active if d.id not in todo_ids])

    if not rebuild:
        # What must leave the index: documents gone from their source, or failed.
        leaving = [d.id for d in documents if d.status is not DocStatus.ACTIVE and d.indexed
                   and d.id not in todo_ids]
        if leaving:
            engine.delete_documents(leaving)
            catalog.set_indexed(leaving, False)
            report.counts["gone"] = len(leaving)
        # The invariant: every active, extracted document is in the index. Those the index
        # lacks (never indexed, back from gone, index dir lost) are indexed from the
        # catalog's passages: no re-extraction.
        in_index = engine.document_ids()
        missing = [d for d in active if d.id not in todo_ids
                   and d.extraction_status in EXTRACTED and d.ingested_sha256 == d.sha256
                   and (not d.indexed or d.id not in in_index)]
        if missing:
            say(f"{len(missing)} document(s) absent(s) de l'index : réindexation depuis le "
                "catalogue.")
            kept = [d for d in missing if catalog.passages(d.id)]
            reindex_documents(settings, catalog, engine, kept, None, say=say)
            kept_ids = {d.id for d in kept}
            todo += [d for d in missing if d.id not in kept_ids]  # no passages: extract again
            report.counts["reindexed"] = len(kept)

    if not todo:
        report.seconds = time.perf_counter() - started
        catalog.finish_run(report.run_id, dict(report.counts), report.errors)
        return report

    embedder = choose_embedder(settings, engine, rebuild, say)
    report.embedder = embedder.info.id if embedder else None
    report.device = embedder.device if embedder else None
    cap = (embedder.count_tokens, embedder.max_tokens) if embedder is not None else None
    cache = EmbeddingCache(settings.embeddings_path, say=say)
    limits = Limits(max_pages=settings.ingest_max_pages, ocr=settings.ocr)
    worker = ExtractionWorker(limits, settings.ingest_timeout_s, settings.ingest_memory_mb)
    target = engine.rebuild() if rebuild else None
    writer = target.__enter__() if target is not None else engine
    disable = None if progress is None else not progress
    try:
        writer.ensure_index(embedder.info.dim if embedder is not None else None)
        if embedder is not None:
            writer.set_meta({"embedder": embedder.info.as_json()})
        with tqdm(total=len(todo), desc="Indexation", unit="doc", disable=disable,
                  dynamic_ncols=True) as bar, Prefetch(
                      todo, lambda d: extract_document(d, settings.data_dir, worker),
                      ahead=PREFETCH_DOCS if overlap else 0, on_stop=worker.stop) as extracted:
            for batch in _timed_batches(extracted, report.timings):
                step = time.perf_counter()
                processed = [r if isinstance(r, Processed)
                             else build(d, r, catalog.links(d.id), cap) for d, r, _ in batch]
                report.timings["build"] += time.perf_counter() - step
                _index_batch(processed, writer, catalog, embedder, cache,
                             settings.embed_batch_size, report)
                bar.update(len(batch))
                elapsed = max(time.perf_counter() - started, 1e-6)
                bar.set_postfix(passages=report.counts["passages"],
                                passages_s=f"{report.counts['passages'] / elapsed:.1f}")
    except EnvironmentProblem as exc:
        if target is not None:
            target.__exit__(type(exc), exc, exc.__traceback__)
        message = (f"ingestion interrompue : {exc}. Aucun document n'est marqué en échec ; "
                   "installez ce qui manque (pip install -e .) puis relancez « fonds ingest ».")
        catalog.finish_run(report.run_id, dict(report.counts), [*report.errors, message],
                           report.details)
        raise FondsError(message) from None
    except BaseException as exc:
        if target is not None:
            target.__exit__(type(exc), exc, exc.__traceback__)
        raise
    finally:
        worker.close()
        cache.close()
    if target is not None:
        target.__exit__(None, None, None)
    report.seconds = time.perf_counter() - started
    report.counts["seconds"] = round(report.seconds)
    catalog.finish_run(report.run_id, dict(report.counts), report.errors, report.details)
    return report


def ingest_archive(settings: Settings, rebuild: bool = False, progress: bool | None = None,
                   say: Callable[[str], None] = lambda m: None,
                   retry_failed: bool = False, overlap: bool = True) -> IngestReport:
    """run_ingest on the configured catalog and engine, opened and closed here: what
    `fonds ingest`, `fonds demo` and `fonds update` run."""
    from fonds.engines import open_engine

    engine = open_engine(settings)
    try:
        with Catalog(settings.catalog_path) as catalog:
            return run_ingest(settings, catalog, engine, rebuild=rebuild, progress=progress,
                              say=say, retry_failed=retry_failed, overlap=overlap)
    finally:
        engine.close()


def _index_batch(processed: list[Processed], engine: SearchEngine, catalog: Catalog,
                 embedder: Embedder | None, cache: EmbeddingCache, batch_size: int,
                 report: IngestReport) -> None:
    good = [p for p in processed if not p.failed]
    vectors: list[np.ndarray | None] = [None] * len(good)
    if embedder is not None and good:
        title_of = {p.doc.id: p.index_fields["title"] for p in good}
        texts = [embedding_text(title_of[p.doc.id], r.heading, r.text)
                 for p in good for r in p.passages]
        step = time.perf_counter()
        matrix, new = embed_texts(embedder, cache, texts, batch_size)
        report.timings["embed"] += time.perf_counter() - step
        report.counts["embedded"] += new
        report.counts["embeddings_cached"] += len(texts) - new
        offset = 0
        for i, p in enumerate(good):
            vectors[i] = matrix[offset:offset + len(p.passages)]
            offset += len(p.passages)
    passages = [x for p, v in zip(good, vectors, strict=True) for x in to_passages(p, v)]
    failed_ids = [p.doc.id for p in processed if p.failed]
    step = time.perf_counter()
    if passages:
        engine.upsert(passages)
    if failed_ids:
        engine.delete_documents(failed_ids)
    report.timings["index"] += time.perf_counter() - step
    for p in processed:
        fields = dict(p.fields)
        fields["indexed"] = not p.failed
        catalog.save_ingest(p.doc.id, p.doc.sha256, p.passages, fields)
        if p.failed:
            report.counts["failed"] += 1
            reason = str(fields.get("error"))
            report.failures[reason.split(" (")[0]] += 1
            report.errors.append(f"{p.doc.canonical_url} : {reason}")
        else:
            report.counts["processed"] += 1
            report.counts[str(fields["extraction_status"])] += 1
            report.counts["passages"] += len(p.passages)
            report.counts["pages"] += int(fields.get("pages") or 0)


def reindex_documents(settings: Settings, catalog: Catalog, engine: SearchEngine,
                      docs: Sequence[Document], embedder: Embedder | None,
                      say: Callable[[str], None] = lambda m: None) -> int:
    """Index documents from the passages the catalog keeps: no extraction; vectors come
    from the cache (computed only if missing). Returns the passages indexed; the
    documents are marked indexed."""
    cache = EmbeddingCache(settings.embeddings_path, say=say)
    if embedder is None:
        recorded = engine.meta().get("embedder")
        embedder = load_embedder(settings, recorded) if recorded else None
    count = 0
    try:
        for batch in _batches(list(docs)):
            processed = []
            for doc in batch:
                records = tuple(catalog.passages(doc.id))
                if not records:
                    continue
                fields = {"auto_title": doc.auto_title, "auto_themes": doc.auto_themes,
                          "auto_departements": doc.auto_departements,
                          "auto_doc_type": doc.auto_doc_type,
                          "auto_published": doc.auto_published}
                processed.append(Processed(doc, records, fields))
            passages = []
            for p in processed:
                vectors = None
                if embedder is not None:
                    texts = [embedding_text(p.index_fields["title"], r.heading, r.text)
                             for r in p.passages]
                    vectors, _ = embed_texts(embedder, cache, texts, settings.embed_batch_size)
                passages.extend(to_passages(p, vectors))
            if passages:
                engine.upsert(passages)
                catalog.set_indexed([p.doc.id for p in processed], True)
                count += len(passages)
    finally:
        cache.close()
    return count
