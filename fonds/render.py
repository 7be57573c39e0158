"""Plain-text rendering of results for the terminal, in French."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol

from fonds.engines.base import Mode, SearchRequest, SearchResult
from fonds.highlight import plain
from fonds.taxonomy import departement_label
from fonds.text import printable
from fonds.ui_model import size_fr

MODE_LABELS = {Mode.KEYWORD: "mots exacts", Mode.SEMANTIC: "sens proche", Mode.HYBRID: "mixte"}


def format_result(request: SearchRequest, result: SearchResult, bold: bool = False) -> str:
    noun = "document" if result.total == 1 else "documents"
    lines = [f"{result.total} {noun} ({result.took_ms:.0f} ms) — « {printable(request.query)} », "
             f"{MODE_LABELS[request.mode]}"]
    if not result.hits:
        lines.append("Aucun résultat : essayez moins de mots, retirez un filtre ou le mode "
                     "« sens proche » (--mode semantic).")
    for number, hit in enumerate(result.hits, start=request.offset + 1):
        lines.append("")
        lines.append(f"{number}. {printable(hit.title) or '(sans titre)'}")
        details = [hit.doc_type, hit.date, hit.source,
                   ", ".join(departement_label(c) for c in hit.departements),
                   ", ".join(hit.themes)]
        lines.append("   " + printable(" · ".join(d for d in details if d)))
        if hit.url:
            lines.append(f"   {printable(hit.url)}")
        for passage in hit.passages:
            page = f"p. {passage.page} — " if passage.page else ""
            # controls out before plain() adds the terminal's own bold escapes
            lines.append(f"   {page}{plain(printable(passage.highlight), bold=bold)}")
    return "\n".join(lines)


class IngestReportView(Protocol):
    """What format_ingest reads of an ingest report (ingest.pipeline.IngestReport)."""

    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def failures(self) -> Counter[str]: ...
    @property
    def seconds(self) -> float: ...
    @property
    def embedder(self) -> str | None: ...


def format_ingest(report: IngestReportView) -> str:
    c = report.counts
    extra = []
    if c.get("reindexed"):
        extra.append(f"{c['reindexed']} document(s) absent(s) de l'index réindexé(s)")
    if c.get("retried"):
        extra.append(f"{c['retried']} échec(s) réessayé(s)")
    if not (c.get("processed") or c.get("failed")):
        lines = [f"Rien à indexer : {c.get('unchanged', 0)} document(s) inchangé(s)"
                 + (f", {c['gone']} retiré(s) de l'index" if c.get("gone") else "")
                 + "".join(f", {e}" for e in extra) + "."]
    else:
        lines = [
            f"Indexation terminée en {report.seconds:.0f} s : {c.get('processed', 0)} "
            f"document(s) traité(s) ({c.get('ok', 0)} complets, {c.get('partial', 0)} "
            f"partiels, {c.get('no_text', 0)} sans texte), {c.get('failed', 0)} en échec, "
            f"{c.get('unchanged', 0)} inchangé(s), {c.get('gone', 0)} retiré(s).",
            f"{c.get('passages', 0)} passages, {c.get('pages', 0)} pages ; vecteurs : "
            f"{c.get('embedded', 0)} calculés, {c.get('embeddings_cached', 0)} en cache"
            + (f" ({report.embedder})." if report.embedder else " (aucun modèle : "
               "recherche par mots seulement)."),
        ] + [f"  {e}." for e in extra]
    for reason, n in report.failures.most_common():
        lines.append(f"  échec × {n} : {reason}")
    return "\n".join(lines)


class BrokenLinkView(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def error(self) -> str: ...
    @property
    def article_url(self) -> str: ...
    @property
    def article_title(self) -> str: ...
    @property
    def link_text(self) -> str: ...


class CrawlReportView(Protocol):
    """What format_crawl reads of a crawl report (crawler.report.CrawlReport)."""

    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def source(self) -> str: ...
    @property
    def healthy(self) -> bool: ...
    @property
    def failed(self) -> bool: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def refused(self) -> str | None: ...
    @property
    def new(self) -> Sequence[str]: ...
    @property
    def changed(self) -> Sequence[str]: ...
    @property
    def gone(self) -> Sequence[str]: ...
    @property
    def broken_links(self) -> Sequence[BrokenLinkView]: ...
    @property
    def discovery_errors(self) -> Sequence[str]: ...
    @property
    def warnings(self) -> Sequence[str]: ...
    @property
    def log(self) -> str: ...


LISTED = 20


def _listed(label: str, items: Sequence[str]) -> list[str]:
    lines = [f"  {label} : {item}" for item in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(f"  … et {len(items) - LISTED} autres (fonds status --json)")
    return lines


def _broken(link: BrokenLinkView) -> str:
    where = ""
    if link.article_url:
        title = f"« {link.article_title} » " if link.article_title else ""
        text = f", lien « {link.link_text} »" if link.link_text else ""
        where = f" — dans l'article {title}({link.article_url}){text}"
    return f"{link.url} — {link.error}{where}"


def format_crawl(reports: Sequence[CrawlReportView]) -> str:
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
