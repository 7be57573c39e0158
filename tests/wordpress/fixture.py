"""pytest plugin: a real WordPress (Debian packages) on http://127.0.0.1:8081.

Registered in tests/conftest.py (`pytest_plugins`). Mark tests that use it
`@pytest.mark.slow` and `@pytest.mark.wordpress`.

Fixtures
- `wordpress_site` (session): builds the site once — a private MariaDB (unix socket,
  data under /tmp/fonds-wordpress-8081/) and a private Apache with mod_php listening
  on 127.0.0.1:8081 only, WordPress installed with wp-admin/install.php over HTTP in
  French (fr_FR), pretty permalinks (/%postname%/), theme twentytwentythree, then
  content through tests/wordpress/wp.php (wp-load.php): 4 categories, 26 posts (9 from
  ../shared/seed, 17 « Lettre d'information »), 14 PDFs from ../shared/corpus/pdfs as
  media-library attachments linked with generic texts (« Accéder au document »,
  « En savoir plus », « Version imprimable »...), one PDF linked from two posts of
  different categories, a page with a document link, a dead link (a 404 PDF URL).
  Skips with the reason when a package, root, or ../shared is absent.
- `wordpress` (function): the same `WordPressSite`, reset to the built state first
  when the previous test changed it (database restored from a mysqldump snapshot,
  replaced PDFs restored, mu-plugins removed, theme back to the block theme).

`WordPressSite` (tests/wordpress/site.py)
- what to compare with: `base_url`, `posts`, `pages`, `articles` (both), `pdfs`
  (`Pdf.url/name/path/linked_from/link_texts/categories`), `dead_links`
  (`DeadLink.url/article/text`), `categories` (name → archive URL), `category_slugs`,
  `theme`, `locale`, `version`, `build_seconds`; `Post.id/kind/slug/title/link/date/
  categories/documents` ((URL, link text) pairs).
- controls: `use_theme(BLOCK_THEME | CLASSIC_THEME)`, `add_posts(n)`,
  `add_post(title, html, categories)` (one post, e.g. a hostile title),
  `sitemaps(enabled)`, `rest_api(enabled)` (off: /wp-json/ answers 404 and pages stop
  advertising it), `trash(post)`, `replace_pdf(pdf, data)` (same URL, new bytes),
  `stop_database()` / `start_database()` / `with outage():` (WordPress answers 500),
  `reset()`.
- helpers: `sources_toml(path, name=..., categories=...)` writes a sources.toml for
  FONDS_SOURCES_FILE; `log_mark()` + `requests_since(mark)` list the (method, path,
  status) Apache served, to count API requests or see what a crawl downloaded.

One session at a time owns port 8081 (a lock file; a second session waits up to 8 min).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wordpress.servers import missing_packages
from tests.wordpress.site import BLOCK_THEME, CLASSIC_THEME, PORT, WordPressSite, exclusive

__all__ = ["BLOCK_THEME", "CLASSIC_THEME", "WordPressSite", "wordpress", "wordpress_site"]

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEED = SHARED / "seed" / "participation-des-habitants.txt"
CORPUS_PDFS = SHARED / "corpus" / "pdfs"


@pytest.fixture(scope="session")
def wordpress_site() -> Iterator[WordPressSite]:
    absent = missing_packages()
    if absent:
        pytest.skip(f"WordPress test site needs the Debian packages: {', '.join(absent)} "
                    f"(.ci/run installs them)")
    if os.geteuid() != 0:
        pytest.skip("WordPress test site needs root (mariadbd runs as mysql, Apache as "
                    "www-data)")
    for path in (SEED, CORPUS_PDFS):
        if not path.exists():
            pytest.skip(f"shared material absent: {path} (tests read ../shared beside the "
                        f"checkout)")
    with exclusive(PORT):
        site = WordPressSite(root=Path(f"/tmp/fonds-wordpress-{PORT}"),
                             seed=SEED, corpus=CORPUS_PDFS)
        try:
            site.build()
            yield site
        finally:
            site.close()


@pytest.fixture
def wordpress(wordpress_site: WordPressSite) -> WordPressSite:
    wordpress_site.reset()
    return wordpress_site
