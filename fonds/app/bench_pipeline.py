"""`fonds bench ingest` and `fonds bench crawl`: the pipeline's speed, measured end to end."""

from __future__ import annotations

import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fonds.app.bench import environment, peak_rss_mb


def bench_ingest(corpus: Path, work_dir: Path, ocr: bool, embedder: str,
                 progress: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """Ingest a folder twice in the same run, each into a fresh data dir (no shared
    embedding cache): extraction and embedding in turn, then overlapped (extraction ahead
    of the embedding, what `fonds ingest` does). Then rerun with nothing changed."""
    from fonds.app.archive import Archive
    from fonds.embedding import load_embedder
    from fonds.settings import load_settings
    from ingest.pipeline import ingest_archive

    shutil.rmtree(work_dir, ignore_errors=True)
    runs: dict[str, dict[str, Any]] = {}
    first = None
    for label, overlap in (("sequential", False), ("overlapped", True)):
        settings = load_settings({"data_dir": work_dir / label, "ocr": ocr,
                                  "embedder": embedder}, env={})
        load_embedder(settings)  # loaded once, before either run is timed
        archive = Archive(settings)
        archive.import_paths([corpus], progress=False)
        progress(f"indexation de {corpus} ({label})…")
        with archive.writing():
            started = time.perf_counter()
            report = ingest_archive(settings, progress=False, overlap=overlap)
            total_s = time.perf_counter() - started
            started = time.perf_counter()
            ingest_archive(settings, progress=False)
            rerun_s = time.perf_counter() - started
        first = first or report
        runs[label] = _ingest_figures(report, total_s, rerun_s)
    assert first is not None
    counts = first.counts
    sequential, overlapped = runs["sequential"], runs["overlapped"]
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "corpus": str(corpus), "documents": counts["processed"] + counts["failed"],
        "pages": counts["pages"], "passages": counts["passages"], "ocr": ocr,
        "embedder": first.embedder, "embed_device": first.device,
        "passages_per_s": {"sequential": sequential["passages_per_s"],
                           "overlapped": overlapped["passages_per_s"]},
        "speedup": round(sequential["seconds"]["total"]
                         / max(overlapped["seconds"]["total"], 1e-9), 2),
        "sequential": sequential, "overlapped": overlapped,
        "peak_rss_mb": {"ingest": peak_rss_mb(), "extraction_worker": round(children, 1)},
        "environment": environment(),
    }


def _ingest_figures(report: Any, total_s: float, rerun_s: float) -> dict[str, Any]:
    counts, timings = report.counts, report.timings
    return {
        "passages": counts["passages"],
        # end to end: what the overlap changes; the embedder's own rate is beside it
        "passages_per_s": round(counts["passages"] / max(total_s, 1e-9), 2),
        "extract_pages_per_s": round(counts["pages"] / max(timings["extract"], 1e-9), 1),
        "embed_passages_per_s": round(counts["embedded"] / max(timings["embed"], 1e-9), 1)
        if counts["embedded"] else None,
        "seconds": {"total": round(total_s, 1), "extract": round(timings["extract"], 1),
                    "waiting_for_extraction": round(timings["wait"], 1),
                    "build": round(timings["build"], 1), "embed": round(timings["embed"], 1),
                    "index": round(timings["index"], 1), "rerun_unchanged": round(rerun_s, 2)},
    }


def format_ingest(report: dict[str, Any]) -> str:
    lines = [
        f"{report['documents']} documents, {report['pages']} pages, {report['passages']} "
        f"passages (OCR {'activé' if report['ocr'] else 'désactivé'}, "
        f"{report['embedder'] or 'sans vecteurs'}"
        f"{' sur ' + report['embed_device'] if report['embed_device'] else ''})"]
    for label, name in (("sequential", "à la suite"), ("overlapped", "en parallèle")):
        r = report[label]
        s = r["seconds"]
        lines.append(
            f"extraction et embeddings {name} : {r['passages_per_s']} passages/s de bout en "
            f"bout ({s['total']} s) ; extraction {r['extract_pages_per_s']} pages/s "
            f"({s['extract']} s, attente {s['waiting_for_extraction']} s), embeddings "
            f"{r['embed_passages_per_s']} passages/s ({s['embed']} s), index {s['index']} s ; "
            f"relance sans changement : {s['rerun_unchanged']} s")
    lines += [
        f"gain : × {report['speedup']}",
        f"mémoire max : {report['peak_rss_mb']['ingest']} Mo (processus), "
        f"{report['peak_rss_mb']['extraction_worker']} Mo (extraction)",
    ]
    return "\n".join(lines)


def bench_crawl(work_dir: Path, progress: Callable[[str], None] = lambda m: None
                ) -> dict[str, Any]:
    """A full then an incremental crawl of the replica site (each in its own process, as
    `fonds crawl` runs): requests, bytes, duration, pages per second."""
    import os
    import sys

    from fonds.catalog import Catalog
    from replica.server import ServedSite

    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    results = {}
    with ServedSite() as site:
        official = site.site.official_base.split("//", 1)[1]
        sources = work_dir / "sources.toml"
        sources.write_text(f'[[source]]\nname = "replica"\nfamily = "wordpress"\nbase_url = '
                           f'"{site.base_url}"\ncategories = ["participation-des-habitants"]\n'
                           f'official_domains = ["{official}"]\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("FONDS_")} | {
            "FONDS_DATA_DIR": str(work_dir / "data"), "FONDS_SOURCES_FILE": str(sources),
            "FONDS_CRAWL_ALLOW_PRIVATE": "true", "FONDS_CRAWL_DELAY_S": "0"}
        for label in ("full", "incremental"):
            progress(f"collecte {label}…")
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "fonds", "crawl"], env=env, check=True,
                           capture_output=True, cwd=Path(__file__).resolve().parents[2])
            seconds = time.perf_counter() - started
            with Catalog(work_dir / "data" / "catalog.sqlite") as catalog:
                counts = dict(catalog.runs(limit=1)[0].counts)
            results[label] = {"seconds": round(seconds, 2), "requests": counts["requests"],
                              "bytes": counts["bytes"], "new": counts["new"],
                              "changed": counts["changed"], "unchanged": counts["unchanged"],
                              "failed": counts["failed"],
                              "requests_per_s": round(counts["requests"] / seconds, 1)}
    return {"site": "replica (replica/)", **results, "environment": environment()}


def format_crawl(report: dict[str, Any]) -> str:
    lines = []
    for label, name in (("full", "complète"), ("incremental", "incrémentale")):
        r = report[label]
        lines.append(f"collecte {name} : {r['seconds']} s, {r['requests']} requêtes "
                     f"({r['requests_per_s']}/s), {r['bytes']} octets ; nouveaux {r['new']}, "
                     f"modifiés {r['changed']}, inchangés {r['unchanged']}, échecs {r['failed']}")
    return "\n".join(lines)
