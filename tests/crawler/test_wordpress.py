"""End-to-end crawls of a real WordPress (tests/wordpress), run as a maintainer runs them.

`fonds --data-dir X crawl` in a child process with a sources.toml naming the test site,
then the catalog, `fonds status --json`, `fonds ingest` and `fonds search --json` are
compared with what the site publishes (issue 12). Crawls need no embedder
(FONDS_EMBEDDER=none: keyword search only).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fonds.catalog import Catalog
from fonds.models import DocStatus, Document
from tests.conftest import CORPUS_PDFS, child_env, run_fonds
from tests.wordpress.fixture import CLASSIC_THEME, WordPressSite
from tests.wordpress.site import BLOCK_THEME

pytestmark = [pytest.mark.slow, pytest.mark.wordpress]

# The link texts of the test site that say nothing of the document (the seed page's own).
GENERIC = {"accéder au document", "en savoir plus", "version imprimable", "télécharger",
           "rapport", "voir le programme", "accéder au guide", "accéder à la circulaire",
           "télécharger le rapport", "télécharger la synthèse"}
QUERIES = ("conseils citoyens", "Défenseur des droits", "lettre d’information", "mandat",
           "numérique")
REPLACEMENT = "regardscitoyens_requete-conseil-etat-2016.pdf"  # not on the site


class Run:
    """One data dir and the `fonds` commands a maintainer types against it."""

    def __init__(self, site: WordPressSite, tmp_path: Path, **settings: str) -> None:
        self.site = site
        self.data_dir = tmp_path / "data"
        self.env = child_env(
            FONDS_SOURCES_FILE=str(site.sources_toml(tmp_path / "sources.toml")),
            FONDS_CRAWL_ALLOW_PRIVATE="true", FONDS_CRAWL_DELAY_S="0", FONDS_OCR="false",
            FONDS_EMBEDDER="none", **settings)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_fonds(self.env, "--data-dir", str(self.data_dir), *args)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def crawl(self, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = self("crawl")
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def ingest(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self("ingest", *args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def status(self) -> dict:
        return json.loads(self("status", "--json").stdout)

    def last_crawl(self) -> dict:
        return next(r for r in self.status()["runs"] if r["kind"] == "crawl")

    def search(self, query: str) -> dict:
        result = self("search", query, "--json", "--limit", "100")
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    def documents(self) -> dict[str, Document]:
        """Catalog documents by canonical URL."""
        with Catalog(self.data_dir / "catalog.sqlite") as catalog:
            return {d.canonical_url: d for d in catalog.documents()}

    def active(self) -> dict[str, Document]:
        return {u: d for u, d in self.documents().items() if d.status is DocStatus.ACTIVE}


@pytest.fixture
def run(wordpress, tmp_path) -> Run:
    return Run(wordpress, tmp_path)


def fold(text: str) -> str:
    """Case and accents folded, final punctuation and spaces trimmed: how texts compare."""
    text = unicodedata.normalize("NFKD", text.replace("\u00a0", " ").replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().strip(" .:…")


def found(run: Run, query: str) -> set[str]:
    """URLs of the documents a search finds (all of them: fewer than the limit)."""
    return {hit["url"] for hit in run.search(query)["hits"]}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def assert_everything_found(run: Run) -> dict[str, Document]:
    site = run.site
    active = run.active()
    articles = {a.link for a in site.articles}
    assert articles - set(active) == set(), "articles not found"
    pdfs = {p.url for p in site.pdfs}
    assert pdfs - set(active) == set(), "PDFs not found"
    assert set(active) == articles | pdfs, "found what the site does not publish"
    for pdf in site.pdfs:
        document = active[pdf.url]
        assert document.sha256 == hashlib.sha256(pdf.path.read_bytes()).hexdigest()
    return active


def test_default_theme_every_post_page_and_pdf_with_context(run) -> None:
    site = run.site
    assert site.theme == BLOCK_THEME
    result = run.crawl()
    active = assert_everything_found(run)
    dead = site.dead_links[0]
    failures = [f for f in run.status()["failures"] if f["url"] == dead.url]
    assert failures, "the dead link is not recorded"
    recorded = json.dumps(failures, ensure_ascii=False)
    assert dead.article in recorded and dead.text in recorded, recorded
    line = next((x for x in result.stdout.splitlines() if dead.url in x), "")
    assert dead.article in line and dead.text in line, result.stdout

    run.ingest()
    documents = run.documents()
    for article in site.articles:
        themes = {fold(t) for t in documents[article.link].all_themes}
        assert {fold(c) for c in article.categories} <= themes, article.link
    for pdf in site.pdfs:
        themes = {fold(t) for t in documents[pdf.url].all_themes}
        assert {fold(c) for c in pdf.categories} <= themes, (pdf.name, themes)
    titles = {url: documents[url].display_title for url in active}
    assert [t for t in titles.values() if fold(t) in GENERIC] == []
    for article in site.articles:
        assert titles[article.link] == article.title


@pytest.mark.parametrize(("theme", "rest"), [
    pytest.param(BLOCK_THEME, False, id="block-html-only"),
    pytest.param(CLASSIC_THEME, False, id="classic-html-only"),
    pytest.param(CLASSIC_THEME, True, id="classic-rest")])
def test_any_theme_with_or_without_the_rest_api(run, theme, rest) -> None:
    run.site.use_theme(theme)
    run.site.rest_api(rest)
    run.crawl()
    active = assert_everything_found(run)
    for article in run.site.articles:
        document = active[article.link]
        assert document.display_title == article.title
        if article.kind == "post":  # a page's HTML shows no date in either theme
            assert document.display_date == article.date[:10]
        assert {fold(c) for c in article.categories} <= {fold(t) for t in document.themes}


def test_outage_of_three_crawls_retires_nothing_and_recovery_finds_all(run) -> None:
    site = run.site
    run.crawl()
    run.ingest()
    before = {q: found(run, q) for q in QUERIES}
    assert all(before.values()), before
    counts = run.status()["documents"]
    with site.outage():
        for _ in range(3):
            result = run.crawl(ok=False)
            assert result.returncode != 0, "a crawl that reached nothing exits 0"
            assert re.search(r"échec|échoué|injoignable|erreur", result.stdout + result.stderr,
                             re.IGNORECASE), result.stdout + result.stderr
            assert run.status()["documents"]["gone"] == 0
        run.ingest()  # what a scheduled `fonds update` would run next
        assert run.status()["documents"] == counts
    run.crawl()
    run.ingest()
    assert run.status()["documents"] == counts
    assert {q: found(run, q) for q in QUERIES} == before


def test_more_than_a_hundred_posts_without_sitemaps_in_two_api_requests(run) -> None:
    site = run.site
    site.add_posts(100)
    site.sitemaps(False)
    assert len(site.posts) == 126
    mark = site.log_mark()
    run.crawl()
    assert_everything_found(run)
    listing = [p for m, p, s in site.requests_since(mark)
               if re.match(r"/wp-json/wp/v2/posts/?(\?|$)", p)
               or p.startswith("/?rest_route=/wp/v2/posts&")]
    assert len(listing) == 2, listing


def test_nothing_changed_nothing_new_and_no_article_downloaded_again(run) -> None:
    site = run.site
    run.crawl()
    documents = len(site.articles) + len(site.pdfs)
    counts = run.last_crawl()["counts"]  # counts count documents, not URLs
    assert (counts["new"], counts["unchanged"]) == (documents, 0), counts
    mark = site.log_mark()
    run.crawl()
    counts = run.last_crawl()["counts"]
    assert (counts["new"], counts["changed"], counts["unchanged"]) == (0, 0, documents), counts
    served = site.requests_since(mark)
    articles = {path_of(a.link) for a in site.articles}
    assert [r for r in served if r[1] in articles] == [], "articles downloaded again"
    pdfs = {path_of(p.url) for p in site.pdfs}
    assert [r for r in served if r[1] in pdfs and r[2] == 200] == [], "PDFs downloaded again"


def test_a_pdf_replaced_in_place_is_changed_not_new(run) -> None:
    site = run.site
    run.crawl()
    pdf = site.pdfs[0]
    data = (CORPUS_PDFS / REPLACEMENT).read_bytes()
    site.replace_pdf(pdf, data)
    run.crawl()
    counts = run.last_crawl()["counts"]
    assert (counts["new"], counts["changed"]) == (0, 1), counts
    document = run.active()[pdf.url]
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    run.ingest()
    hits = run.search("Conseil d'État requête")["hits"]
    assert pdf.url in {h["url"] for h in hits}


def test_a_trashed_post_is_missing_then_gone_and_leaves_the_index(run) -> None:
    site = run.site
    only = {f.url for f in site.pdfs if len(f.linked_from) == 1}
    post = next(p for p in site.posts if p.documents and set(dict(p.documents)) <= only)
    run.crawl()
    run.ingest()
    assert post.link in {h["url"] for h in run.search(post.title)["hits"]}
    site.trash(post)
    run.crawl()
    counts = run.last_crawl()["counts"]
    assert counts.get("missing", 0) >= 1, counts
    for _ in range(2):  # gone after 3 healthy crawls without it (gone_after_runs)
        run.crawl()
    documents = run.documents()
    assert documents[post.link].status is DocStatus.GONE
    assert all(d.status is DocStatus.ACTIVE for u, d in documents.items()
               if u in {a.link for a in site.articles})
    run.ingest()
    assert post.link not in {h["url"] for h in run.search(post.title)["hits"]}


@pytest.mark.parametrize("rest", [True, False], ids=["rest", "html-only"])
def test_a_category_of_sources_toml_the_site_lacks_is_reported(wordpress, tmp_path, rest) -> None:
    wordpress.rest_api(rest)
    run = Run(wordpress, tmp_path)
    wordpress.sources_toml(Path(run.env["FONDS_SOURCES_FILE"]),
                           categories=[*wordpress.category_slugs, "tiers-lieux"])
    result = run.crawl()
    assert_everything_found(run)
    assert any("tiers-lieux" in line for line in result.stdout.splitlines()), result.stdout


@pytest.mark.parametrize("rest", [True, False], ids=["rest", "html-only"])
def test_a_title_with_markup_and_entities_is_stored_as_its_text(wordpress, tmp_path,
                                                                  rest) -> None:
    post = wordpress.add_post("Santé & quartiers <script>alert(1)</script>: « 5 < 6 » "
                              "<b>urgent</b>", "<p>Un article.</p>", ("Santé",))
    wordpress.rest_api(rest)
    run = Run(wordpress, tmp_path)
    run.crawl()
    title = run.active()[post.link].display_title
    assert "<" not in title.replace("5 < 6", "") and "&amp;" not in title, title
    assert title.startswith("Santé & quartiers") and "5 < 6" in title, title
    assert "urgent" in title and "alert(1)" not in title, title
