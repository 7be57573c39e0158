"""Plain-text rendering of results for the terminal, in French."""

from __future__ import annotations

from fonds.engines.base import Mode, SearchRequest, SearchResult
from fonds.highlight import plain
from fonds.taxonomy import departement_label

MODE_LABELS = {Mode.KEYWORD: "mots exacts", Mode.SEMANTIC: "sens proche", Mode.HYBRID: "mixte"}


def format_result(request: SearchRequest, result: SearchResult, bold: bool = False) -> str:
    noun = "document" if result.total == 1 else "documents"
    lines = [f"{result.total} {noun} ({result.took_ms:.0f} ms) — « {request.query} », "
             f"{MODE_LABELS[request.mode]}"]
    if not result.hits:
        lines.append("Aucun résultat : essayez moins de mots, retirez un filtre ou le mode "
                     "« sens proche » (--mode semantic).")
    for number, hit in enumerate(result.hits, start=request.offset + 1):
        lines.append("")
        lines.append(f"{number}. {hit.title or '(sans titre)'}")
        details = [hit.doc_type, hit.date, hit.source,
                   ", ".join(departement_label(c) for c in hit.departements),
                   ", ".join(hit.themes)]
        lines.append("   " + " · ".join(d for d in details if d))
        if hit.url:
            lines.append(f"   {hit.url}")
        for passage in hit.passages:
            page = f"p. {passage.page} — " if passage.page else ""
            lines.append(f"   {page}{plain(passage.highlight, bold=bold)}")
    return "\n".join(lines)
