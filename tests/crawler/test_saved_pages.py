"""The parsers on real answers of the WordPress test site, both themes (tests/crawler/pages,
saved by tests/wordpress): the same facts whatever the theme."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from parsel import Selector

from crawler import wp_api, wp_html

PAGES = Path(__file__).with_name("pages")
BASE = "http://127.0.0.1:8081"
THEMES = ["block-theme", "classic-theme"]


def page(name: str) -> Selector:
    # Stored gzipped: every page repeats its theme's chrome, which is data, not code.
    path = PAGES / f"{name}.gz"
    if not path.exists():
        pytest.skip(f"saved page absent: {path}")
    return Selector(text=gzip.decompress(path.read_bytes()).decode("utf-8"))


@pytest.mark.parametrize("theme", THEMES)
def test_an_article_reads_the_same_in_both_themes(theme: str) -> None:
    article = page(f"{theme}_article-with-pdf-link-and-categories.html")
    assert wp_html.article_title(article) == ("Le test de discrimination, une méthodologie "
                                              "à respecter")
    assert wp_html.article_date(article) == "2020-10-15"
    assert wp_html.article_terms(article) == ["Discriminations", "Participation des habitants"]
    links = wp_html.document_links(wp_html.content(article), f"{BASE}/le-test/")
    assert [d.url for d in links] == [
        f"{BASE}/wp-content/uploads/2020/10/ddd_decision-LCD-2011-63.pdf"]
    assert links[0].text.startswith("Fiche pratique")


@pytest.mark.parametrize("theme", THEMES)
def test_a_page_with_a_document_link(theme: str) -> None:
    found = page(f"{theme}_page-with-pdf-link.html")
    assert wp_html.article_title(found) == "Ressources documentaires"
    links = wp_html.document_links(wp_html.content(found), f"{BASE}/ressources/")
    assert [(d.url.rsplit("/", 1)[1], d.text) for d in links] == [
        ("anct-aidantsconnect_exemple-mandat.pdf", "Version imprimable")]


@pytest.mark.parametrize("theme", THEMES)
def test_listing_pages_and_their_pagination(theme: str) -> None:
    first = page(f"{theme}_category-listing-page-1-with-next-link.html")
    last = page(f"{theme}_category-listing-last-page.html")
    url = f"{BASE}/category/participation-des-habitants/"
    assert len(wp_html.listing_links(first, url)) == 10
    assert wp_html.next_page(first, url) == f"{url}page/2/"
    assert len(wp_html.listing_links(last, url)) == 3 and wp_html.next_page(last, url) is None
    everything = set(wp_html.listing_links(first, url)) | set(wp_html.listing_links(last, url))
    assert len(everything) == 13 and all(u.startswith(BASE) for u in everything)


def saved_answer(name: str) -> dict:
    path = PAGES / name
    if not path.exists():
        pytest.skip(f"saved answer absent: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_rest_answer_with_embedded_terms() -> None:
    answer = saved_answer("rest_posts-page-1-of-13-embedded-terms.json")
    assert wp_api.total_pages(answer["headers"]["X-WP-TotalPages"].encode()) == 13
    assert not wp_api.needs_names(answer["body"])
    posts = [wp_api.parse_post(p, {}, BASE) for p in answer["body"]]
    assert all(p is not None for p in posts)
    first = posts[0]
    assert first is not None
    assert first.title == "Lettre d’information n° 17 : l’actualité de la politique de la ville"
    assert first.published == "2022-05-08" and first.modified == "2022-05-08T15:17:00"
    assert first.terms == ("Discriminations",) and first.content_html


def test_rest_pages_give_their_document_links() -> None:
    answer = saved_answer("rest_pages-with-pdf-link.json")
    pages = [wp_api.parse_post(p, {}, BASE) for p in answer["body"]]
    assert pages and all(p is not None and p.kind == "page" for p in pages)
    links = [d for p in pages if p for d in wp_html.document_links(
        Selector(text=p.content_html or "<p></p>"), p.url)]
    assert any(d.url.endswith("anct-aidantsconnect_exemple-mandat.pdf") for d in links)


def test_core_sitemaps() -> None:
    index = (PAGES / "sitemap_core-index.xml").read_text(encoding="utf-8")
    posts = (PAGES / "sitemap_core-posts.xml").read_text(encoding="utf-8")
    for text, xpath, expected in ((index, "//sitemap/loc/text()", "wp-sitemap-posts-post-1"),
                                  (posts, "//url/loc/text()", BASE)):
        selector = Selector(text=text, type="xml")
        selector.remove_namespaces()
        locs = selector.xpath(xpath).getall()
        assert locs and any(expected in loc for loc in locs)
