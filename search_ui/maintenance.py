"""The maintenance page: what the archive holds, the last runs, what failed, and the
queries that found nothing. Shown only when the ui_show_maintenance setting is on.

Tables and bars are plain HTML (escaped values): they wrap on a phone, carry full
labels, and have no English toolbar.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import streamlit as st

from fonds import zero_results
from fonds.catalog import Catalog
from fonds.models import RunKind
from fonds.search import SearchService
from fonds.settings import Settings
from fonds.status import COUNT_LABELS, RUN_LABELS, status_report, version_fr
from fonds.taxonomy import departement_label
from fonds.ui_model import (
    date_fr,
    datetime_fr,
    duration_fr,
    safe,
    size_fr,
    source_label,
)
from fonds.ui_model import link as app_link
from fonds.versions import summary_fr
from search_ui.views import anchor, web_url

# Every count a run records, in French (COUNT_LABELS has the crawl's).
RUN_COUNTS = {**COUNT_LABELS, "processed": "traités", "ok": "complets", "partial": "partiels",
              "no_text": "sans texte", "embedded": "vecteurs calculés",
              "embeddings_cached": "vecteurs en cache", "passages": "passages",
              "pages": "pages", "outside_allow_list": "hors des sites autorisés",
              "skipped": "ignorés", "errors": "erreurs", "records": "enregistrements",
              "imported": "importés", "capped": "limite de requêtes atteinte",
              "private": "adresses privées refusées", "retried": "réessayés"}
MAIN_COUNTS = ("new", "changed", "gone", "failed")
HIDDEN = {"seconds"}


def html_table(header: list[str], rows: list[list[str]], numeric: frozenset[int] = frozenset(),
               long: frozenset[int] = frozenset()) -> str:
    """Values in `rows` must already be safe. `long` columns (addresses, reasons) break
    anywhere; a table still wider than a phone scrolls inside its box, not the page."""
    head = "".join(f"<th scope='col'>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f"<td class='n'>{v}</td>" if i in numeric else
        f"<td class='long'>{v}</td>" if i in long else f"<td>{v}</td>"
        for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<div class='fonds-scroll'><table class='fonds-table'><thead><tr>{head}</tr>" \
           f"</thead><tbody>{body}</tbody></table></div>"


def _seconds(run: Mapping[str, Any]) -> float | None:
    counts = run.get("counts") or {}
    if isinstance(counts.get("seconds"), int | float):
        return float(counts["seconds"])
    try:
        return (datetime.fromisoformat(run["finished"]) -
                datetime.fromisoformat(run["started"])).total_seconds()
    except (TypeError, ValueError, KeyError):
        return None


def run_rows(runs: list[Mapping[str, Any]]) -> list[list[str]]:
    rows = []
    for run in runs:
        counts = {k: v for k, v in (run.get("counts") or {}).items() if k not in HIDDEN}
        other = ", ".join(
            f"{RUN_COUNTS.get(k, k.replace('_', ' '))} : "
            f"{size_fr(v) if k == 'bytes' and isinstance(v, int) else v}"
            for k, v in counts.items() if k not in MAIN_COUNTS and v)
        rows.append([
            safe(RUN_LABELS.get(run["kind"], run["kind"]).capitalize()),
            safe(datetime_fr(run["started"])),
            safe(duration_fr(_seconds(run))) if run.get("finished") else
            "interrompue ou en cours",
            *(str(counts.get(k, 0)) for k in MAIN_COUNTS),
            safe(other, 2000) or "—"])
    return rows


def changed_rows(changed: list[Mapping[str, Any]]) -> list[list[str]]:
    """A row per changed document: its page, the version, when, and the link to its
    « Ce qui a changé » with what the stored comparison counts."""
    rows = []
    for entry in changed:
        diff = entry.get("diff")
        what = summary_fr(**diff) if isinstance(diff, dict) else \
            entry.get("diff_error") or "comparaison à venir (prochaine indexation)"
        doc = anchor(app_link({"vue": "document", "doc": entry["doc_id"]}),
                     safe(entry.get("title") or entry.get("url"), 300))
        rows.append([doc, safe(version_fr(entry).removeprefix("version ")),
                     safe(datetime_fr(entry.get("first_seen"))),
                     anchor(html.escape(entry["link"], quote=True), safe(what, 300))])
    return rows


def bars(counts: Mapping[str, int], label: Any, by_count: bool = True) -> str:
    """Horizontal bars with the full label, largest first (years in order)."""
    items = sorted(counts.items(), key=(lambda kv: (-kv[1], str(kv[0]))) if by_count
                   else (lambda kv: str(kv[0])))
    top = max((n for _, n in items), default=1) or 1
    rows = "".join(
        f"<tr><td class='long'>{safe(label(k), 200)}</td><td style='width:45%'><div "
        f"style='background:#4a78c2;height:.9em;width:{100 * n / top:.1f}%'></div></td>"
        f"<td class='n'>{n}</td></tr>" for k, n in items)
    return f"<table class='fonds-table'>{rows}</table>"


def _article(failure: Mapping[str, Any]) -> str:
    """The article that links a broken address, when the catalog knows it."""
    for key in ("article", "article_url", "referrer", "referrer_url"):
        value = failure.get(key)
        if isinstance(value, str) and value:
            return safe(value, 300)
    refs = failure.get("referrers")
    if isinstance(refs, list) and refs:
        first = refs[0]
        return safe(first.get("url") if isinstance(first, dict) else first, 300)
    return "—"


def _broken_links(catalog: Catalog) -> list[list[str]]:
    """Each broken link of the last crawl with the article that links it (run details)."""
    runs = catalog.runs(limit=1, kind=RunKind.CRAWL)
    details = catalog.run_details(runs[0].id) if runs else {}
    rows = []
    for link in details.get("broken_links") or []:
        if not isinstance(link, dict):
            continue
        article = link.get("article_url") if isinstance(link.get("article_url"), str) else ""
        title = link.get("article_title") if isinstance(link.get("article_title"), str) else ""
        href = web_url(article)
        shown = safe(title or article, 300)
        rows.append([safe(link.get("error") or "raison non enregistrée", 500),
                     anchor(href, shown, new_tab=True) if href and shown else shown or "—",
                     safe(link.get("url"), 500) + (f" (« {safe(link.get('link_text'), 120)} »)"
                                                   if link.get("link_text") else "")])
    return rows


def maintenance_page(search: SearchService, catalog: Catalog, config: Settings) -> None:
    st.title("Maintenance de l'archive", anchor=False)
    report = status_report(catalog, runs=20)
    docs = report["documents"]
    cols = st.columns(5)
    for column, (label, value) in zip(cols, [("Documents", docs["total"]),
                                             ("Actifs", docs["active"]),
                                             ("Retirés du site", docs["gone"]),
                                             ("En échec", docs["failed"]),
                                             ("Passages", report["passages"])], strict=True):
        column.metric(label, value)

    st.subheader("Dernières collectes et indexations", anchor=False)
    if report["runs"]:
        st.markdown(html_table(["Étape", "Début", "Durée", "Nouveaux", "Modifiés", "Retirés",
                                "En échec", "Autres chiffres"], run_rows(report["runs"]),
                               numeric=frozenset({3, 4, 5, 6}), long=frozenset({7})),
                    unsafe_allow_html=True)
    else:
        st.caption("Aucune exécution pour l'instant.")

    st.subheader("Documents modifiés par ces exécutions", anchor=False)
    if report["changed"]:
        st.markdown(html_table(["Document", "Version", "Vue le", "Ce qui a changé"],
                               changed_rows(report["changed"]), long=frozenset({0, 3})),
                    unsafe_allow_html=True)
    else:
        st.caption("Aucun document n'a changé lors de ces exécutions.")

    st.subheader("Documents et liens en échec", anchor=False)
    if report["failures"]:
        st.markdown(html_table(["Raison", "Article qui le cite", "Adresse"], [
            [safe(f.get("error") or "raison non enregistrée", 500), _article(f),
             safe(f.get("url"), 500)] for f in report["failures"]], long=frozenset({0, 1, 2})),
            unsafe_allow_html=True)
    else:
        st.caption("Aucun document en échec.")

    st.subheader("Liens cassés de la dernière collecte", anchor=False)
    broken = _broken_links(catalog)
    if broken:
        st.markdown(html_table(["Raison", "Article qui le cite", "Lien"], broken,
                               long=frozenset({0, 1, 2})), unsafe_allow_html=True)
    else:
        st.caption("Aucun lien cassé lors de la dernière collecte.")

    st.subheader("Recherches sans résultat", anchor=False)
    misses = zero_results.top(config.data_dir)
    if misses:
        st.caption(f"Comptées par requête normalisée, sans donnée personnelle, gardées "
                   f"{zero_results.RETENTION_DAYS} jours : de quoi ajouter des synonymes "
                   "ou des documents.")
        st.markdown(html_table(["Requête", "Nombre", "Première fois", "Dernière fois"], [
            [safe(m.query), str(m.count), safe(date_fr(m.first_day)),
             safe(date_fr(m.last_day))] for m in misses], numeric=frozenset({1}),
            long=frozenset({0})),
            unsafe_allow_html=True)
    else:
        st.caption("Aucune recherche sans résultat enregistrée.")

    facets = search.facet_values()
    for facet, title, label, by_count in (
            ("themes", "Documents par thème", str, True),
            ("departements", "Documents par département", departement_label, True),
            ("source", "Documents par source", source_label, True),
            ("year", "Documents par année", str, False)):
        counts = facets.get(facet, {})
        if counts:
            st.subheader(title, anchor=False)
            st.markdown(bars(counts, label, by_count), unsafe_allow_html=True)
