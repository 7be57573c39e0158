"""What a crawl run tells a maintainer: the run's counts plus its details (the source, the
documents found new, changed, gone or failed, each broken link with its article), read
back from the catalog where the pipeline recorded them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fonds.catalog import Catalog
from fonds.models import Run
from fonds.text import printable
from fonds.ui_model import size_fr


@dataclass(frozen=True)
class BrokenLink:
    url: str
    error: str
    article_url: str = ""
    article_title: str = ""
    link_text: str = ""


@dataclass(frozen=True)
class CrawlReport:
    run: Run
    source: str
    healthy: bool  # discovery ran to its end: absences were counted
    failed: bool  # nothing was discovered: the run proves nothing (non-zero exit)
    reason: str | None = None  # why the run is not healthy, in French
    refused: str | None = None  # why no absence was counted although healthy
    new: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    gone: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()  # URLs of documents that failed this run
    broken_links: tuple[BrokenLink, ...] = ()
    discovery_errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # configuration the site contradicts (a category)
    log: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> Mapping[str, int]:
        return self.run.counts

    @property
    def errors(self) -> tuple[str, ...]:
        return self.run.errors

    def as_json(self) -> dict[str, Any]:
        return self.run.as_json() | {"details": dict(self.details)}

    @classmethod
    def from_run(cls, run: Run, details: Mapping[str, Any]) -> CrawlReport:
        def urls(key: str) -> tuple[str, ...]:
            entries = details.get(key)
            return tuple(str(e.get("url")) for e in entries if isinstance(e, Mapping)) if (
                isinstance(entries, list)) else ()

        broken = details.get("broken_links")
        links = tuple(BrokenLink(**{k: str(v or "") for k, v in b.items()
                                    if k in BrokenLink.__dataclass_fields__})
                      for b in broken if isinstance(b, Mapping) and b.get("url")) if (
            isinstance(broken, list)) else ()
        errors = details.get("discovery_errors")
        warnings = details.get("warnings")
        # A run recorded before reports had details (or killed before its end) is not
        # known healthy: it counted nothing it can vouch for.
        return cls(run=run, source=str(details.get("source") or ""),
                   healthy=bool(details.get("healthy", False)),
                   failed=bool(details.get("failed", run.finished is None)),
                   reason=details.get("reason") or None, refused=details.get("refused") or None,
                   new=urls("new"), changed=urls("changed"), gone=urls("gone"),
                   failures=urls("failures"), broken_links=links,
                   discovery_errors=tuple(str(e) for e in errors) if isinstance(
                       errors, list) else (),
                   warnings=tuple(str(w) for w in warnings) if isinstance(
                       warnings, list) else (),
                   log=str(details.get("log") or ""), details=dict(details))


def crawl_reports(catalog: Catalog, runs: list[Run]) -> list[CrawlReport]:
    return [CrawlReport.from_run(run, catalog.run_details(run.id)) for run in runs]


# -- rendering ----------------------------------------------------------------------


LISTED = 20  # documents named per list; the rest are in `fonds status --json`


def _listed(label: str, items: Sequence[str]) -> list[str]:
    lines = [f"  {label} : {item}" for item in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(f"  … et {len(items) - LISTED} autres (fonds status --json)")
    return lines


def _broken(link: BrokenLink) -> str:
    where = ""
    if link.article_url:
        title = f"« {link.article_title} » " if link.article_title else ""
        text = f", lien « {link.link_text} »" if link.link_text else ""
        where = f" — dans l'article {title}({link.article_url}){text}"
    return f"{link.url} — {link.error}{where}"


def format_crawl(reports: Sequence[CrawlReport]) -> str:
    """The run reports in French, for the CLI: counts, lists, broken links with their
    article, and why a run proved nothing."""
    """The run report of `fonds crawl`: one paragraph per source, in French."""
    if not reports:
        return "Aucune collecte n'a été enregistrée (voir les messages ci-dessus)."
    lines = []
    for report in reports:
        c = report.counts
        name = f" — source « {report.source} »" if report.source else ""
        if report.failed:
            lines.append(f"Collecte en échec{name} : {report.reason or 'rien de trouvé'}. "
                         "Rien n'est compté absent ; le site est-il joignable ?")
        else:
            state = "terminée" if report.healthy else "partielle"
            lines.append(
                f"Collecte {state}{name} : {c.get('new', 0)} nouveaux, {c.get('changed', 0)} "
                f"modifiés, {c.get('unchanged', 0)} inchangés, {c.get('gone', 0)} retirés, "
                f"{c.get('failed', 0)} en échec ; {c.get('missing', 0)} absents cette fois ; "
                f"{c.get('articles', 0)} articles lus.")
        lines.append(f"  {c.get('requests', 0)} requêtes ; pages {size_fr(c.get('bytes_pages', 0))}"
                     f", fichiers {size_fr(c.get('bytes', 0))} téléchargés.")
        if not report.failed and not report.healthy and report.reason:
            lines.append(f"  Aucune absence comptée : {report.reason}.")
        if report.refused:
            lines.append(f"  Aucune absence comptée : {report.refused}.")
        lines += _listed("nouveau", report.new)
        lines += _listed("modifié", report.changed)
        lines += _listed("retiré", report.gone)
        lines += _listed("lien cassé", [_broken(b) for b in report.broken_links])
        lines += _listed("découverte en échec", report.discovery_errors)
        lines += _listed("attention", report.warnings)
        if report.log and (report.failed or not report.healthy):
            lines.append(f"  Journal détaillé (anglais) : {report.log}")
    return printable("\n".join(lines))
