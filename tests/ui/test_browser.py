"""End to end in a real browser: Debian's chromium driven by pip's playwright (no browser
download), against `fonds serve` on 127.0.0.1 — the real corpus archive, and a scratch
archive of hostile records. Screenshots at desktop and phone sizes go to tmp_path."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

import pytest

from search_ui.french import ENGLISH
from tests.conftest import CORPUS_PDFS, child_env, need_shared, run_fonds
from tests.conftest import free_port as shared_free_port
from tests.ui.browser import CHROMIUM, FLAGS, SETTLED, open_view
from tests.ui.browser import serving as shared_serving

PORTS = range(8601, 8651)  # this suite's ports
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    return shared_free_port(candidates=PORTS)


def sql(data_dir: Path, statement: str) -> list[tuple]:
    with closing(sqlite3.connect(data_dir / "catalog.sqlite")) as db, db:
        return db.execute(statement).fetchall()


def serving(data_dir: Path, **env: str):
    return shared_serving(data_dir, PORTS, **env)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(archive):
    config, _ = archive
    with serving(config.data_dir, FONDS_UI_SHOW_MAINTENANCE="true") as url:
        yield url


# -- hostile values -------------------------------------------------------------------------

class Beacon(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Beacon.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def hostile_records(beacon: str) -> list[dict]:
    """Every field a record can carry, each asking for an element, a script or a request."""
    def ask(n: int) -> list[str]:
        return [f"<script>window.__pwned={n}</script>",
                f"<iframe srcdoc=\"<script>parent.__pwned={n}</script>\"></iframe>",
                "<style>body{display:none}</style>", f"![b]({beacon}/md-{n}.png)",
                f"<img src={beacon}/img-{n}.png onerror=window.__pwned={n}>",
                f"[clic](javascript:window.__pwned={n})", f"<a href={beacon}/a-{n}>a</a>",
                f"{beacon}/auto-{n}", ":red[rouge] :material/home: $x^2$",
                f"<svg onload=window.__pwned={n}></svg>", f"\n\n<img src={beacon}/p-{n}.png>"]

    records = []
    for n, value in enumerate(ask(0)):
        records.append({
            "_id": f"hostile-{n}", "title": f"santé {value}",
            "text": f"santé publique {value} fin du texte {' '.join(ask(n + 10))}",
            "date": value, "doc_type": value, "source": value,
            "themes": ["santé", value], "departements": [value]})
    return records


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A scratch archive: hostile JSONL records and one real PDF marked gone; a beacon
    server on 127.0.0.1 counts any request the values would make."""
    need_shared(CORPUS_PDFS)
    work = tmp_path_factory.mktemp("hostile")
    beacon = ThreadingHTTPServer(("127.0.0.1", free_port()), Beacon)
    threading.Thread(target=beacon.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{beacon.server_address[1]}"
    corpus = work / "hostile.jsonl"
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False)
                                for r in hostile_records(url)) + "\n", encoding="utf-8")
    pdfs = work / "pdfs"
    pdfs.mkdir()
    shutil.copy(next(CORPUS_PDFS.glob("anct-aidantsconnect_bilan*.pdf")), pdfs)
    data = work / "data"
    env = child_env(FONDS_DATA_DIR=str(data), FONDS_EMBEDDER="none", FONDS_OCR="false")
    for args in (("import", str(corpus), str(pdfs)), ("ingest",)):
        done = run_fonds(env, *args)
        assert done.returncode == 0, done.stderr
    sql(data, "UPDATE documents SET status = 'gone' WHERE canonical_url LIKE '%.pdf'")
    yield url, data
    beacon.shutdown()
    beacon.server_close()


NOT_ASKED = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const bad = [];
  for (const el of main.querySelectorAll('script, iframe, object, embed, svg[onload], style')) {
    if (el.tagName === 'SCRIPT' && el.textContent.includes('__fondsFrench')) continue;
    if (el.tagName === 'STYLE' && el.textContent.includes('.fonds-passage')) continue;
    if (el.tagName === 'svg') { bad.push(el.outerHTML.slice(0, 80)); continue; }
    if (el.tagName !== 'STYLE' || !el.hasAttribute('data-emotion'))
      bad.push(el.outerHTML.slice(0, 80));
  }
  for (const img of main.querySelectorAll('img')) {
    if (!new URL(img.src).pathname.startsWith('/media/')) bad.push(img.outerHTML.slice(0, 80));
  }
  for (const a of main.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    // links of the app itself, and headings' own anchors (« Ce qui a changé »: no request)
    if (!(href.startsWith('?') || href.startsWith('/copie/') || /^#[a-z-]+$/.test(href)))
      bad.push(a.outerHTML.slice(0, 80));
  }
  const hidden = getComputedStyle(document.body).display === 'none'
    || getComputedStyle(main).display === 'none';
  return {bad, hidden, pwned: window.__pwned === undefined ? null : window.__pwned};
}"""


def test_hostile_values_ask_for_no_element_and_no_request(hostile, browser, tmp_path) -> None:
    beacon, data = hostile
    ids = [r[0] for r in sql(data, "SELECT id FROM documents ORDER BY canonical_url")]
    with serving(data, FONDS_UI_SHOW_MAINTENANCE="true") as base:
        views = ["/?q=sant%C3%A9&mode=mots", "/?q=sant%C3%A9&mode=mots&p=2",
                 "/?q=%3Cem%3Ezzqxw%3C%2Fem%3E+wwqyv&mode=mots",  # a miss, with markup
                 "/?vue=maintenance",
                 *(f"/?vue=document&doc={i}" for i in ids),
                 *(f"/?vue=copie&doc={i}&page=1" for i in ids)]
        page = browser.new_page(viewport=DESKTOP)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        for number, view in enumerate(views):
            open_view(page, base + view)
            similar = page.get_by_role("button", name="Voir les documents similaires")
            if similar.count():
                similar.first.click()
                page.wait_for_function(SETTLED)
            found = page.evaluate(NOT_ASKED)
            assert found == {"bad": [], "hidden": False, "pwned": None}, view
            if view == "/?vue=maintenance":  # the miss is counted, as text
                assert "zzqxw" in page.inner_text("[data-testid=stMain]")
            page.screenshot(path=str(tmp_path / f"hostile-{number}.png"), full_page=True)
        assert not Beacon.hits, Beacon.hits
        assert not [r for r in requests if r.startswith(beacon)]
        page.close()


def shows_page(page, number: int | str, total: int | str = r"\d+") -> None:
    """The copy view shows page `number`: its caption, and an image that loaded."""
    from playwright.sync_api import expect

    main = page.locator("[data-testid=stMain]")
    expect(main).to_contain_text(re.compile(rf"Page {number} sur {total}"), timeout=90_000)
    page.wait_for_function("() => { const img = document.querySelector("
                           "'[data-testid=stMain] img'); return img && img.complete "
                           "&& img.naturalWidth > 300; }", timeout=90_000)


def test_a_gone_document_opens_at_its_page_from_the_store(hostile, browser) -> None:
    _, data = hostile
    [(doc_id, pages)] = sql(data, "SELECT id, pages FROM documents WHERE status = 'gone'")
    with serving(data) as base:
        page = browser.new_page(viewport=DESKTOP)
        open_view(page, f"{base}/?vue=copie&doc={doc_id}&page=2")
        shows_page(page, 2, pages)
        page.get_by_role("link", name="Page suivante →").first.click()
        page.wait_for_url(re.compile(r"page=3"))
        open_view(page, page.url)
        shows_page(page, 3, pages)
        # the whole stored file, inline as a PDF; anything else is « document inconnu »
        with urlopen(f"{base}/copie/{doc_id}") as answer:
            assert answer.headers["Content-Type"] == "application/pdf"
            assert answer.read(5) == b"%PDF-"
        for unknown in ("0123456789abcdef", "..%2Fcatalog.sqlite", "%2Fetc%2Fpasswd",
                        f"{doc_id}%2F..%2F..%2Fcatalog.sqlite"):
            with pytest.raises(OSError) as refused:
                urlopen(f"{base}/copie/{unknown}")
            assert getattr(refused.value, "code", None) in (400, 404)
        page.close()


# -- the corpus archive ---------------------------------------------------------------------

def test_every_result_opens_its_archived_copy_at_the_page(server, browser, tmp_path) -> None:
    page = browser.new_page(viewport=DESKTOP)
    open_view(page, f"{server}/?q=mandat+aidants+connect&mode=mots")
    links = page.get_by_role("link", name=re.compile(r"^Voir à la page \d+ \(copie archivée\)"))
    assert links.count() >= 3
    targets = [(links.nth(i).inner_text(), links.nth(i).get_attribute("href"))
               for i in range(links.count())]
    page.screenshot(path=str(tmp_path / "resultats.png"), full_page=True)
    for label, href in targets:
        number = re.search(r"page (\d+)", label).group(1)
        open_view(page, server + "/" + href)
        shows_page(page, number)
    page.screenshot(path=str(tmp_path / "copie.png"), full_page=True)
    page.close()


def test_the_search_survives_a_document_page_and_back(server, browser) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    start = f"{server}/?q=aidants&mode=mots&theme=inclusion+num%C3%A9rique&tri=date"
    open_view(page, start)
    query = page.get_by_label("Rechercher", exact=True)
    expect(query).to_have_value("aidants")
    count = page.get_by_text(re.compile(r"\d+ documents? trouvés?")).inner_text()

    def restored() -> None:
        open_view(page, page.url)
        expect(query).to_have_value("aidants")
        for key in ("q=aidants", "mode=mots", "theme=inclusion", "tri=date"):
            assert key in page.url
        expect(page.get_by_text(count.split(" · ")[0]).first).to_be_visible()
        assert page.get_by_role("radio", name="Mots exacts").is_checked()
        expect(page.locator("[data-testid=stSidebar]")).to_contain_text("inclusion numérique")

    # the button
    page.get_by_role("link", name="Fiche du document").first.click()
    page.wait_for_url(re.compile(r"vue=document"))
    open_view(page, page.url)
    page.get_by_role("link", name="← Retour à la recherche").click()
    page.wait_for_url(re.compile(r"^(?!.*vue=document)"))
    restored()
    # the browser's Back
    page.get_by_role("link", name="Fiche du document").first.click()
    page.wait_for_url(re.compile(r"vue=document"))
    open_view(page, page.url)
    page.go_back()
    page.wait_for_url(re.compile(r"^(?!.*vue=document)"))
    restored()
    page.close()


def _visible_strings(page) -> list[str]:
    """What a reader sees or a screen reader says: text (not in aria-hidden), labels."""
    return page.evaluate("""() => {
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!el || el.closest('[aria-hidden=true], script, style, noscript')) continue;
        if (n.nodeValue.trim()) out.push(n.nodeValue.trim());
      }
      for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]'))
        for (const a of ['aria-label', 'title', 'placeholder'])
          if (el.getAttribute(a)) out.push(el.getAttribute(a).trim());
      return out;
    }""")


ENGLISH_PATTERNS = re.compile(r"^(Help for|Fullscreen|Press Enter|Select all|Clear|Choose|"
                              r"Link to|Open|Close|Running|No results)| — (start|end)$")


def test_french_throughout(server, browser) -> None:
    page = browser.new_page(viewport=DESKTOP)
    seen: set[str] = set()
    for view in ("/?q=aidants&mode=mots", "/?vue=maintenance", "/?q=zzqxw&mode=mots"):
        open_view(page, server + view)
        assert page.evaluate("document.documentElement.lang") == "fr"
        seen.update(_visible_strings(page))
    open_view(page, f"{server}/?q=aidants&mode=mots")
    link = page.get_by_role("link", name="Fiche du document").first
    link.click()
    page.wait_for_url(re.compile(r"vue=document"))
    open_view(page, page.url)
    seen.update(_visible_strings(page))
    open_view(page, f"{server}/?q=aidants&mode=mots")
    page.get_by_label("Thèmes").click()  # the list of a multiselect
    page.get_by_role("option").first.wait_for()
    seen.update(_visible_strings(page))
    page.keyboard.press("Escape")
    page.get_by_label("Rechercher", exact=True).fill("santé")  # « Press Enter to apply »
    seen.update(_visible_strings(page))
    english = sorted(s for s in seen if s in ENGLISH or ENGLISH_PATTERNS.search(s))
    assert english == []
    assert "Aucun document trouvé" in seen or any("Aucun document trouvé" in s for s in seen)
    page.close()


def test_phone_layout_has_no_horizontal_overflow(server, browser, tmp_path) -> None:
    page = browser.new_page(viewport=PHONE)
    open_view(page, f"{server}/?q=aidants&mode=mots")
    doc_href = page.get_by_role("link", name="Fiche du document").first.get_attribute("href")
    copy_href = page.get_by_role("link", name=re.compile("^Voir à la page")).first \
        .get_attribute("href")
    for name, view in (("recherche", "/?q=aidants&mode=mots"), ("document", "/" + doc_href),
                       ("copie", "/" + copy_href), ("maintenance", "/?vue=maintenance")):
        open_view(page, server + view)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, overflow)
        page.screenshot(path=str(tmp_path / f"telephone-{name}.png"), full_page=True)
    page.close()


def test_a_departement_filter_chosen_in_the_sidebar(server, browser) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    open_view(page, f"{server}/?q=mandat+aidants+connect&mode=mots")
    count = page.get_by_text(re.compile(r"\d+ documents? trouvés?"))
    before = int(count.inner_text().split()[0])
    page.get_by_label("Départements").click()
    page.get_by_role("option").first.click()
    page.keyboard.press("Escape")
    # wait for the rerun that the filter triggers (URL first, then a different count)
    expect(page).to_have_url(re.compile(r"dep="), timeout=30_000)
    expect(count).not_to_have_text(re.compile(rf"^\s*{before} documents? trouvé"),
                                   timeout=30_000)
    assert 0 < int(count.inner_text().split()[0]) < before
    page.close()


def test_two_departements_give_what_their_counts_said(server, archive, browser) -> None:
    """Disjunctive facets, seen in the browser: each département's count is what choosing
    it gives; choosing a second keeps both counts and gives their union."""
    from playwright.sync_api import expect

    from fonds.app.archive import Archive
    from fonds.engines.base import Filters, SearchRequest
    from fonds.ui_model import facet_label

    config, _ = archive
    query = "politique de la ville"
    counts = Archive(config).search(SearchRequest(query)).facets["departements"]
    (a, count_a), (b, count_b) = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    assert count_a and count_b, "the archive should have two départements for this query"

    page = browser.new_page(viewport=DESKTOP)
    open_view(page, f"{server}/?q={query.replace(' ', '+')}&mode=mots")
    total = page.get_by_text(re.compile(r"\d+ documents? trouvés?"))
    sidebar = page.locator("[data-testid=stSidebar]")

    def choose(code: str, count: int) -> None:
        page.get_by_label("Départements").click()
        offered = page.get_by_role("option").all_inner_texts()
        # what the option said before choosing it: the disjunctive count
        assert facet_label("departements", code, count) in offered, offered
        page.get_by_role("option", name=facet_label("departements", code, count),
                         exact=True).click()
        page.keyboard.press("Escape")
        expect(page).to_have_url(re.compile(rf"dep=[^&]*{code}"), timeout=30_000)
        page.wait_for_function(SETTLED, timeout=60_000)

    choose(a, count_a)
    expect(total).to_have_text(re.compile(rf"^\s*{count_a} documents? trouvés?"),
                               timeout=30_000)
    choose(b, count_b)  # b's count did not shrink to what a alone has
    both = Archive(config).search(SearchRequest(
        query, filters=Filters(departements=(a, b)))).total
    assert max(count_a, count_b) <= both <= count_a + count_b
    expect(total).to_have_text(re.compile(rf"^\s*{both} documents? trouvés?"), timeout=30_000)
    # selected values keep the counts they had: the sidebar's chosen values say so (the
    # options list is closed, and other facets name no département)
    for code, count in ((a, count_a), (b, count_b)):
        expect(sidebar).to_contain_text(facet_label("departements", code, count))
    page.close()
