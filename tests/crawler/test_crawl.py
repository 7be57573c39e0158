"""Scrapy against the replica site served on loopback: what maintainers rely on."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.sources import Source
from crawler.spiders.wordpress import WordPressSpider, is_document_link
from fonds.catalog import Catalog
from fonds.models import DocStatus
from replica.content import ARTICLES
from replica.server import ServedSite, SiteState, article_path
from tests.conftest import ROOT, child_env, run_fonds
from tests.replica_env import fonds_env, last_crawl, sources_file


@pytest.fixture
def site():
    with ServedSite(SiteState()) as served:
        yield served


def catalog(env: dict[str, str]) -> Catalog:
    return Catalog(Path(env["FONDS_DATA_DIR"]) / "catalog.sqlite")


def test_first_crawl_records_articles_documents_and_hard_cases(tmp_path, site) -> None:
    env = fonds_env(tmp_path, site)
    result = run_fonds(env, "crawl")
    assert result.returncode == 0, result.stderr
    assert "Collecte terminée" in result.stdout
    counts = last_crawl(env)["counts"]
    assert counts["new"] >= 20 and counts["requests"] > 20
    with catalog(env) as cat:
        every = cat.documents()
    docs = {url.split(":", 2)[2].split("/", 1)[1]: d for d in every for url in d.urls}
    articles = [d for d in every if d.doc_type == "article"]
    assert len(articles) == len(ARTICLES)
    sante = next(d for d in articles if "journee-sante" in d.canonical_url)
    assert sante.published == "2019-11-20"
    assert set(sante.themes) == {"santé", "participation des habitants"}
    # the broken link, the HTML page served as .pdf, the robots.txt section: failed, kept
    assert docs["wp-content/uploads/2019/11/programme-introuvable.pdf"].error == "HTTP 404"
    assert docs["wp-content/uploads/2018/11/diaporama.pdf"].error == (
        "contenu HTML au lieu de PDF")
    assert docs["prive/notes-internes.pdf"].error == "interdit par robots.txt"
    # one file under two URLs (and a redirect to it): one document, every URL recorded
    guide = docs["wp-content/uploads/2019/03/guide-bonnes-pratiques-conseils-citoyens-herault.pdf"]
    assert any(u.endswith("/copie/guide-bonnes-pratiques.pdf") for u in guide.urls)
    assert any(u.endswith("/telecharger/guide-bonnes-pratiques/") for u in guide.urls)
    assert guide.meta["referrers"][0]["text"] in ("Accéder au guide", "Copie du guide",
                                                  "Version imprimable")
    # official documents one hop away, the slow file fetched
    assert any(d.canonical_url.startswith(site.site.official_base) for d in docs.values())
    assert docs["wp-content/uploads/2019/07/annexes-lourdes.pdf"].status is DocStatus.ACTIVE
    # a 503 with Retry-After: waited, retried, fetched
    busy = [p for _, p, _ in site.site.state.requests if p.endswith("annexe-technique.pdf")]
    assert len(busy) == 2
    assert docs["wp-content/uploads/2021/02/annexe-technique.pdf"].status is DocStatus.ACTIVE
    # never asked: what robots.txt forbids, what is outside the allow-list
    paths = [path for _, path, _ in site.site.state.requests]
    assert "/prive/notes-internes.pdf" not in paths
    assert not any("ailleurs" in p for p in paths)
    assert counts["outside_allow_list"] >= 1


def test_second_crawl_downloads_nothing_unchanged(tmp_path, site) -> None:
    env = fonds_env(tmp_path, site)
    run_fonds(env, "crawl")
    site.site.state.requests.clear()
    run_fonds(env, "crawl")
    counts = last_crawl(env)["counts"]
    assert counts["new"] == 0 and counts["changed"] == 0
    assert counts["unchanged"] >= 20
    pdf_requests = [h for _, p, h in site.site.state.requests if p.endswith(".pdf")
                    and "introuvable" not in p and "diaporama" not in p]
    assert pdf_requests and all("If-None-Match" in h for h in pdf_requests)


def test_changed_file_and_gone_article(tmp_path, site) -> None:
    env = fonds_env(tmp_path, site)
    run_fonds(env, "crawl")
    changed = ARTICLES[3].attachments[0].slug
    removed = ARTICLES[0]
    site.site.state.changed.add(changed)
    site.site.state.removed.add(removed.slug)
    run_fonds(env, "crawl")
    counts = last_crawl(env)["counts"]
    assert counts["changed"] == 1 and counts["new"] == 0
    for _ in range(2):
        run_fonds(env, "crawl")
    assert last_crawl(env)["counts"]["gone"] >= 1
    with catalog(env) as cat:
        gone = [d for d in cat.documents() if d.status is DocStatus.GONE]
        assert any(d.canonical_url.endswith(article_path(removed)) for d in gone)
        for doc in gone:
            assert (Path(env["FONDS_DATA_DIR"]) / doc.file_path).exists()  # file kept


def test_private_addresses_are_refused_unless_allowed(tmp_path, site) -> None:
    env = fonds_env(tmp_path, site, private=False)
    result = run_fonds(env, "crawl")
    # Every request refused: the run reached nothing, so it is a failed run (non-zero,
    # a French line) that counts nothing absent.
    assert result.returncode == 1
    assert "Collecte en échec" in result.stdout and "Traceback" not in result.stderr
    assert "adresse privée refusée" in result.stdout
    assert site.site.state.requests == []
    crawl = last_crawl(env)
    assert crawl["counts"]["new"] == 0 and crawl["counts"]["missing"] == 0


def test_article_parsing_on_a_saved_page(site) -> None:
    article = next(a for a in ARTICLES if a.slug.startswith("guide-bonnes-pratiques"))
    url = site.base_url + article_path(article)
    response = HtmlResponse(url, body=site.site.article_html(article), encoding="utf-8",
                            request=Request(url))
    source = Source("replica", "wordpress", site.base_url,
                    official_domains=(site.site.official_base.split("//")[1],))
    spider = WordPressSpider(source=source)
    spider.crawler = SimpleNamespace(stats=SimpleNamespace(inc_value=lambda *a: None))
    out = list(spider.parse_article(response))
    item = out[-1]
    assert item.title == article.title and item.published == "2019-03-12"
    assert item.categories == ["Participation des habitants"]
    requests = out[:-1]
    assert any(r.url.endswith(".pdf") for r in requests)
    # the article rides with each document request: the pipeline never reads the spider
    link = requests[0].meta["link"]
    assert link.link_text == "Accéder au guide" and link.article_title == article.title
    assert link.themes == ("participation des habitants",)
    assert is_document_link("https://x.fr/wp-content/uploads/2019/a.odt")
    assert not is_document_link("https://x.fr/wp-content/uploads/2019/photo.jpg")
    assert not is_document_link("https://x.fr/2019/03/article/")


def test_schedule_runs_and_stops_cleanly_on_sigterm(tmp_path, site) -> None:
    env = fonds_env(tmp_path, site)
    proc = subprocess.Popen([sys.executable, "-m", "fonds", "schedule", "--every", "1h"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "mise à jour terminée" in line or "mise à jour en échec" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert any("mise à jour terminée" in line for line in lines)
    assert "Planification arrêtée." in out


@pytest.mark.slow
def test_demo_builds_a_searchable_archive_and_reruns_incrementally(tmp_path) -> None:
    env = child_env(FONDS_DATA_DIR=str(tmp_path / "data"), FONDS_OCR="false")
    first = run_fonds(env, "demo", "--no-ui", timeout=600)
    assert first.returncode == 0, first.stderr
    with catalog(env) as cat:
        active = [d for d in cat.documents(DocStatus.ACTIVE) if d.indexed]
        assert len(active) >= 10
        assert all(d.all_themes for d in active)
        assert sum("34" in d.all_departements for d in active) >= 3
    found = json.loads(run_fonds(env, "search", "conseils citoyens", "--departement", "Hérault",
                             "--json").stdout)
    assert found["total"] >= 3 and all("34" in h["departements"] for h in found["hits"])
    second = run_fonds(env, "demo", "--no-ui", timeout=600)
    assert second.returncode == 0
    assert "0 nouveaux, 0 modifiés" in second.stdout
    assert "Rien à indexer" in second.stdout


def test_a_progress_line_on_a_terminal_and_scrapy_in_the_log(tmp_path, site) -> None:
    import os
    import pty

    env = fonds_env(tmp_path, site)
    master, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "fonds", "crawl"], env=env, cwd=ROOT,
                            stdin=terminal, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    out, _ = proc.communicate(timeout=120)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    progress = seen.decode("utf-8", "replace")
    assert "replica : " in progress and "pages reçues" in progress and "documents" in progress
    assert "INFO" not in progress and "Scrapy" not in progress  # English lines: the log
    assert "Collecte terminée" in out.decode() and b"\r" not in out  # piped stdout: no progress
    log = (Path(env["FONDS_DATA_DIR"]) / "crawl.log").read_text(encoding="utf-8")
    assert "Spider closed" in log or "Closing spider" in log


def test_a_configured_category_the_site_lacks_is_said(tmp_path, site) -> None:
    env = fonds_env(tmp_path, site) | {"FONDS_SOURCES_FILE": str(sources_file(
        tmp_path, site, ("sante", "nulle-part")))}
    result = run_fonds(env, "crawl")
    assert result.returncode == 0
    assert "attention : catégorie « nulle-part » de sources.toml introuvable" in result.stdout
    assert "« sante »" not in result.stdout
