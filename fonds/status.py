"""`fonds status`: what the archive holds, the last runs and what failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fonds.catalog import Catalog
from fonds.models import RunKind
from fonds.text import one_line
from fonds.ui_model import datetime_fr, size_fr
from fonds.versions import diff_link, summary_fr

RUN_LABELS = {"crawl": "collecte", "ingest": "indexation", "import": "import",
              "reindex": "réindexation"}
COUNT_LABELS = {"new": "nouveaux", "changed": "modifiés", "unchanged": "inchangés",
                "gone": "retirés", "failed": "échecs", "ignored": "ignorés",
                "bytes": "octets", "requests": "requêtes", "missing": "absents cette fois",
                "bytes_pages": "octets de pages", "articles": "articles lus",
                "capped": "requêtes au-delà du plafond",
                "outside_allow_list": "liens hors liste autorisée",
                "refused": "liens hors du dossier refusés",
                "skipped": "ignorés (liens cassés, tubes, sockets)"}
# What a crawl run's details add to its line in `status --json` (see crawler/pipelines.py).
CRAWL_DETAILS = ("source", "healthy", "failed", "reason", "refused", "broken_links")


@dataclass(frozen=True)
class IndexView:
    """What the search index holds, as the engine counts it (status counts what is
    searchable, not what the catalog hopes is)."""

    passages: int = 0
    documents: frozenset[str] = frozenset()
    error: str | None = None  # the index cannot be read: the repair command is in it


def status_report(catalog: Catalog, runs: int = 10, index: IndexView | None = None
                  ) -> dict[str, Any]:
    """The `fonds status --json` shape of DESIGN.md. A failure carries the articles that
    link it (a broken link is fixed in its article), a crawl run its source and whether
    it saw the site. With `index`, "passages" is what the index holds, and "index" says
    which active, extracted documents it lacks."""
    counts = catalog.status_counts()
    listed = []
    for run in catalog.runs(limit=runs):
        entry = run.as_json()
        if run.kind == RunKind.CRAWL:
            details = catalog.run_details(run.id)
            entry |= {k: details[k] for k in CRAWL_DETAILS if k in details}
        listed.append(entry)
    failures = []
    for failure in catalog.failures():
        links = [{"article_url": k.article_url, "article_title": k.article_title,
                  "link_text": k.link_text} for k in catalog.links(failure["doc_id"])]
        failures.append(failure | (links[0] if links else {}) | {"links": links})
    report = {
        "documents": {k: counts[k] for k in ("total", "active", "gone", "failed")},
        "passages": catalog.passage_count(),
        "runs": listed,
        "failures": failures,
        "changed": changed_documents(catalog, min((str(r["started"]) for r in listed),
                                                  default=None)),
    }
    damaged = catalog.damaged_ids()
    if damaged:
        report["catalog_damaged"] = damaged
    if index is not None:
        expected = catalog.searchable_ids()
        report["passages"] = index.passages
        report["index"] = {"passages": index.passages, "documents": len(index.documents),
                           "catalog_passages": catalog.passage_count(),
                           "missing": sorted(expected - index.documents),
                           "error": index.error}
    return report


def changed_documents(catalog: Catalog, since: str | None) -> list[dict[str, Any]]:
    """Documents that got a new version since `since` (the oldest run listed), newest
    first, once each: the latest version, what changed in it, the UI link to its « Ce qui
    a changé », and how many new versions these runs found ("new_versions")."""
    if since is None:
        return []
    out = []
    for version, new in catalog.changed_since(since):
        doc = catalog.document(version.doc_id)
        if doc is None:
            continue
        diff = version.diff
        out.append({
            "doc_id": doc.id, "title": doc.display_title, "url": doc.canonical_url,
            "version": version.number, "versions": len(catalog.versions(doc.id)),
            "new_versions": new,
            "first_seen": version.first_seen,
            "diff": None if diff is None else {"added": diff.added, "removed": diff.removed,
                                               "changed": diff.changed},
            "diff_error": version.diff_error, "link": diff_link(doc.id, version.number)})
    return out


def changed_line(entry: dict[str, Any]) -> str:
    """« version 3 sur 3, vue le 8 février 2021 à 14 h 05 : 2 phrases ajoutées »."""
    what = summary_fr(**entry["diff"]) if entry["diff"] is not None else \
        entry["diff_error"] or "comparaison à venir (lancez « fonds ingest »)"
    return f"{version_fr(entry)}, vue le {datetime_fr(entry['first_seen'])} : {what}"


def version_fr(entry: dict[str, Any]) -> str:
    """« version 3 sur 3 (2 nouvelles) » for a changed document."""
    new = entry.get("new_versions") or 1
    return f"version {entry['version']} sur {entry['versions']}" + (
        f" ({new} nouvelles)" if new > 1 else "")


def format_counts(counts: dict[str, int]) -> str:
    parts = []
    for key, value in counts.items():
        if key in ("bytes", "bytes_pages"):
            what = "pages" if key == "bytes_pages" else "fichiers"
            parts.append(f"{what} {size_fr(value)}")
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
    if report.get("catalog_damaged"):
        lines.append(f"Catalogue endommagé : {len(report['catalog_damaged'])} document(s) aux "
                     "champs illisibles (lus comme vides) ; restaurez une sauvegarde "
                     "(README, « Backing up » : sqlite3 data/catalog.sqlite \".restore …\")")
    index = report.get("index") or {}
    if index.get("error"):
        lines.append(f"Index illisible : {index['error']}")
    elif index.get("missing"):
        lines.append(f"{len(index['missing'])} document(s) actif(s) et extrait(s) absents de "
                     "l'index : lancez « fonds ingest »")
    if report["runs"]:
        lines.append("Dernières exécutions :")
        for run in report["runs"]:
            label = RUN_LABELS.get(run["kind"], run["kind"])
            end = run["finished"] or "interrompue ou en cours"
            lines.append(f"  {label:<13} {run['started']} → {end}")
            if run.get("source"):
                state = ("en échec" if run.get("failed") else "complète" if run.get("healthy")
                         else "partielle")
                why = f" : {run['reason']}" if run.get("reason") else ""
                lines.append(f"    source « {run['source']} », {state}{why}")
            if run["counts"]:
                lines.append(f"    {format_counts(run['counts'])}")
    else:
        lines.append("Aucune exécution : lancez « fonds import CHEMIN » ou « fonds crawl ».")
    if report.get("changed"):
        lines.append(f"Documents modifiés par ces exécutions ({len(report['changed'])}) :")
        for entry in report["changed"]:
            lines.append(f"  « {one_line(entry['title'])[:120]} » ({one_line(entry['url'])})")
            lines.append(f"      {changed_line(entry)}")
    if report["failures"]:
        lines.append(f"Échecs ({len(report['failures'])}) :")
        for failure in report["failures"]:
            lines.append(f"  {failure['url']} — {failure['error']}")
            for link in failure.get("links", ())[:3]:
                title = f"« {link['article_title']} » " if link["article_title"] else ""
                text = f", lien « {link['link_text']} »" if link["link_text"] else ""
                lines.append(f"      dans l'article {title}({link['article_url']}){text}")
    return "\n".join(lines)
