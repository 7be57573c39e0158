"""`fonds status`: what the archive holds, the last runs and what failed."""

from __future__ import annotations

from typing import Any

from fonds.catalog import Catalog

RUN_LABELS = {"crawl": "collecte", "ingest": "indexation", "import": "import",
              "reindex": "réindexation"}
COUNT_LABELS = {"new": "nouveaux", "changed": "modifiés", "unchanged": "inchangés",
                "gone": "retirés", "failed": "échecs", "ignored": "ignorés",
                "bytes": "octets", "requests": "requêtes"}


def status_report(catalog: Catalog, runs: int = 10) -> dict[str, Any]:
    """The `fonds status --json` shape of DESIGN.md."""
    counts = catalog.status_counts()
    return {
        "documents": {k: counts[k] for k in ("total", "active", "gone", "failed")},
        "passages": catalog.passage_count(),
        "runs": [run.as_json() for run in catalog.runs(limit=runs)],
        "failures": catalog.failures(),
    }


def format_counts(counts: dict[str, int]) -> str:
    parts = []
    for key, value in counts.items():
        if key == "bytes":
            parts.append(f"{value / 1e6:.1f} Mo".replace(".", ","))
        else:
            parts.append(f"{COUNT_LABELS.get(key, key)} {value}")
    return ", ".join(parts)


def format_status(report: dict[str, Any]) -> str:
    docs = report["documents"]
    lines = [
        f"Documents : {docs['total']} au total — {docs['active']} actifs, "
        f"{docs['gone']} retirés du site, {docs['failed']} en échec",
        f"Passages indexés : {report['passages']}",
    ]
    if report["runs"]:
        lines.append("Dernières exécutions :")
        for run in report["runs"]:
            label = RUN_LABELS.get(run["kind"], run["kind"])
            end = run["finished"] or "interrompue ou en cours"
            lines.append(f"  {label:<13} {run['started']} → {end}")
            if run["counts"]:
                lines.append(f"    {format_counts(run['counts'])}")
    else:
        lines.append("Aucune exécution : lancez « fonds import CHEMIN » ou « fonds crawl ».")
    if report["failures"]:
        lines.append(f"Échecs ({len(report['failures'])}) :")
        for failure in report["failures"]:
            lines.append(f"  {failure['url']} — {failure['error']}")
    return "\n".join(lines)
