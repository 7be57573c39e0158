"""Plain-text rendering of results for the terminal, in French."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Protocol

from fonds.engines.base import Mode, SearchRequest, SearchResult
from fonds.highlight import plain
from fonds.taxonomy import departement_label
from fonds.text import printable
from fonds.ui_model import date_fr

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
        if hit.copies:  # near-duplicates folded into this result
            others = ", ".join(f"{c.source or c.url} ({date_fr(c.date) or 'sans date'})"
                               for c in hit.copies)
            lines.append(f"   Également publié par {printable(others)}")
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
