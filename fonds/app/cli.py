"""The `fonds` command: a thin click layer over `Archive` (fonds/app/archive.py).

Every error a user can cause ends in one line on stderr and a non-zero exit, never a
traceback. Nothing printed carries a control character from a document (terminal escapes).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import click

from fonds import __version__
from fonds.app.archive import Archive
from fonds.app.cli_common import (
    MAX_PAGE,
    PORTS,
    YEARS,
    FondsGroup,
    archive_of,
    echo,
    say,
    settings_of,
)
from fonds.app.cli_measure import bench, eval_
from fonds.errors import FondsError
from fonds.settings import Settings, load_settings


@click.group(cls=FondsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fonds")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Data directory (setting data_dir, FONDS_DATA_DIR).")
@click.option("--engine", type=click.Choice(["embedded", "meilisearch"]), default=None,
              help="Search engine (setting engine, FONDS_ENGINE).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, engine: str | None) -> None:
    """fonds: searchable archive of French public-policy documents.

    Settings come from defaults, then fonds.toml, then FONDS_* variables, then flags.

    Example: fonds --data-dir /srv/fonds status
    """
    ctx.ensure_object(dict)["settings"] = load_settings(
        {"data_dir": data_dir, "engine": engine}
    )


@cli.command("demo")
@click.option("--no-ui", is_flag=True, help="Stop after the ingest instead of opening the UI.")
@click.option("--port", type=PORTS, default=8501, show_default=True, help="Port of the UI.")
@click.option("--site-port", type=PORTS, default=None,
              help="Port of the replica site [default: 8765].")
@click.pass_context
def demo(ctx: click.Context, no_ui: bool, port: int, site_port: int | None) -> None:
    """Serve the bundled replica site on 127.0.0.1, crawl it, ingest, open the UI (offline).

    The replica is a WordPress-like copy of the resource centre (articles of the seed page,
    generated PDFs, and the hard cases of real crawls). Data goes to the data dir. Both
    ports are checked before anything is crawled.

    Example: fonds demo --no-ui
    """
    from dataclasses import replace

    from crawler.report import format_crawl
    from crawler.run import demo_sources
    from fonds.render import format_ingest
    from replica.server import DEMO_PORT, ServedSite

    # The replica lives on loopback: allow it for this run only, skip politeness delays,
    # and show the maintenance page (a demo has no visitors to hide it from).
    settings = replace(settings_of(ctx), crawl_allow_private=True, crawl_delay_s=0.0,
                       ui_show_maintenance=True)
    if not no_ui:
        _check_port("127.0.0.1", port)
    archive = Archive(settings)
    with ServedSite(port=site_port or DEMO_PORT) as site:
        echo(f"Site de démonstration : {site.base_url}")
        runs = archive.crawl(demo_sources(site.base_url, site.site.official_base))
        echo(format_crawl(runs))
    echo(format_ingest(archive.ingest(say=say)))
    if not no_ui:
        _serve(settings, "127.0.0.1", port)


@cli.command("crawl")
@click.option("--source", "source_name", default=None, help="Only this source of sources.toml.")
@click.pass_context
def crawl(ctx: click.Context, source_name: str | None) -> None:
    """Run the spiders: files into the store, documents into the catalog; print a run report.

    Only what changed is downloaded (conditional requests); a document absent for
    gone_after_runs crawls becomes « retiré » (kept, with its file).

    Example: fonds crawl --source villes-et-territoires
    """
    from crawler.report import format_crawl

    reports = archive_of(ctx).crawl(source_name=source_name, say=say)
    echo(format_crawl(reports))
    if any(report.failed for report in reports):  # the site was not reached: say so
        sys.exit(1)


@cli.command("ingest")
@click.option("--rebuild", is_flag=True,
              help="Re-process every document into a fresh index (swapped in at the end).")
@click.option("--retry-failed", is_flag=True,
              help="Also retry every document whose extraction failed, whatever the reason.")
@click.pass_context
def ingest(ctx: click.Context, rebuild: bool, retry_failed: bool) -> None:
    """Extract, enrich, chunk, embed and index what is new or changed; remove what is gone.

    A rerun with nothing changed does no extraction and no embedding. Every document ends
    with a status; « fonds status » lists the failures and their reasons.

    Example: fonds ingest
    """
    from fonds.render import format_ingest

    report = archive_of(ctx).ingest(rebuild=rebuild, retry_failed=retry_failed, say=say)
    echo(format_ingest(report))


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def import_(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Add local files (PDF, HTML, Word, OpenDocument, text), folders or JSONL corpora.

    Files are stored by content (sha256): importing the same files again records nothing
    new. A JSONL corpus has one {"_id", "title", "text"} object per line (BEIR format).

    Example: fonds import ../shared/corpus/pdfs rapports/bilan-2019.pdf corpus.jsonl
    """
    from fonds.status import format_counts

    report = archive_of(ctx).import_paths(paths, on_error=say)
    echo(f"Import terminé : {format_counts(report.counts)}.")
    if report.counts.get("failed"):
        sys.exit(1)


@cli.command("update")
@click.pass_context
def update(ctx: click.Context) -> None:
    """Crawl then ingest, under a lock: what a schedule runs.

    A second writer (update, crawl, ingest, import, reindex) while one runs exits at once
    (code 3); the lock of a killed run is taken over.

    Example: fonds update
    """
    from crawler.report import format_crawl
    from fonds.render import format_ingest

    runs, report = archive_of(ctx).update(say=say)
    echo(format_crawl(runs))
    echo(format_ingest(report))
    if any(run.failed for run in runs):  # the schedule logs « en échec » for this run
        sys.exit(1)


@cli.command("schedule")
@click.option("--every", default="24h", show_default=True, help="Interval: 30m, 6h, 24h, 7d.")
@click.option("--runs", type=click.IntRange(1), default=None, help="Stop after this many runs.")
@click.pass_context
def schedule(ctx: click.Context, every: str, runs: int | None) -> None:
    """Run `fonds update` on a schedule, in the foreground (docker-compose uses it).

    Each run is logged; a failed run does not stop the schedule; SIGTERM stops it cleanly.

    Example: fonds schedule --every 24h
    """
    from fonds.app.update import parse_every
    from fonds.app.update import schedule as run_schedule

    seconds = parse_every(every)
    run_schedule(seconds, settings_of(ctx), echo, runs)


def _finite_ratio(value: float | None) -> float | None:
    """FloatRange lets NaN through (every comparison with it is false)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("un nombre entre 0 et 1 est attendu",
                                 param_hint="'--semantic-ratio'")
    return value


@cli.command("search")
@click.argument("query")
@click.option("--theme", multiple=True, help="Theme name (repeatable).")
@click.option("--departement", multiple=True, help="INSEE code or name: 34, Hérault.")
@click.option("--type", "doc_type", multiple=True, help="Document type: guide, rapport...")
@click.option("--source", multiple=True, help="Source name.")
@click.option("--year-from", type=YEARS, default=None, help="First publication year.")
@click.option("--year-to", type=YEARS, default=None, help="Last publication year.")
@click.option("--mode", type=click.Choice(["keyword", "semantic", "hybrid"]), default="hybrid",
              show_default=True, help="Words, meaning, or both.")
@click.option("--semantic-ratio", type=click.FloatRange(0, 1), default=None,
              callback=lambda ctx, param, value: _finite_ratio(value),
              help="Hybrid weight of meaning, 0 to 1 (default from the index settings).")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1, MAX_PAGE), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON shape.")
@click.pass_context
def search(ctx: click.Context, query: str, theme: tuple[str, ...], departement: tuple[str, ...],
           doc_type: tuple[str, ...], source: tuple[str, ...], year_from: int | None,
           year_to: int | None, mode: str, semantic_ratio: float | None, sort: str, limit: int,
           page: int, as_json: bool) -> None:
    """Search the archive; one result per document with its best passages.

    Without vectors in the index, use --mode keyword.

    Example: fonds search "conseils citoyens" --departement Hérault --mode hybrid
    """
    from fonds.engines.base import DEFAULT_SEMANTIC_RATIO, Mode, SearchRequest, Sort
    from fonds.render import format_result
    from fonds.search import build_filters, result_json

    archive = archive_of(ctx)
    filters = build_filters(theme, departement, doc_type, source, year_from, year_to)
    archive.searcher.check_filters(filters)
    request = SearchRequest(
        query=query, filters=filters, mode=Mode(mode),
        semantic_ratio=DEFAULT_SEMANTIC_RATIO if semantic_ratio is None else semantic_ratio,
        sort=Sort(sort), offset=(page - 1) * limit, limit=limit,
    )
    result = archive.search(request)
    if as_json:
        from fonds.catalog_versions import version_counts

        versions = version_counts(archive.settings.catalog_path,
                                  [h.doc_id for h in result.hits])
        echo(json.dumps(result_json(request, result, versions), ensure_ascii=False, indent=2))
    else:
        # format_result cleans every document value itself and adds its own bold escapes
        click.echo(format_result(request, result, bold=sys.stdout.isatty()))


@cli.command("reindex")
@click.option("--force", is_flag=True,
              help="Replace the index even when the catalog describes much less than it holds.")
@click.pass_context
def reindex(ctx: click.Context, force: bool) -> None:
    """Rebuild the index from the catalog's passages and cached vectors, without downtime.

    Nothing is extracted or embedded again (vectors come from the cache); searches keep
    answering from the old index until the new one replaces it. A catalog that describes
    less than half of what the index holds (truncated, restored from an old copy) stops
    the rebuild unless --force is given.

    Example: fonds reindex
    """
    report = archive_of(ctx).reindex(force=force, say=say)
    echo(f"Réindexation terminée : {report.documents} documents, {report.passages} passages.")


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON shape.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Counts of documents by status, the last runs, and what failed.

    Example: fonds status --json
    """
    from fonds.status import format_status

    settings = settings_of(ctx)
    report = Archive(settings).status()
    if as_json:
        echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        echo(f"Archive : {settings.data_dir} (moteur {settings.engine})")
        echo(format_status(report))


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=PORTS, default=8501, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the Streamlit search UI (search, document pages, maintenance).

    The UI process only ever uses a search key (FONDS_MEILI_SEARCH_KEY with Meilisearch).
    This process becomes Streamlit (exec): a signal to it stops the UI, and the admin key
    of the calling environment is gone with it.

    Example: fonds serve --host 0.0.0.0 --port 8501
    """
    _serve(settings_of(ctx), host, port)


def ui_environment(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The UI process's environment: every setting resolved, the admin key emptied (an
    empty variable also beats a key written in fonds.toml), so that process only ever
    holds the search key."""
    from fonds.app.update import child_environment

    return child_environment(settings, environ) | {"FONDS_MEILI_KEY": ""}


def _check_port(host: str, port: int) -> None:
    """Fail before any work when the UI's port is taken (Streamlit would say so in English,
    after the crawl and the ingest)."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise FondsError(f"le port {port} de {host} est déjà pris ({exc.strerror}) : "
                             "arrêtez l'autre programme ou choisissez --port") from None


def _serve(settings: Settings, host: str, port: int) -> NoReturn:
    import os

    _check_port(host, port)
    app = Path(__file__).resolve().parents[2] / "search_ui" / "app.py"
    env = ui_environment(settings, os.environ)
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", host,
               "--server.port", str(port), "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--client.toolbarMode", "minimal"]
    echo(f"Interface : http://{host}:{port}/")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)


cli.add_command(eval_)
cli.add_command(bench)


def main() -> None:
    cli(prog_name="fonds")
