"""`Archive(settings)`: the one library object every front end goes through.

The CLI, the UI, update/schedule, bench, eval and the tests' fixtures call these methods;
none of them wires a catalog, a file store, an engine and a stage by hand. Stages are
imported here, lazily: `fonds search` never pays for Scrapy, `fonds crawl` never for torch.

Writes (import, crawl, ingest, reindex) take the data dir's writer lock: one writer at a
time, readers are never disturbed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fonds.app.lock import writer_lock
from fonds.catalog import Catalog
from fonds.engines.base import DocHit, SearchRequest, SearchResult
from fonds.errors import FondsError, IndexDamaged
from fonds.models import DocStatus, Document, RunKind
from fonds.settings import Settings

if TYPE_CHECKING:
    from crawler.report import CrawlReport
    from crawler.sources import Source
    from fonds.importer import ImportReport
    from fonds.search import SearchService
    from ingest.pipeline import IngestReport

Say = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


# Below this share of the live index, a rebuild is a loss worth confirming (--force).
REINDEX_SHRINK_LIMIT = 0.5


@dataclass(frozen=True)
class ReindexReport:
    documents: int
    passages: int
    before: int  # passages in the index replaced


class Archive:
    """An archive in one data dir: its catalog, stored files and search index."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._service: SearchService | None = None
        self._writing = 0

    # -- writing -------------------------------------------------------------------

    @contextmanager
    def writing(self, say: Say = _quiet) -> Iterator[None]:
        """The writer lock, reentrant within this object (update = crawl + ingest)."""
        if self._writing:
            self._writing += 1
            try:
                yield
            finally:
                self._writing -= 1
            return
        with writer_lock(self.settings.data_dir, say):
            self._writing = 1
            try:
                yield
            finally:
                self._writing = 0

    def import_paths(self, paths: Sequence[str | PathLike[str]], on_error: Say = _quiet,
                     progress: bool | None = None) -> ImportReport:
        from fonds.importer import import_paths

        with self.writing(), Catalog(self.settings.catalog_path) as catalog:
            return import_paths([Path(p) for p in paths], self.settings, catalog,
                                on_error=on_error, progress=progress)

    def crawl(self, sources: Sequence[Source] | None = None, source_name: str | None = None,
              say: Say = _quiet) -> list[CrawlReport]:
        from crawler.run import run_crawl
        from crawler.sources import SOURCES_FILE, load_sources, pick

        if sources is None:
            path = Path(self.settings.sources_file) if self.settings.sources_file else (
                SOURCES_FILE)
            sources = pick(load_sources(path), source_name)
        with self.writing(say):
            return run_crawl(self.settings, list(sources))

    def ingest(self, rebuild: bool = False, retry_failed: bool = False,
               progress: bool | None = None, say: Say = _quiet) -> IngestReport:
        from ingest.pipeline import ingest_archive

        options: dict[str, Any] = {"rebuild": rebuild, "progress": progress, "say": say}
        if retry_failed:
            options["retry_failed"] = True
        with self.writing(say):
            return ingest_archive(self.settings, **options)

    def update(self, say: Say = _quiet) -> tuple[list[CrawlReport], IngestReport]:
        """Crawl then ingest under one lock: what a schedule runs."""
        with self.writing(say):
            runs = self.crawl(say=say)
            return runs, self.ingest(progress=False, say=say)

    def _clear_damaged_index(self) -> None:
        """The index is derived data: what cannot even be opened is moved aside, then
        rebuilt from the catalog."""
        import shutil
        import time

        index = self.settings.index_dir
        aside = index.with_name(f"{index.name}.endommage-{time.strftime('%Y%m%d-%H%M%S')}")
        if index.is_dir():
            index.rename(aside)
            shutil.rmtree(aside, ignore_errors=True)
        elif index.exists() or index.is_symlink():
            index.unlink()

    def reindex(self, force: bool = False, say: Say = _quiet) -> ReindexReport:
        """Rebuild the index from the catalog's passages and cached vectors, swapped in at
        the end. Refuses to replace an index with a much smaller one unless forced: a
        truncated or lost catalog must not silently empty the search."""
        from fonds.engines import open_engine
        from ingest.pipeline import reindex_documents

        with self.writing():
            try:
                engine = open_engine(self.settings)
            except IndexDamaged:
                self._clear_damaged_index()
                engine = open_engine(self.settings)
            try:
                with Catalog(self.settings.catalog_path) as catalog:
                    docs = [d for d in catalog.documents(DocStatus.ACTIVE) if d.indexed]
                    expected = sum(len(catalog.passages(d.id)) for d in docs)
                    try:
                        before, meta = engine.count(), engine.meta()
                    except IndexDamaged as exc:  # nothing to lose: rebuild it whole
                        say(f"{exc} — reconstruction.")
                        before, meta = 0, {}
                    if not force and before and expected < before * REINDEX_SHRINK_LIMIT:
                        raise FondsError(
                            f"le catalogue ne décrit que {expected} passages, l'index en "
                            f"contient {before} : réindexer le viderait en grande partie. "
                            "Restaurez le catalogue (copie de data/catalog.sqlite) ou "
                            "relancez avec --force")
                    run_id = catalog.start_run(RunKind.REINDEX)
                    recorded = meta.get("embedder")
                    embedder = None
                    if not recorded and before == 0 and expected:
                        # The record of the model is lost with the index: the settings'
                        # model (its vectors come from the cache, keyed by model and text).
                        from fonds.embedding import load_embedder

                        embedder = load_embedder(self.settings)
                    dims = recorded.get("dim") if isinstance(recorded, dict) else (
                        embedder.info.dim if embedder else None)
                    with engine.rebuild() as fresh:
                        fresh.ensure_index(dims if isinstance(dims, int) else None)
                        if meta:
                            fresh.set_meta(meta)
                        elif embedder is not None:
                            fresh.set_meta({"embedder": embedder.info.as_json()})
                        count = reindex_documents(self.settings, catalog, fresh, docs,
                                                  embedder)
                    catalog.finish_run(run_id, {"documents": len(docs), "passages": count})
            finally:
                engine.close()
        return ReindexReport(len(docs), count, before)

    # -- reading -------------------------------------------------------------------

    @property
    def searcher(self) -> SearchService:
        if self._service is None:
            from fonds.search import SearchService

            self._service = SearchService(self.settings)
        return self._service

    def search(self, request: SearchRequest) -> SearchResult:
        return self.searcher.search(request)

    def similar(self, doc_id: str, limit: int = 5) -> list[DocHit]:
        return self.searcher.similar(doc_id, limit)

    def suggest(self, query: str) -> str | None:
        return self.searcher.suggest(query)

    def document(self, doc_id: str) -> Document | None:
        with Catalog(self.settings.catalog_path) as catalog:
            return catalog.document(doc_id)

    def status(self) -> dict[str, Any]:
        """Catalog counts, runs, failures, and what the index really holds."""
        from fonds.engines import open_engine
        from fonds.status import IndexView, status_report

        try:
            engine = open_engine(self.settings, search_only=True)
            try:
                index = IndexView(engine.count(), frozenset(engine.document_ids()))
            finally:
                engine.close()
        except FondsError as exc:  # an unreachable server, a damaged index: said, not fatal
            index = IndexView(error=str(exc))
        with Catalog(self.settings.catalog_path) as catalog:
            return status_report(catalog, index=index)

    def eval(self, corpus: Path, queries: Path, qrels: Path, extra_corpus: Path | None,
             modes: Sequence[Any], work_dir: Path, limit: int | None = None,
             say: Say = _quiet, reuse: bool = False, no_answer: Sequence[Path] = ()
             ) -> dict[str, Any]:
        """Relevance of each mode on a BEIR set, in a scratch archive of its own; with
        `no_answer`, how many results queries with no answer in the set get."""
        from fonds.app.evaluation import evaluate

        return evaluate(self.settings, corpus, queries, qrels, extra_corpus, list(modes),
                        work_dir, limit, say, reuse, tuple(no_answer))

    def close(self) -> None:
        if self._service is not None:
            self._service.engine.close()
            self._service = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
