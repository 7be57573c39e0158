"""A document's versions and « Ce qui a changé », on its page (search_ui/document.py).

Every value shown comes from the catalog and is escaped (safe); the comparison is the one
stored at ingest (fonds/versions.py), never computed here.
"""

from __future__ import annotations

from itertools import groupby

import streamlit as st

from fonds.catalog import Catalog
from fonds.models import Document
from fonds.ui_model import UiState, datetime_fr, link, safe, size_fr, to_params
from fonds.versions import (
    DIFF_ANCHOR,
    MAX_CHANGES,
    Change,
    ChangeKind,
    Version,
    summary_fr,
    word_diff,
)
from search_ui.maintenance import html_table
from search_ui.views import anchor

KIND_LABELS = {ChangeKind.ADDED: "Ajouté", ChangeKind.REMOVED: "Retiré",
               ChangeKind.CHANGED: "Modifié"}
# Inline styles: the marks must read as added or removed without the page's stylesheet.
ADDED = "background:#e3f4e1;text-decoration:none"
REMOVED = "background:#fbe4e4"
CHANGE = "border-left:3px solid #c9d3e0;padding:.2em .8em;margin:.3em 0"


def version_label(version: Version, total: int) -> str:
    return f"version {version.number} sur {total}" + (" (actuelle)" if
                                                      version.number == total else "")


def versions_section(catalog: Catalog, doc: Document, state: UiState, chosen: int | None
                     ) -> None:
    """The list of versions, each opening in the archive viewer, then what changed in the
    chosen one (by default the latest that has a predecessor)."""
    versions = catalog.versions(doc.id)
    st.subheader("Versions", anchor="versions")
    if not versions:
        st.caption("Aucune version archivée : le document n'a jamais pu être téléchargé.")
        return
    here = {**to_params(state), "doc": doc.id}
    rows = []
    for version in reversed(versions):
        opened = anchor(link({**here, "vue": "copie", "version": str(version.number),
                              "page": "1"}), f"Ouvrir la version {version.number}")
        diff = "—" if version.number == 1 else anchor(
            link({**here, "vue": "document", "version": str(version.number)})
            + f"#{DIFF_ANCHOR}", "Ce qui a changé")
        rows.append([safe(version_label(version, len(versions))),
                     safe(datetime_fr(version.first_seen)), safe(datetime_fr(version.last_seen)),
                     safe(size_fr(version.size)) if version.size is not None else "—",
                     str(version.pages) if version.pages else "—", opened, diff])
    st.markdown(html_table(["Version", "Vue pour la première fois", "Vue pour la dernière fois",
                            "Taille", "Pages", "Copie archivée", "Différences"], rows,
                           numeric=frozenset({3, 4})), unsafe_allow_html=True)
    changes_section(versions, chosen)


def changes_section(versions: list[Version], chosen: int | None) -> None:
    st.subheader("Ce qui a changé", anchor=DIFF_ANCHOR)
    if len(versions) == 1:
        st.caption("Une seule version connue : rien n'a changé depuis que l'archive suit ce "
                   "document.")
        return
    by_number = {v.number: v for v in versions}
    version = by_number.get(chosen or 0) or versions[-1]
    if version.number == 1:
        st.caption("La version 1 est la première que l'archive a vue : pas de version "
                   "précédente à comparer.")
        return
    base = next((v for v in reversed(versions[:version.number - 1])
                 if version.diff is not None and v.sha256 == version.diff.base), None)
    what = f"Version {version.number} (vue le {datetime_fr(version.first_seen)})"
    if base is not None:
        what += f" comparée à la version {base.number} (vue le {datetime_fr(base.first_seen)})"
    diff = version.diff
    if diff is None:
        st.markdown(safe(what + " : ") + safe(
            f"pas de comparaison, {version.diff_error}." if version.diff_error else
            "comparaison pas encore calculée ; elle le sera à la prochaine indexation "
            "(« fonds ingest »)."), unsafe_allow_html=True)
        return
    st.markdown(f"<p class='fonds-diff-summary'>{safe(what)} : "
                f"{safe(summary_fr(diff.added, diff.removed, diff.changed))}.</p>",
                unsafe_allow_html=True)
    if diff.empty:
        st.caption("Le fichier a changé (mise en page, métadonnées, images) mais pas son "
                   "texte extrait.")
        return
    if diff.truncated:
        st.caption(f"Seules les {MAX_CHANGES} premières différences sont affichées.")
    # By page, in reading order within a page (a removed sentence: the page it was on).
    ordered = sorted(diff.changes, key=lambda c: (c.page is None, c.page or 0))
    for page, group in groupby(ordered, key=lambda c: c.page):
        st.markdown(f"<h4 class='fonds-diff-page'>{page_heading(page)}</h4>"
                    + "".join(change_html(c) for c in group), unsafe_allow_html=True)


def page_heading(page: int | None) -> str:
    return f"Page {page}" if page else "Sans numéro de page"


def change_html(change: Change) -> str:
    """One change as inert HTML: the words that left struck out, those that came marked."""
    label = f"<strong>{KIND_LABELS[change.kind]}</strong> : "
    if change.kind is ChangeKind.ADDED:
        body = f"<ins style='{ADDED}'>{safe(change.after, 2000)}</ins>"
    elif change.kind is ChangeKind.REMOVED:
        body = f"<del style='{REMOVED}'>{safe(change.before, 2000)}</del>"
    else:
        runs = word_diff(change.before, change.after)
        before = " ".join(safe(t, 2000) if k == "same" else
                          f"<del style='{REMOVED}'>{safe(t, 2000)}</del>"
                          for k, t in runs if k != "added")
        after = " ".join(safe(t, 2000) if k == "same" else
                         f"<ins style='{ADDED}'>{safe(t, 2000)}</ins>"
                         for k, t in runs if k != "removed")
        moved = f" (page {change.page_before} avant)" if change.page_before != \
            change.page_after and change.page_before else ""
        body = f"<br>avant{moved} : {before}<br>après : {after}"
    return f"<div class='fonds-change {change.kind}' style='{CHANGE}'>{label}{body}</div>"
