"""What a crawl run tells a maintainer: the run's counts plus its details (the source, the
documents found new, changed, gone or failed, each broken link with its article), read
back from the catalog where the pipeline recorded them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fonds.catalog import Catalog
from fonds.models import Run


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
