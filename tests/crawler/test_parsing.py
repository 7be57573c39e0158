"""The crawler's edges without a server: REST answers, pages of any theme, addresses.

Values from the site are generated (hypothesis) where the class of input matters more
than one example: pagination parameters, dates, titles, term lists, addresses.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from parsel import Selector

from crawler import wp_api, wp_html
from crawler.addresses import is_global_address, refusal
from crawler.sources import FAMILIES
from crawler.spiders import SPIDERS

BASE = "https://centre.example.fr"


# -- REST pagination ------------------------------------------------------------------------

@given(page=st.integers(1, 10_000), per_page=st.integers(1, 100),
       extra=st.dictionaries(st.sampled_from(["_embed", "orderby", "order", "status"]),
                             st.text("abcdefgh:_", min_size=1, max_size=8), max_size=3))
def test_only_the_page_parameter_changes(page: int, per_page: int, extra: dict) -> None:
    query = "&".join([f"per_page={per_page}", "page=1", *(f"{k}={v}" for k, v in
                                                          extra.items())])
    url = f"{BASE}/wp-json/wp/v2/posts?{query}"
    moved = parse_qs(urlsplit(wp_api.with_page(url, page)).query)
    assert moved["page"] == [str(page)] and wp_api.page_of(wp_api.with_page(url, page)) == page
    assert moved["per_page"] == [str(per_page)]  # the old regex made it « per_2 »
    for key, value in extra.items():
        assert moved[key] == [value]


def test_api_urls_ask_100_per_page_with_terms_embedded() -> None:
    url = wp_api.api_url(BASE, "posts")
    assert url.startswith(f"{BASE}/wp-json/wp/v2/posts?")
    query = parse_qs(urlsplit(url).query)
    assert query == {"per_page": ["100"], "page": ["1"], "_embed": ["wp:term"]}
    plain = parse_qs(urlsplit(wp_api.api_url(BASE, "pages", 3, pretty=False)).query)
    assert plain["rest_route"] == ["/wp/v2/pages"] and plain["page"] == ["3"]


@pytest.mark.parametrize(("header", "pages"), [
    (b"2", 2), (None, 1), (b"", 1), (b"abc", 1), (b"-3", 1), (b"0", 1), (b"99999999", 1000)])
def test_total_pages_is_bounded(header: bytes | None, pages: int) -> None:
    assert wp_api.total_pages(header) == pages


# -- REST posts -------------------------------------------------------------------------------

def post(**fields: object) -> dict:
    return {"id": 7, "type": "post", "link": f"{BASE}/journee-sante/",
            "date": "2019-11-20T10:00:00", "modified": "2019-11-21T08:00:00",
            "title": {"rendered": "Journ&eacute;e sant&eacute; &#8211; l&rsquo;H&eacute;rault"},
            "content": {"rendered": '<p>Texte <a href="/wp-content/uploads/a.pdf">'
                                    'Accéder au document</a></p>'},
            "categories": [3], "tags": [],
            "_embedded": {"wp:term": [[{"taxonomy": "category", "name": "Sant&eacute;"}],
                                      [{"taxonomy": "post_tag", "name": "Hérault"}]]}} | fields


def test_a_post_from_the_api() -> None:
    found = wp_api.parse_post(post(), {}, BASE)
    assert found is not None
    assert found.title == "Journée santé – l’Hérault"  # entities decoded
    assert found.published == "2019-11-20" and found.modified == "2019-11-21T08:00:00"
    assert found.terms == ("Santé", "Hérault") and found.kind == "post"
    links = wp_html.document_links(Selector(text=found.content_html), found.url)
    assert [(d.url, d.text) for d in links] == [(f"{BASE}/wp-content/uploads/a.pdf",
                                                  "Accéder au document")]


def test_term_names_come_from_a_lookup_without_embed() -> None:
    bare = post()
    del bare["_embedded"]
    assert wp_api.needs_names([bare])
    names = wp_api.term_names([{"id": 3, "name": "Sant&eacute;"}, {"id": "x"}, "junk"])
    found = wp_api.parse_post(bare, names, BASE)
    assert found is not None and found.terms == ("Santé",)


@pytest.mark.parametrize("entry", [
    None, "a string", [], {"link": 42}, {"link": "javascript:alert(1)"},
    {"link": "https://ailleurs.example.net/x/"}])
def test_unusable_entries_are_skipped(entry: object) -> None:
    assert wp_api.parse_post(entry, {}, BASE) is None


anything = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                        lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                        max_leaves=10)


@given(date=anything, modified=anything, title=anything, content=anything, terms=anything)
def test_any_answer_parses_or_is_dropped_never_raises(date, modified, title, content,
                                                       terms) -> None:
    found = wp_api.parse_post(post(date=date, modified=modified, title=title, content=content,
                                   _embedded={"wp:term": terms}), {}, BASE)
    assert found is not None
    assert found.published is None or len(found.published) == 10
    assert isinstance(found.title, str) and all(isinstance(t, str) for t in found.terms)


@given(st.text(max_size=40))
def test_odd_dates_are_iso_or_none(text: str) -> None:
    value = wp_html.iso_date(text)
    assert value is None or (len(value) == 10 and 1900 <= int(value[:4]) <= 2100)


@pytest.mark.parametrize(("text", "iso"), [
    ("2020-05-12T10:00:00", "2020-05-12"), ("2020/05/12", None), ("2020-02-30", None),
    ("99999-01-01", None), ("0001-01-01T00:00:00", None), ("", None), ("12 mai 2020", None)])
def test_dates(text: str, iso: str | None) -> None:
    assert wp_html.iso_date(text) == iso


# -- pages of any theme -------------------------------------------------------------------------

BLOCK_ARTICLE = """<!DOCTYPE html><html lang="fr-FR"><head><title>Guide – Centre</title>
<meta property="article:modified_time" content="2021-02-09T10:00:00+00:00"></head><body>
<header><a href="/category/sante/">Menu Santé</a></header>
<main class="wp-block-group"><h1 class="wp-block-post-title">Guide des conseils citoyens</h1>
<div class="wp-block-post-date"><time datetime="2021-02-08T09:30:00+01:00">8 février 2021</time>
</div><div class="entry-content wp-block-post-content"><p>Un guide.</p>
<div class="wp-block-file"><a href="/wp-content/uploads/2021/02/guide.pdf">Guide</a>
<a href="/wp-content/uploads/2021/02/guide.pdf" class="wp-block-file__button">Télécharger</a>
</div><figure><img src="/wp-content/uploads/2021/02/photo.jpg"></figure>
<a href="/wp-content/uploads/2021/02/photo.jpg">Photo</a></div>
<div class="taxonomy-category wp-block-post-terms"><a href="/category/sante/" rel="tag">Santé
</a></div></main></body></html>"""

CLASSIC_ARTICLE = """<html><head><title>Rencontres – Centre</title></head><body>
<article class="post"><header class="entry-header"><h1 class="entry-title">Rencontres 2019</h1>
<time class="entry-date published" datetime="2019-10-03T10:00:00+01:00">3 octobre</time>
<time class="updated" datetime="2019-12-01T10:00:00+01:00">1 décembre</time>
<span class="cat-links"><a href="/category/participation/" rel="category tag">Participation
des habitants</a></span></header><div class="entry-content"><p>Compte rendu.</p>
<a href="/telecharger/programme/">Version imprimable</a></div></article>
<aside><a href="/wp-content/uploads/autre.pdf">Un PDF de la barre latérale</a></aside>
</body></html>"""

JSON_LD_ARTICLE = """<html><head><script type="application/ld+json">{"@graph": [
{"@type": "Article", "headline": "Titre JSON-LD", "datePublished": "2018-11-27T08:00:00Z",
 "articleSection": ["Discriminations"]}]}</script></head><body><p>x</p></body></html>"""


def test_a_block_theme_article() -> None:
    page = Selector(text=BLOCK_ARTICLE)
    assert wp_html.article_title(page) == "Guide des conseils citoyens"
    assert wp_html.article_date(page) == "2021-02-08"
    assert wp_html.article_modified(page) == "2021-02-09T10:00:00+00:00"
    assert wp_html.article_terms(page) == ["Santé"]
    links = wp_html.document_links(wp_html.content(page), BASE + "/guide/")
    assert [(d.url, d.text) for d in links] == [
        (f"{BASE}/wp-content/uploads/2021/02/guide.pdf", "Guide")]  # no picture, once


def test_a_classic_theme_article() -> None:
    page = Selector(text=CLASSIC_ARTICLE)
    assert wp_html.article_title(page) == "Rencontres 2019"
    assert wp_html.article_date(page) == "2019-10-03"
    assert wp_html.article_terms(page) == ["Participation des habitants"]
    links = wp_html.document_links(wp_html.content(page), BASE + "/rencontres/")
    assert [d.url for d in links] == [f"{BASE}/telecharger/programme/"]  # not the sidebar


def test_metadata_without_theme_markup() -> None:
    page = Selector(text=JSON_LD_ARTICLE)
    assert wp_html.article_title(page) == "Titre JSON-LD"
    assert wp_html.article_date(page) == "2018-11-27"
    assert wp_html.article_terms(page) == ["Discriminations"]


@pytest.mark.parametrize("nav", [
    '<a class="wp-block-query-pagination-next" href="/page/2/">Page suivante</a>',
    '<nav class="navigation"><a class="next page-numbers" href="/page/2/">Suivant</a></nav>',
    '<link rel="next" href="/page/2/">', '<a rel="next" href="/page/2/">Articles plus anciens</a>',
])
def test_listing_pagination_of_every_theme(nav: str) -> None:
    page = Selector(text=f"<html><head></head><body><main><ul class='wp-block-post-template'>"
                         f"<li><h2 class='wp-block-post-title'><a href='/a/'>A</a></h2></li>"
                         f"</ul>{nav}</main></body></html>")
    assert wp_html.next_page(page, BASE + "/") == f"{BASE}/page/2/"
    assert wp_html.listing_links(page, BASE + "/") == [f"{BASE}/a/"]


# -- addresses ------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "fd00::1", "fe80::1", "ff02::1",
    "::ffff:127.0.0.1", "2002:7f00:1::", "2002:c0a8:101::", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "64:ff9b::a00:1", "localhost", "localhost.", "www.localhost", "nowhere.invalid"])
def test_refused_hosts(host: str) -> None:
    assert refusal(host) is not None


def test_a_public_address_is_allowed() -> None:
    assert refusal("93.184.216.34") is None and refusal("2606:2800:220:1::") is None


@given(st.ip_addresses(v=4))
def test_embedded_ipv4_is_judged_like_the_address_itself(address) -> None:
    if address.is_global and not address.is_multicast:
        return  # a global IPv4 in 6to4 is still 2002::/16, which Python calls non-global
    six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (int(address) << 80))
    mapped = ipaddress.IPv6Address((0xFFFF << 32) | int(address))
    assert not is_global_address(address)
    assert not is_global_address(six_to_four) and not is_global_address(mapped)


def test_each_family_has_its_spider() -> None:
    assert set(SPIDERS) == set(FAMILIES)


def resolved(resolver, name: str) -> object:
    """What the resolver's deferred ends with (it fires synchronously here)."""
    outcome: list[object] = []
    resolver.getHostByName(name).addBoth(outcome.append)
    return outcome[0]


def test_the_resolver_checks_the_address_it_connects_to(monkeypatch) -> None:
    """DNS rebinding: a name public for the middleware's check and private for the
    connection is refused, because the check runs on the connection's own lookup."""
    from twisted.internet import defer
    from twisted.internet.base import ThreadedResolver
    from twisted.python.failure import Failure

    from crawler.addresses import GuardedResolver

    answers = {"rebind.example.org": "127.0.0.1", "public.example.org": "93.184.216.34",
               "shared.example.org": "100.64.1.2"}
    monkeypatch.setattr(ThreadedResolver, "getHostByName",
                        lambda self, name, timeout=(): defer.succeed(answers[name]))
    resolver = GuardedResolver(None, cache_size=0, timeout=5.0)
    assert resolved(resolver, "public.example.org") == "93.184.216.34"
    for name in ("rebind.example.org", "shared.example.org", "localhost."):
        outcome = resolved(resolver, name)
        assert isinstance(outcome, Failure) and "adresse privée refusée" in str(outcome.value)
        outcome.trap(Exception)  # handled: no « unhandled error in Deferred »
    resolver.allow_private = True
    assert resolved(resolver, "rebind.example.org") == "127.0.0.1"


# -- the spider on any API answer -----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["link", "title", "rendered", "content", "date", "modified", "type",
                         "categories", "_embedded", "wp:term", "name", "taxonomy", "id"]),
        inner, max_size=5), max_leaves=20)


@given(body=json_values, pages=st.binary(max_size=6),
       link=st.sampled_from([f"{BASE}/a/", "javascript:x", f"{BASE}/b/?p=1", "", None]))
# content that reads as JSON: parsel would guess a JSON selector, and .css() raised
@example(body='{"a": [1]}', pages=b"", link=f"{BASE}/a/")
def test_the_spider_survives_any_api_answer(body, pages: bytes, link) -> None:
    import json as json_module
    from types import SimpleNamespace

    from scrapy.http import Request, TextResponse

    from crawler.items import ArticleItem, DiscoveryItem
    from crawler.sources import Source
    from crawler.spiders.wordpress import WordPressSpider

    spider = WordPressSpider(source=Source("s", "wordpress", BASE))
    spider.crawler = SimpleNamespace(stats=SimpleNamespace(inc_value=lambda *a: None))
    spider.names = {}
    answers = [body, [body], [{"link": link, "title": body, "content": {"rendered": body}}]]
    for answer in answers:
        url = wp_api.api_url(BASE, "posts")
        response = TextResponse(url, body=json_module.dumps(answer).encode(),
                                headers={"X-WP-TotalPages": pages}, encoding="utf-8",
                                request=Request(url, meta={"kind": "posts", "pretty": True}))
        out = list(spider.parse_api(response))
        assert out and all(isinstance(o, ArticleItem | DiscoveryItem | Request) for o in out)
        assert sum(isinstance(o, Request) and "page=" in o.url for o in out) <= 1000


def test_an_api_on_another_host_says_so() -> None:
    import json as json_module
    from types import SimpleNamespace

    from scrapy.http import Request, TextResponse

    from crawler.items import DiscoveryItem
    from crawler.sources import Source
    from crawler.spiders.wordpress import WordPressSpider

    spider = WordPressSpider(source=Source("s", "wordpress", "https://www.centre.example.fr"))
    spider.crawler = SimpleNamespace(stats=SimpleNamespace(inc_value=lambda *a: None))
    spider.names = {}
    url = wp_api.api_url("https://www.centre.example.fr", "posts", 2)
    body = json_module.dumps([post(link="https://centre.example.fr/a/")]).encode()
    response = TextResponse(url, body=body, encoding="utf-8",
                            request=Request(url, meta={"kind": "posts", "pretty": True}))
    [item] = list(spider.parse_api(response))
    assert isinstance(item, DiscoveryItem) and not item.ok
    assert "centre.example.fr et non sur www.centre.example.fr" in (item.error or "")


@given(st.binary(max_size=40) | st.datetimes().map(
    lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT").encode()) | st.from_regex(
    rb"\A[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{1,6} \d\d:\d\d:\d\d [A-Z+\-0-9]{1,5}\Z"))
def test_any_retry_after_is_a_bounded_wait_or_none(value: bytes) -> None:
    from crawler.middlewares import _retry_after

    wait = _retry_after(value)
    assert wait is None or wait >= 0


markup = st.lists(st.sampled_from([
    "<h1>", "</h1>", "<article>", "</article>", "<main>", '<time datetime="', "2020-13-45",
    "2019-03-12T10:00", '">', '<a rel="tag" href="/category/x/">', "</a>", '<a href="',
    "/wp-content/uploads/a.pdf", "javascript:alert(1)", "http://[::1", "#x", '<meta property="'
    'article:published_time" content="', '<script type="application/ld+json">',
    '{"@graph": [{"headline": ', "null", "[1, {", "}]}", "</script>", "é", "\x00", "&amp;",
    "<!--", "-->", "<nav>", "<a class='next' href='", "/page/2/", '<a href="http://[::1/x.pdf">',
    '<a rel="next" href="http://h:port/">', "<nav><a href='https://[zz/'>m</a></nav>"]),
    max_size=40).map("".join)


@given(markup)
@example('<a href="<time datetime="{"@graph": [{"headline": <h1>')  # an invalid attribute name
def test_any_page_parses_to_plain_values(text: str) -> None:
    page = Selector(text=text or "<p></p>", type="html")  # as an HtmlResponse gives
    assert isinstance(wp_html.article_title(page), str)
    date = wp_html.article_date(page)
    assert date is None or wp_html.iso_date(date) == date
    assert all(isinstance(t, str) and t for t in wp_html.article_terms(page))
    for link in wp_html.document_links(wp_html.content(page), BASE + "/a/"):
        assert link.url.startswith(("http://", "https://")) and "#" not in link.url
    following = wp_html.next_page(page, BASE + "/")
    assert following is None or isinstance(following, str)
    wp_html.menu_links(page, BASE + "/")


def test_one_bad_link_does_not_lose_the_page() -> None:
    page = Selector(text='<main><h1>Titre</h1><a href="http://[::1/x.pdf">cassé</a>'
                         '<a href="https://h:port/y.pdf">port</a>'
                         '<a href="/wp-content/uploads/bon.pdf">Bon</a></main>')
    links = wp_html.document_links(wp_html.content(page), BASE + "/a/")
    assert [d.url for d in links] == [f"{BASE}/wp-content/uploads/bon.pdf"]


def test_a_sitemap_with_a_bad_entry_keeps_the_others() -> None:
    from types import SimpleNamespace

    from scrapy.http import Request, XmlResponse

    from crawler.items import DiscoveryItem
    from crawler.sources import Source
    from crawler.spiders.wordpress import WordPressSpider

    spider = WordPressSpider(source=Source("s", "wordpress", BASE))
    spider.crawler = SimpleNamespace(stats=SimpleNamespace(inc_value=lambda *a: None))
    url = f"{BASE}/wp-sitemap-posts-post-1.xml"
    body = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<url><loc>http://[::1/a/</loc></url><url><loc>" + BASE.encode()
            + b"/b/</loc></url></urlset>")
    out = list(spider.parse_sitemap(XmlResponse(url, body=body, request=Request(url))))
    assert [r.url for r in out if isinstance(r, Request)] == [f"{BASE}/b/"]
    assert any(isinstance(o, DiscoveryItem) and o.ok and o.articles == 1 for o in out)


@pytest.mark.parametrize(("rendered", "text"), [
    ("Santé &amp; quartiers <script>alert(1)</script>: « 5 < 6 » <b>ur</b>gent",
     "Santé & quartiers : « 5 < 6 » urgent"),
    ("Journ&eacute;e &#8211; l&rsquo;H&eacute;rault", "Journée – l’Hérault"),
    ("<style>h1{}</style>Guide", "Guide"), ("</div><p>x", "x"), ("", "")])
def test_titles_are_their_visible_text(rendered: str, text: str) -> None:
    assert wp_api.plain(rendered) == text
    if "<p>" not in rendered:  # a paragraph closes the heading: not a title's markup
        page = Selector(text=f"<main><h1 class='wp-block-post-title'>{rendered}</h1></main>")
        assert wp_html.article_title(page) == text
