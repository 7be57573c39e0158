"""French for what Streamlit itself writes: <html lang>, widget strings, ARIA labels.

Streamlit has no locale setting: its index.html says lang="en" and its widgets carry
English labels. One small script (st.html with JavaScript, run in the page itself, not an
iframe) sets lang="fr" and translates the known strings as they appear.
"""

from __future__ import annotations

import json

import streamlit as st

# What Streamlit 1.67 writes in English (visible text, aria-label, title, placeholder).
# tests/ui/test_browser.py looks for each of these on every view.
ENGLISH = {
    "Select all": "Tout sélectionner",
    "Clear all": "Tout effacer",
    "Clear": "Effacer",
    "Clear value": "Effacer la valeur",
    "Press Enter to apply": "Appuyez sur Entrée pour valider",
    "Press Enter to submit form": "Appuyez sur Entrée pour envoyer",
    "No results": "Aucun résultat",
    "No options to select": "Aucune option",
    "Choose an option": "Choisir",
    "Choose options": "Choisir",
    "Open": "Ouvrir",
    "Close": "Fermer",
    "Delete": "Supprimer",
    "Remove": "Retirer",
    "Fullscreen": "Plein écran",
    "Exit fullscreen": "Quitter le plein écran",
    "Collapse sidebar": "Replier le panneau",
    "Expand sidebar": "Déplier le panneau",
    "Running...": "Calcul en cours…",
    "Stop": "Arrêter",
    "Main menu": "Menu principal",
    "Download as CSV": "Télécharger en CSV",
    "Search": "Rechercher",
    "Help": "Aide",
    "Tooltip": "Aide",
    "Selected": "Sélectionné",
    "selected": "sélectionné",
    "Skip to main content": "Aller au contenu",
    "Copy to clipboard": "Copier",
    "Show password text": "Afficher",
    "Link to heading": "Lien vers ce titre",
    "Sidebar": "Panneau latéral",
    "Main": "Contenu",
}

SCRIPT = """
<script>
(() => {
  const doc = window.document;
  doc.documentElement.lang = "fr";
  if (window.__fondsFrench) return;
  window.__fondsFrench = true;
  const words = __WORDS__;
  const attrs = ["aria-label", "title", "placeholder", "aria-placeholder"];
  const prefixes = [["Help for ", "Aide : "], ["Fullscreen: ", "Plein écran : "]];
  const suffixes = [[" — start", " — début"], [" — end", " — fin"]];
  const french = (value) => {
    const text = value.trim();
    if (Object.hasOwn(words, text)) return words[text];
    for (const [en, fr] of prefixes) if (text.startsWith(en)) return fr + text.slice(en.length);
    for (const [en, fr] of suffixes) if (text.endsWith(en)) return text.slice(0, -en.length) + fr;
    return null;
  };
  // Writes only what differs: a write that changes nothing still wakes the observer.
  const fix = (root) => {
    if (doc.documentElement.lang !== "fr") doc.documentElement.lang = "fr";
    const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      // Markdown is ours (labels, documents): only Streamlit's own strings are changed.
      const parent = node.parentElement;
      if (parent && parent.closest("[data-testid=stMarkdownContainer]")) continue;
      const text = node.nodeValue && french(node.nodeValue);
      if (text) node.nodeValue = text;
    }
    const elements = root.querySelectorAll ? root.querySelectorAll("*") : [];
    for (const el of [root, ...elements]) {
      if (!el.getAttribute) continue;
      for (const name of attrs) {
        const value = el.getAttribute(name);
        const text = value && french(value);
        if (text) el.setAttribute(name, text);
      }
      // Material icon ligatures (« keyboard_double_arrow_left ») are not words to read.
      if (el.dataset && el.dataset.testid === "stIconMaterial" &&
          el.getAttribute("aria-hidden") !== "true") {
        el.setAttribute("aria-hidden", "true");
      }
    }
  };
  fix(doc.body);
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "attributes") fix(change.target);
      for (const node of change.addedNodes) {
        fix(node.nodeType === 1 ? node : node.parentNode || doc.body);
      }
      const parent = change.target.parentNode;
      if (change.type === "characterData" && parent) fix(parent);
    }
  }).observe(doc.documentElement, {subtree: true, childList: true, characterData: true,
                                   attributes: true, attributeFilter: attrs.concat(["lang"])});
})();
</script>
""".replace("__WORDS__", json.dumps(ENGLISH, ensure_ascii=False))

CSS = """
<style>
mark { background: #ffe08a; color: #1a1a1a; padding: 0 .1em; border-radius: 2px; }
.fonds-passage { border-left: 3px solid #c9d3e0; padding: .2em .8em; margin: .3em 0;
                 overflow-wrap: anywhere; }
.fonds-meta { color: #3d4a5c; font-size: .9rem; }
.fonds-badges span { display: inline-block; background: #e8effa; color: #1d3f73;
                     border-radius: .4em; padding: 0 .45em; margin: 0 .25em .25em 0;
                     font-size: .85rem; overflow-wrap: anywhere; }
.fonds-links a { display: inline-block; margin: .2em .8em .2em 0; }
.fonds-table { border-collapse: collapse; width: 100%; font-size: .9rem; table-layout: auto; }
.fonds-scroll { overflow-x: auto; max-width: 100%; }
.fonds-table th, .fonds-table td { border-bottom: 1px solid #dde3ea; padding: .25em .4em;
                                   text-align: left; vertical-align: top;
                                   overflow-wrap: break-word; hyphens: auto; }
.fonds-table td.long, .fonds-table.facts td { overflow-wrap: anywhere; }
.fonds-table td.n { text-align: right; white-space: nowrap; }
h1, h2, h3, h4, p, li { overflow-wrap: anywhere; }
[data-testid="InputInstructions"] { display: none; }
</style>
"""


def setup() -> None:
    """Once per run, before anything else: French page and our styles."""
    st.html(SCRIPT, unsafe_allow_javascript=True)
    st.html(CSS)
