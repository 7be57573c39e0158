"""The WordPress test site: built once per session, reset cheaply, controlled by tests.

See tests/wordpress/fixture.py for the fixtures and README.md for the API in short.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.wordpress import content
from tests.wordpress.content import CATEGORIES, DEAD, SLUGS, Draft
from tests.wordpress.servers import CONFIG_FILE, LANGUAGES, THEMES, Apache, MariaDB

HERE = Path(__file__).resolve().parent
PORT = 8081
BLOCK_THEME = "twentytwentythree"  # what WordPress 6.1 activates on a fresh install
CLASSIC_THEME = "twentytwentyone"
DATABASE = "fonds_wp"
MU_PLUGINS = {
    "no-sitemaps": "<?php\nadd_filter('wp_sitemaps_enabled', '__return_false');\n",
    # /wp-json/ (and ?rest_route=) answers 404 and no page advertises the API.
    "no-rest": """<?php
add_action('init', function () {
    remove_action('wp_head', 'rest_output_link_wp_head', 10);
    remove_action('template_redirect', 'rest_output_link_header', 11);
    remove_action('xmlrpc_rsd_apis', 'rest_output_rsd');
});
add_action('parse_request', function ($wp) {
    if (!empty($wp->query_vars['rest_route'])) {
        status_header(404);
        nocache_headers();
        header('Content-Type: text/html; charset=UTF-8');
        echo '<!doctype html><title>Page non trouvée</title><h1>Page non trouvée</h1>';
        exit;
    }
}, 0);
""",
}


@dataclass(frozen=True)
class Post:
    """A published post or page, as WordPress reports it after creating it."""

    id: int
    kind: str  # "post" | "page"
    slug: str
    title: str
    link: str  # the permalink
    date: str
    categories: tuple[str, ...]  # category names
    documents: tuple[tuple[str, str], ...]  # (URL, link text) of each document link


@dataclass(frozen=True)
class Pdf:
    """An uploaded PDF (a media-library attachment) and who links it."""

    url: str
    name: str  # file name in ../shared/corpus/pdfs
    path: Path  # the file Apache serves
    linked_from: tuple[str, ...]  # permalinks of the posts/pages that link it
    link_texts: tuple[str, ...]
    categories: tuple[str, ...]  # union of the linking posts' categories


@dataclass(frozen=True)
class DeadLink:
    url: str
    article: str  # permalink of the post that links it
    text: str


class WordPressSite:
    """A French WordPress 6.1 on http://127.0.0.1:8081, Debian packages, private servers."""

    def __init__(self, root: Path, seed: Path, corpus: Path, port: int = PORT) -> None:
        self.root = root
        self.seed = seed
        self.corpus = corpus
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.db = MariaDB(root)
        self.apache = Apache(root, port)
        self.content_dir = root / "wp-content"
        self.snapshot = root / "snapshot.sql"
        self.categories: dict[str, str] = {}  # name → category archive URL
        self.posts: list[Post] = []
        self.pages: list[Post] = []
        self.pdfs: list[Pdf] = []
        self.dead_links: list[DeadLink] = []
        self.theme = BLOCK_THEME
        self.locale = ""
        self.version = ""
        self.build_seconds = 0.0
        self._base: tuple[list[Post], list[Pdf]] = ([], [])
        self._news = 0
        self._dirty = False
        self._replaced: set[Path] = set()

    # --- lifecycle ---------------------------------------------------------------
    def build(self) -> None:
        """Servers up, WordPress installed over HTTP, content created, snapshot taken."""
        started = time.monotonic()
        self._stop_stale()
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        os.chmod(self.root, 0o755)  # Apache's children run as www-data
        for sub in ("themes", "plugins", "mu-plugins", "uploads", "languages"):
            (self.content_dir / sub).mkdir(parents=True)
        for theme in (BLOCK_THEME, CLASSIC_THEME):
            (self.content_dir / "themes" / theme).symlink_to(THEMES / theme)
        self._write_config()
        self.db.initialise()
        self.db.start()
        self.db.sql(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4; "
                    f"CREATE USER 'fonds'@'localhost' IDENTIFIED BY 'fonds'; "
                    f"GRANT ALL ON {DATABASE}.* TO 'fonds'@'localhost';")
        self.apache.configure()
        self.apache.start()
        self._install()
        setup = self.php("setup", theme=BLOCK_THEME, permalink="/%postname%/",
                         posts_per_page=10)
        self.locale, self.version = setup["locale"], setup["version"]
        self._create_content()
        self.db.dump(DATABASE, self.snapshot)
        self._base = (list(self.posts), list(self.pdfs))
        self.build_seconds = time.monotonic() - started

    def close(self) -> None:
        self.apache.stop()
        self.db.stop()
        CONFIG_FILE.unlink(missing_ok=True)

    def reset(self) -> None:
        """Back to the site as built (database, files, mu-plugins, theme), if changed."""
        if not self._dirty:
            return
        self.start_database()
        self.db.restore(DATABASE, self.snapshot)
        for path in self._replaced:
            pdf = next(p for p in self._base[1] if p.path == path)
            shutil.copyfile(self.corpus / pdf.name, path)
        self._replaced.clear()
        for plugin in (self.content_dir / "mu-plugins").glob("*.php"):
            plugin.unlink()
        self.posts, self.pdfs = list(self._base[0]), list(self._base[1])
        self.theme = BLOCK_THEME
        self._news = content.NEWS_COUNT
        self._dirty = False

    # --- what tests compare against -------------------------------------------------
    @property
    def articles(self) -> list[Post]:
        """Posts and pages: every HTML article a crawl must find."""
        return [*self.posts, *self.pages]

    @property
    def category_slugs(self) -> list[str]:
        return [SLUGS[name] for name in CATEGORIES]

    def sources_toml(self, path: Path, name: str = "wordpress-test",
                     categories: list[str] | None = None) -> Path:
        """A sources.toml with this site as one `wordpress` source (FONDS_SOURCES_FILE)."""
        slugs = self.category_slugs if categories is None else categories
        listed = ", ".join(json.dumps(s) for s in slugs)
        path.write_text(f'[[source]]\nname = "{name}"\nfamily = "wordpress"\n'
                        f'base_url = "{self.base_url}"\ncategories = [{listed}]\n'
                        f"official_domains = []\n", encoding="utf-8")
        return path

    def log_mark(self) -> int:
        """A position in Apache's access log, for `requests_since`."""
        log = self.root / "apache-access.log"
        return log.stat().st_size if log.exists() else 0

    def requests_since(self, mark: int) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of each request Apache logged after `mark`."""
        with (self.root / "apache-access.log").open("rb") as log:
            log.seek(mark)
            lines = log.read().decode("utf-8", "replace").splitlines()
        found = []
        for line in lines:
            match = re.search(r'"(\w+) (\S+) [^"]*" (\d{3})', line)
            if match:
                found.append((match[1], match[2], int(match[3])))
        return found

    # --- controls -----------------------------------------------------------------
    def use_theme(self, theme: str) -> None:
        """BLOCK_THEME or CLASSIC_THEME (the ones Debian ships)."""
        self._dirty = True
        self.theme = self.php("theme", theme=theme)["theme"]

    def add_posts(self, count: int) -> list[Post]:
        """`count` more posts (« Lettre d'information n° k »), without documents."""
        self._dirty = True
        drafts = content.news_drafts(count, start=self._news + 1)
        self._news += count
        made = self._publish(drafts, {})
        self.posts.extend(made)
        return made

    def add_post(self, title: str, html: str, categories: tuple[str, ...] = ()) -> Post:
        """One post as an editor (an administrator: unfiltered HTML) writes it, e.g. a
        hostile title; `categories` are names from CATEGORIES. Its documents are not
        tracked in `pdfs`."""
        self._dirty = True
        sent = {"type": "post", "title": title, "content": html, "date": "2023-06-01 10:00:00",
                "categories": [SLUGS[c] for c in categories]}
        made = self.php("posts", posts=[sent])[0]
        post = Post(id=made["id"], kind="post", slug=made["slug"], title=made["title"],
                    link=made["link"], date=made["date"], categories=tuple(made["categories"]),
                    documents=())
        self.posts.append(post)
        return post

    def sitemaps(self, enabled: bool) -> None:
        self._mu_plugin("no-sitemaps", not enabled)

    def rest_api(self, enabled: bool) -> None:
        self._mu_plugin("no-rest", not enabled)

    def trash(self, post: Post) -> None:
        """Move a post to the bin, as an editor does: it leaves the site and the API."""
        self._dirty = True
        self.php("trash", id=post.id)
        self.posts = [p for p in self.posts if p.id != post.id]
        pdfs = [self._pdf(pdf.name, pdf.url, pdf.path) for pdf in self.pdfs]
        self.pdfs = [pdf for pdf in pdfs if pdf.linked_from]

    def replace_pdf(self, pdf: Pdf, data: bytes) -> None:
        """New bytes at the same URL (an editor overwriting the file on the server)."""
        self._dirty = True
        self._replaced.add(pdf.path)
        pdf.path.write_bytes(data)

    def stop_database(self) -> None:
        """MariaDB down: every WordPress URL answers 500 (files still serve)."""
        self._dirty = True
        self.db.stop()

    def start_database(self) -> None:
        self.db.start()

    @contextmanager
    def outage(self):
        self.stop_database()
        try:
            yield self
        finally:
            self.start_database()

    # --- internals ----------------------------------------------------------------
    def _stop_stale(self) -> None:
        """Servers a killed session left behind (they run in their own sessions): found
        by their pid files under our root and stopped by pid, nothing else."""
        for pid_file in (self.root / "apache.pid", self.db.run / "mysqld.pid"):
            try:
                pid = int(pid_file.read_text().strip())
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            if str(self.root).encode() not in command:
                continue
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.2)

    def php(self, command: str, **args: object) -> object:
        env = os.environ | {"WORDPRESS_CONFIG": "fondstest",
                            "HTTP_HOST": f"127.0.0.1:{self.port}"}
        result = subprocess.run(["php", str(HERE / "wp.php"), command], env=env,
                                input=json.dumps(args), capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"wp.php {command}: {result.stderr.strip() or result.stdout}")
        return json.loads(result.stdout)

    def _write_config(self) -> None:
        socket = self.db.socket
        keys = "".join(f"define('{k}', 'fonds-test-{k.lower()}');\n" for k in (
            "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
            "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
        CONFIG_FILE.write_text(
            "<?php\n// Written by tests/wordpress (fonds test suite); removed after the run.\n"
            f"define('DB_NAME', '{DATABASE}');\ndefine('DB_USER', 'fonds');\n"
            f"define('DB_PASSWORD', 'fonds');\ndefine('DB_HOST', 'localhost:{socket}');\n"
            f"define('WP_CONTENT_DIR', '{self.content_dir}');\n"
            f"define('WP_LANG_DIR', '{LANGUAGES}');\n"
            "define('WP_HTTP_BLOCK_EXTERNAL', true);\ndefine('DISABLE_WP_CRON', true);\n"
            "define('AUTOMATIC_UPDATER_DISABLED', true);\ndefine('WP_DEBUG', false);\n"
            "define('FS_METHOD', 'direct');\n" + keys, encoding="utf-8")

    def _install(self) -> None:
        """The five-minute install, over HTTP, as a person would (wp-admin/install.php)."""
        form = urllib.parse.urlencode({
            "weblog_title": "Villes et Territoires — centre de ressources (test)",
            "user_name": "admin", "admin_password": "fonds-test-admin",
            "admin_password2": "fonds-test-admin", "pw_weak": "on",
            "admin_email": "admin@example.org", "blog_public": "1", "language": "fr_FR",
        }).encode()
        with urllib.request.urlopen(f"{self.base_url}/wp-admin/install.php?step=2",
                                    data=form, timeout=120) as answer:
            page = answer.read().decode("utf-8", "replace")
        if "wp-login.php" not in page:
            raise RuntimeError(f"WordPress install failed: {page[:500]}")

    def _create_content(self) -> None:
        made = self.php("categories", names=list(CATEGORIES))
        self.categories = {c["name"]: c["link"] for c in made}
        drafts = [*content.seed_drafts(self.seed.read_text(encoding="utf-8")),
                  *content.news_drafts(content.NEWS_COUNT)]
        self._news = content.NEWS_COUNT
        names = content.targets([*drafts, content.PAGE])
        months = {name: d.date[:7] for d in reversed([*drafts, content.PAGE])
                  for name in content.targets([d])}
        uploads = self.php("upload", files=[{
            "name": name, "path": str(self.corpus / name), "title": Path(name).stem,
            "month": months[name].replace("-", "/"), "month_date": months[name] + "-01 08:00:00",
        } for name in names])
        urls = {u["name"]: u["url"] for u in uploads}
        files = {u["name"]: Path(u["file"]) for u in uploads}
        urls[DEAD] = f"{self.base_url}/wp-content/uploads/2020/12/ami-fabriques-de-territoire.pdf"
        self.posts = self._publish(drafts, urls)
        self.pages = self._publish([content.PAGE], urls)
        self.dead_links = [DeadLink(url, post.link, text) for post in self.posts
                           for url, text in post.documents if url == urls[DEAD]]
        self.pdfs = [self._pdf(name, urls[name], files[name]) for name in names]

    def _publish(self, drafts: list[Draft], urls: dict[str, str]) -> list[Post]:
        sent = [{"type": d.kind, "title": d.title, "content": content.render(d, urls),
                 "date": d.date, "categories": [SLUGS[c] for c in d.categories]}
                for d in drafts]
        made = self.php("posts", posts=sent)
        return [Post(id=m["id"], kind=m["type"], slug=m["slug"], title=m["title"],
                     link=m["link"], date=m["date"], categories=tuple(m["categories"]),
                     documents=tuple((urls[link.target], link.text) for link in d.all_links))
                for d, m in zip(drafts, made, strict=True)]

    def _pdf(self, name: str, url: str, path: Path) -> Pdf:
        linking = [(a, text) for a in self.articles for u, text in a.documents if u == url]
        return Pdf(url=url, name=name, path=path, linked_from=tuple(a.link for a, _ in linking),
                   link_texts=tuple(text for _, text in linking),
                   categories=tuple(dict.fromkeys(c for a, _ in linking for c in a.categories)))

    def _mu_plugin(self, name: str, present: bool) -> None:
        self._dirty = True
        path = self.content_dir / "mu-plugins" / f"{name}.php"
        if present:
            path.write_text(MU_PLUGINS[name], encoding="utf-8")
        else:
            path.unlink(missing_ok=True)


@contextmanager
def exclusive(port: int, wait_s: float = 480.0):
    """One test session at a time owns the site on `port` (others wait, then fail)."""
    lock = open(f"/tmp/fonds-wordpress-{port}.lock", "w")  # noqa: SIM115 (held open)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                raise RuntimeError(f"another test session holds the WordPress site on port "
                                   f"{port} (/tmp/fonds-wordpress-{port}.lock)") from None
            time.sleep(1)
    try:
        yield
    finally:
        lock.close()
