"""`fonds bench ingest` and `fonds bench crawl`: the pipeline's speed, measured end to end."""

from __future__ import annotations

import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fonds.app.bench import _peak_rss_mb, environment


def bench_ingest(corpus: Path, work_dir: Path, ocr: bool, embedder: str,
                 progress: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """Import and ingest a folder into a fresh data dir, then rerun with nothing changed."""
    from fonds.app.archive import Archive
    from fonds.settings import load_settings

    shutil.rmtree(work_dir, ignore_errors=True)
    settings = load_settings({"data_dir": work_dir, "ocr": ocr, "embedder": embedder}, env={})
    archive = Archive(settings)
    archive.import_paths([corpus], progress=False)
    progress(f"indexation de {corpus}…")
    started = time.perf_counter()
    first = archive.ingest(progress=False)
    total_s = time.perf_counter() - started
    started = time.perf_counter()
    archive.ingest(progress=False)
    rerun_s = time.perf_counter() - started
    counts, timings = first.counts, first.timings
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "corpus": str(corpus), "documents": counts["processed"] + counts["failed"],
        "pages": counts["pages"], "passages": counts["passages"], "ocr": ocr,
        "embedder": first.embedder,
        "extract_pages_per_s": round(counts["pages"] / max(timings["extract"], 1e-9), 1),
        "embed_passages_per_s": round(counts["embedded"] / max(timings["embed"], 1e-9), 1)
        if counts["embedded"] else None,
        "seconds": {"total": round(total_s, 1), "extract": round(timings["extract"], 1),
                    "embed": round(timings["embed"], 1), "index": round(timings["index"], 1),
                    "rerun_unchanged": round(rerun_s, 2)},
        "peak_rss_mb": {"ingest": _peak_rss_mb(), "extraction_worker": round(children, 1)},
        "environment": environment(),
    }


def format_ingest(report: dict[str, Any]) -> str:
    s = report["seconds"]
    lines = [
        f"{report['documents']} documents, {report['pages']} pages, {report['passages']} "
        f"passages (OCR {'activé' if report['ocr'] else 'désactivé'}, {report['embedder']})",
        f"extraction : {report['extract_pages_per_s']} pages/s ({s['extract']} s)",
        f"embeddings : {report['embed_passages_per_s']} passages/s ({s['embed']} s)",
        f"index : {s['index']} s ; total : {s['total']} s ; relance sans changement : "
        f"{s['rerun_unchanged']} s",
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
