"""`fonds ingest`: every catalog document that is new or changed becomes indexed passages.

Steps per document, in order: extract (worker process, limits) → clean → enrich → chunk;
then per batch: embed (cached) → index (one commit) → record in the catalog. The index
commit comes before the catalog write, so a killed ingest redoes at most one batch, and
passage ids are stable, so redoing it replaces rather than duplicates.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from fonds.catalog import Catalog
from fonds.embedding import Embedder, EmbedderInfo, load_embedder
from fonds.engines.base import Passage, SearchEngine
from fonds.errors import FondsError
from fonds.models import (
    DocStatus,
    Document,
    ExtractionStatus,
    FailureKind,
    Link,
    PassageRecord,
    RunKind,
)
from fonds.settings import Settings
from fonds.values import clean_labels, parse_date
from ingest import chunk as chunking
from ingest import clean, enrich, titles
from ingest.embed_cache import EmbeddingCache, embed_texts, text_hash
from ingest.extract import MIN_PAGE_CHARS, EnvironmentProblem, Extracted, ExtractionError, Limits
from ingest.worker import ExtractionWorker

BATCH_DOCS = 8
BATCH_PASSAGES = 400
MAX_AUTO_RETRIES = 3  # a transient failure is retried by this many ingests, then on request
EXTRACTED = (ExtractionStatus.OK, ExtractionStatus.PARTIAL, ExtractionStatus.NO_TEXT)


@dataclass(frozen=True)
class Processed:
    """One document after extraction, cleaning, enrichment and chunking."""

    doc: Document
    passages: tuple[PassageRecord, ...]
    fields: dict[str, Any]  # for Catalog.save_ingest
    failed: bool = False

    @property
    def index_fields(self) -> dict[str, Any]:
        """What the index shows; values re-checked here too, as a catalog written by an
        older version may hold any of them."""
        f, d = self.fields, self.doc
        return {
            "title": f.get("auto_title") or d.display_title,
            "doc_type": d.doc_type or f.get("auto_doc_type") or "document",
            "themes": clean_labels([*d.themes, *f.get("auto_themes", ())]),
            "departements": clean_labels([*d.departements, *f.get("auto_departements", ())]),
            "date": parse_date(d.published) or parse_date(f.get("auto_published")),
        }


@dataclass
class IngestReport:
    run_id: int
    counts: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    embedder: str | None = None
    timings: Counter[str] = field(default_factory=Counter)  # seconds per step


def _failed(doc: Document, error: str, kind: FailureKind) -> Processed:
    return Processed(doc, (), {
        "extraction_status": ExtractionStatus.FAILED, "status": DocStatus.FAILED,
        "error": error or "cause inconnue", "notes": (), "failure_kind": kind,
        "failed_attempts": doc.failed_attempts + 1}, failed=True)


def process(doc: Document, data_dir: Any, worker: ExtractionWorker,
            links: Sequence[Link] = ()) -> Processed:
    """Extract, clean, enrich, chunk one document. Never raises for a bad file; raises
    EnvironmentProblem when this machine cannot extract it (the run stops)."""
    if not doc.file_path or not doc.media_type:
        return _failed(doc, "aucun fichier enregistré", FailureKind.DOCUMENT)
    path = (data_dir / doc.file_path).resolve()  # the worker runs in another directory
    if not path.exists():  # a storage problem: may be restored
        return _failed(doc, "fichier absent du stockage", FailureKind.TRANSIENT)
    try:
        extracted = worker.extract(path, doc.media_type)
    except ExtractionError as exc:
        kind = FailureKind.TRANSIENT if exc.transient else FailureKind.DOCUMENT
        return _failed(doc, str(exc), kind)
    return build(doc, extracted, links)


def file_name_of(doc: Document) -> str:
    name = doc.meta.get("file_name") or doc.meta.get("corpus_id")
    return str(name or doc.canonical_url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1])


def build(doc: Document, extracted: Extracted, links: Sequence[Link] = ()) -> Processed:
    notes = list(extracted.notes)
    notes += [str(n) for n in doc.meta.get("rejected", ()) or ()]  # type: ignore[union-attr]
    usable = [p for p in extracted.pages if not p.garbage]
    garbage = len(extracted.pages) - len(usable)
    if garbage:
        notes.append(f"{garbage} page(s) au texte illisible (encodage des polices)")
    cleaned = clean.clean_pages([p.text for p in usable])
    pages = [(p.number, text) for p, text in zip(usable, cleaned, strict=True)]
    with_text = [(n, t) for n, t in pages if len(t) >= MIN_PAGE_CHARS]
    empty = len(extracted.pages) - len(with_text)
    full_text = "\n\n".join(t for _, t in with_text)
    first_page = with_text[0][1] if with_text else ""
    file_name = file_name_of(doc)
    referrers = doc.meta.get("referrers") or ()
    link_texts = [str(r.get("text") or "") for r in referrers if isinstance(r, dict)
                  ] if isinstance(referrers, list) else []
    title = titles.choose_title(
        media_type=doc.media_type, source_title=doc.title, file_title=extracted.title,
        headings=extracted.headings, first_page=first_page, links=links,
        link_texts=link_texts, file_name=file_name)
    # A file takes the themes of every article linking it, and its date when it has none.
    linked = [t for link in links for c in link.themes
              if (t := enrich.theme_for_category(c))]
    article_date = next((d for link in links if (d := parse_date(link.article_date))), None)
    found = enrich.enrich(
        title=title.text if title.own else "", first_page=first_page, text=full_text,
        media_type=doc.media_type, given_themes=tuple(dict.fromkeys([*doc.themes, *linked])),
        given_departements=doc.departements, published=doc.published,
        file_date=extracted.date, article_date=article_date)

    if not with_text:
        status = ExtractionStatus.NO_TEXT
        notes.append("texte non extractible : document scanné ou sans texte, "
                     "trouvable par son titre")
    elif empty:
        status = ExtractionStatus.PARTIAL
        if empty > garbage:
            notes.append(f"{empty - garbage} page(s) sans texte")
    else:
        status = ExtractionStatus.OK

    chunks = chunking.chunk(with_text) if with_text else []
    if not chunks:  # findable by its title and metadata only
        chunks = [chunking.Chunk(0, None, "", title.text)]
    ocr_pages = {p.number for p in extracted.pages if p.ocr}
    passages = tuple(
        PassageRecord(id=f"{doc.id}-{c.position}", doc_id=doc.id, position=c.position,
                      page=c.page, heading=c.heading, text=c.text,
                      text_hash=text_hash(embedding_text(title.text, c.heading, c.text)),
                      ocr=c.page in ocr_pages, page_breaks=c.page_breaks)
        for c in chunks)
    fields = {
        "extraction_status": status, "error": None, "status": DocStatus.ACTIVE,
        "failure_kind": None, "failed_attempts": 0,
        "pages": extracted.page_count, "language": found.language, "notes": tuple(notes),
        "auto_title": title.text, "auto_themes": found.themes,
        "auto_departements": found.departements, "auto_doc_type": found.doc_type,
        "auto_published": found.published,
    }
    return Processed(doc, passages, fields)


def embedding_text(title: str, heading: str, text: str) -> str:
    """What is embedded: the passage with its document title and heading as context."""
    context = title if not heading or heading == title else f"{title} — {heading}"
    return f"{context}\n{text}"


def to_passages(processed: Processed, vectors: np.ndarray | None) -> list[Passage]:
    f = processed.index_fields
    out = []
    for i, p in enumerate(processed.passages):
        out.append(Passage(
            doc_id=p.doc_id, passage_id=p.id, position=p.position, page=p.page,
            title=f["title"], text=p.text, url=processed.doc.canonical_url,
            source=processed.doc.source or "", doc_type=f["doc_type"], themes=f["themes"],
            departements=f["departements"], date=f["date"], heading=p.heading,
            vector=None if vectors is None else vectors[i]))
    return out


def _batches(docs: Sequence[Document]) -> Iterator[Sequence[Document]]:
    for start in range(0, len(docs), BATCH_DOCS):
        yield docs[start:start + BATCH_DOCS]


def choose_embedder(settings: Settings, engine: SearchEngine, rebuild: bool,
                    say: Callable[[str], None]) -> Embedder | None:
    """The index's embedder, unless rebuilding: vectors of two models do not mix."""
    recorded = engine.meta().get("embedder")
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
               retry_failed: bool = False) -> IngestReport:
    """Index what is new or changed, retry what may now succeed, and leave the index
    holding every active, extracted document (whatever an earlier run or crawl did)."""
    started = time.perf_counter()
    report = IngestReport(run_id=catalog.start_run(RunKind.INGEST))
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
                  dynamic_ncols=True) as bar:
            for batch in _batches(todo):
                step = time.perf_counter()
                processed = [process(d, settings.data_dir, worker, catalog.links(d.id))
                             for d in batch]
                report.timings["extract"] += time.perf_counter() - step
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
        catalog.finish_run(report.run_id, dict(report.counts), [*report.errors, message])
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
    catalog.finish_run(report.run_id, dict(report.counts), report.errors)
    return report


def ingest_archive(settings: Settings, rebuild: bool = False, progress: bool | None = None,
                   say: Callable[[str], None] = lambda m: None,
                   retry_failed: bool = False) -> IngestReport:
    """run_ingest on the configured catalog and engine, opened and closed here: what
    `fonds ingest`, `fonds demo` and `fonds update` run."""
    from fonds.engines import open_engine

    engine = open_engine(settings)
    try:
        with Catalog(settings.catalog_path) as catalog:
            return run_ingest(settings, catalog, engine, rebuild=rebuild, progress=progress,
                              say=say, retry_failed=retry_failed)
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
