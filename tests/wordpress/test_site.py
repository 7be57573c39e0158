"""The WordPress test site is what the crawler tests assume: checked over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.wordpress.fixture import CLASSIC_THEME, WordPressSite

pytestmark = [pytest.mark.slow, pytest.mark.wordpress]


def get(site: WordPressSite, path: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(site.base_url + path, timeout=60) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_a_french_site_with_its_posts_pages_pdfs_and_a_dead_link(wordpress) -> None:
    assert (wordpress.locale, wordpress.version[:3]) == ("fr_FR", "6.1")
    status, body, headers = get(wordpress, "/wp-json/wp/v2/posts?per_page=100")
    assert status == 200 and headers["X-WP-Total"] == str(len(wordpress.posts)) == "26"
    api = {p["link"]: p for p in json.loads(body)}
    assert set(api) == {p.link for p in wordpress.posts}
    assert all(p.link.startswith(wordpress.base_url + "/") and p.link.endswith(f"/{p.slug}/")
               for p in wordpress.articles)  # pretty permalinks
    for post in wordpress.posts:
        assert {d[0] for d in post.documents} <= {*(p.url for p in wordpress.pdfs),
                                                   *(d.url for d in wordpress.dead_links)}
        assert all(url in api[post.link]["content"]["rendered"] for url, _ in post.documents)
    assert [p.kind for p in wordpress.pages] == ["page"] and wordpress.pages[0].documents
    assert len(wordpress.pdfs) == 14 and len(wordpress.dead_links) == 1
    assert {"Accéder au document", "En savoir plus", "Version imprimable"} <= {
        t for p in wordpress.pdfs for t in p.link_texts}
    shared = [p for p in wordpress.pdfs if len(p.linked_from) == 2]
    assert shared and set(shared[0].categories) >= {"Inclusion numérique",
                                                    "Participation des habitants"}
    for pdf in wordpress.pdfs:
        status, body, headers = get(wordpress, pdf.url.removeprefix(wordpress.base_url))
        assert (status, body[:5], headers["Content-Type"]) == (200, b"%PDF-", "application/pdf")
    assert get(wordpress, wordpress.dead_links[0].url.removeprefix(wordpress.base_url))[0] == 404
    for name, link in wordpress.categories.items():
        status, body, _ = get(wordpress, link.removeprefix(wordpress.base_url))
        assert status == 200 and name in body.decode()


def test_themes_write_their_own_markup(wordpress) -> None:
    post = wordpress.posts[0].link.removeprefix(wordpress.base_url)
    assert b"wp-block-post-title" in get(wordpress, post)[1]
    wordpress.use_theme(CLASSIC_THEME)
    page = get(wordpress, post)[1]
    assert b"entry-title" in page and b"wp-block-post-title" not in page


def test_controls_sitemaps_rest_outage_trash_replace_and_reset(wordpress) -> None:
    assert get(wordpress, "/wp-sitemap.xml")[0] == 200
    wordpress.sitemaps(False)
    wordpress.rest_api(False)
    assert get(wordpress, "/wp-sitemap.xml")[0] == 404
    assert get(wordpress, "/wp-json/")[0] == 404
    assert get(wordpress, "/?rest_route=/wp/v2/posts")[0] == 404
    status, home, headers = get(wordpress, "/")
    assert status == 200 and b"api.w.org" not in home and "Link" not in headers
    added = wordpress.add_posts(100)
    assert len(wordpress.posts) == 126 and len({p.link for p in added}) == 100
    gone = wordpress.posts[0]
    wordpress.trash(gone)
    assert get(wordpress, gone.link.removeprefix(wordpress.base_url))[0] == 404
    assert not any(gone.link in p.linked_from for p in wordpress.pdfs)
    pdf = wordpress.pdfs[1]
    wordpress.replace_pdf(pdf, b"%PDF-1.4 new bytes")
    assert get(wordpress, pdf.url.removeprefix(wordpress.base_url))[1] == b"%PDF-1.4 new bytes"
    wordpress.rest_api(True)
    mark = wordpress.log_mark()
    with wordpress.outage():
        assert get(wordpress, "/")[0] == 500
        assert get(wordpress, "/wp-json/wp/v2/posts")[0] == 500
        assert get(wordpress, pdf.url.removeprefix(wordpress.base_url))[0] == 200
    assert ("GET", "/", 500) in wordpress.requests_since(mark)
    wordpress.reset()
    assert get(wordpress, "/wp-sitemap.xml")[0] == 200
    assert get(wordpress, gone.link.removeprefix(wordpress.base_url))[0] == 200
    assert len(wordpress.posts) == 26
    assert get(wordpress, "/wp-json/wp/v2/posts")[2]["X-WP-Total"] == "26"
    assert get(wordpress, pdf.url.removeprefix(wordpress.base_url))[1] == pdf.path.read_bytes()
    assert pdf.path.read_bytes()[:5] == b"%PDF-"
