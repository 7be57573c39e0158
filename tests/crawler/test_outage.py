"""An outage never empties the archive: the replica site crawled, then down (500
everywhere, or refusing connections) for three crawls, then back.

The replica is served on one fixed free port for its whole life, as a real site keeps its
address: document ids are hashes of URLs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fonds.catalog import Catalog
from fonds.models import DocStatus, ExtractionStatus, Link, Observation
from replica.content import ARTICLES
from replica.server import ServedSite, SiteState
from tests.conftest import free_port as shared_free_port
from tests.conftest import run_fonds
from tests.replica_env import fonds_env, last_crawl


def free_port() -> int:
    """A port free on both replica addresses (127.0.0.1 and 127.0.0.2)."""
    return shared_free_port(("127.0.0.1", "127.0.0.2"))


class Down(BaseHTTPRequestHandler):
    """WordPress with its database stopped: 500 for every page, API and file."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        body = b"<h1>Erreur lors de la connexion \xc3\xa0 la base de donn\xc3\xa9es</h1>"
        self.send_response(500)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def down(port: int) -> Iterator[None]:
    servers = [ThreadingHTTPServer((host, port), Down) for host in ("127.0.0.1", "127.0.0.2")]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def documents(env: dict[str, str]) -> dict[str, DocStatus]:
    with Catalog(Path(env["FONDS_DATA_DIR"]) / "catalog.sqlite") as catalog:
        return {d.canonical_url: d.status for d in catalog.documents()}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["errors", "refused"])
def test_an_outage_of_three_crawls_retires_nothing_and_recovery_finds_everything(
        tmp_path: Path, kind: str) -> None:
    port = free_port()
    with ServedSite(SiteState(), port=port) as site:
        env = fonds_env(tmp_path, site) | {"FONDS_CRAWL_TIMEOUT_S": "5"}
        assert run_fonds(env, "crawl").returncode == 0
        assert run_fonds(env, "ingest").returncode == 0
    before = documents(env)
    assert sum(s is DocStatus.ACTIVE for s in before.values()) >= 20

    for _ in range(3):  # gone_after_runs is 3: this used to retire the whole archive
        if kind == "errors":
            with down(port):
                result = run_fonds(env, "crawl")
        else:
            result = run_fonds(env, "crawl")  # nothing listens: connections refused
        assert result.returncode == 1, result.stdout
        assert "Collecte en échec" in result.stdout and "Rien n'est compté absent" in (
            result.stdout)
        crawl = last_crawl(env)
        assert crawl["failed"] is True and crawl["counts"]["missing"] == 0
        assert crawl["counts"]["gone"] == 0
    assert documents(env) == before  # nothing gone, nothing failed that was not already
    ingest = run_fonds(env, "ingest")
    assert ingest.returncode == 0 and "retiré" not in ingest.stdout.replace("0 retiré", "")

    with ServedSite(SiteState(), port=port) as site:
        result = run_fonds(env, "crawl")
    assert result.returncode == 0, result.stdout
    assert "0 nouveaux, 0 modifiés" in result.stdout
    assert documents(env) == before
    assert run_fonds(env, "ingest").returncode == 0
    found = json.loads(run_fonds(env, "search", "conseils citoyens", "--json").stdout)
    assert found["total"] >= 5


def test_a_run_that_would_retire_more_than_a_fifth_retires_none(tmp_path: Path) -> None:
    with ServedSite(SiteState()) as site:
        env = fonds_env(tmp_path, site) | {"FONDS_GONE_AFTER_RUNS": "1"}
        assert run_fonds(env, "crawl").returncode == 0
        site.site.state.removed.update(a.slug for a in ARTICLES[:5])  # half the site
        result = run_fonds(env, "crawl")
    assert result.returncode == 0
    assert "Aucune absence comptée" in result.stdout and "plus d'un cinquième" in result.stdout
    crawl = last_crawl(env)
    assert crawl["healthy"] is True and crawl["counts"]["gone"] == 0
    assert DocStatus.GONE not in documents(env).values()


def test_a_gone_document_seen_again_is_active_and_ingested_again(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        obs = Observation(url="https://x.fr/a.pdf", sha256="a" * 64, file_path="files/a.pdf",
                          media_type="application/pdf", size=3, source="s")
        _, doc_id = catalog.record(obs)
        for n in range(4):  # keep the share of missing documents under a fifth
            catalog.record(Observation(url=f"https://x.fr/{n}.pdf", sha256=str(n) * 64,
                                       source="s"))
        catalog.set_indexed([doc_id], True)
        catalog.db.execute("UPDATE documents SET extraction_status = 'ok',"
                           " ingested_sha256 = sha256, last_seen = '2000-01-01'"
                           " WHERE id = ?", (doc_id,))
        absences = catalog.mark_missing("s", "2001-01-01", gone_after=1)
        assert absences.gone == ("https://x.fr/a.pdf",) and absences.refused is None
        catalog.set_indexed([doc_id], False)  # what the ingest does to a gone document
        catalog.seen_unchanged("https://x.fr/a.pdf")  # a 304: it is back
        doc = catalog.document(doc_id)
        assert doc is not None and doc.status is DocStatus.ACTIVE and doc.error is None
        assert doc.needs_ingest and doc.extraction_status is ExtractionStatus.PENDING


def test_a_failed_fetch_of_a_held_document_is_not_an_absence(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        _, doc_id = catalog.record(Observation(url="https://x.fr/a.pdf", sha256="a" * 64,
                                               source="s"))
        catalog.db.execute("UPDATE documents SET last_seen = '2000-01-01'")
        catalog.record(Observation(url="https://x.fr/a.pdf", source="s", error="HTTP 503"))
        catalog.seen_unchanged("https://x.fr/a.pdf", revive=False)
        assert catalog.mark_missing("s", "2001-01-01", gone_after=1).missing == 0
        catalog.add_link(doc_id, Link("https://x.fr/article/", "Article", "Accéder"))
        assert catalog.links(doc_id)[0].link_text == "Accéder"


@pytest.mark.slow
def test_an_article_back_on_the_site_is_searchable_again(tmp_path: Path) -> None:
    article = ARTICLES[0]
    with ServedSite(SiteState()) as site:
        env = fonds_env(tmp_path, site) | {"FONDS_GONE_AFTER_RUNS": "1"}
        assert run_fonds(env, "crawl").returncode == 0
        assert run_fonds(env, "ingest").returncode == 0

        def found() -> set[str]:
            answer = json.loads(run_fonds(env, "search", article.title, "--json").stdout)
            return {h["url"] for h in answer["hits"]}

        url = next(u for u in documents(env) if u.endswith(f"/{article.slug}/"))
        assert url in found()
        site.site.state.removed.add(article.slug)
        assert run_fonds(env, "crawl").returncode == 0
        assert documents(env)[url] is DocStatus.GONE
        assert run_fonds(env, "ingest").returncode == 0
        assert url not in found()
        site.site.state.removed.clear()  # the editor restores it
        assert run_fonds(env, "crawl").returncode == 0
        assert documents(env)[url] is DocStatus.ACTIVE
        assert run_fonds(env, "ingest").returncode == 0  # plain ingest, no --rebuild
        assert url in found()
