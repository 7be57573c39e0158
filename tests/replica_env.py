"""The replica site as a crawl source for `fonds` child processes: what the crawler,
outage and reliability tests share (helpers, not tests)."""

from __future__ import annotations

import json
from pathlib import Path

from replica.server import ServedSite
from tests.conftest import child_env, run_fonds


def sources_file(tmp_path: Path, site: ServedSite,
                 categories: tuple[str, ...] = ("participation-des-habitants", "sante")) -> Path:
    official = site.site.official_base.split("//", 1)[1]
    path = tmp_path / "sources.toml"
    listed = ", ".join(f'"{c}"' for c in categories)
    path.write_text(f'[[source]]\nname = "replica"\nfamily = "wordpress"\nbase_url = '
                    f'"{site.base_url}"\ncategories = [{listed}]\nofficial_domains = '
                    f'["{official}"]\n', encoding="utf-8")
    return path


def fonds_env(tmp_path: Path, site: ServedSite, private: bool = True) -> dict[str, str]:
    return child_env(FONDS_DATA_DIR=str(tmp_path / "data"), FONDS_CRAWL_DELAY_S="0",
                     FONDS_SOURCES_FILE=str(sources_file(tmp_path, site)),
                     FONDS_CRAWL_ALLOW_PRIVATE="true" if private else "false",
                     FONDS_OCR="false", FONDS_EMBEDDER="none")


def last_crawl(env: dict[str, str]) -> dict:
    status = json.loads(run_fonds(env, "status", "--json").stdout)
    return next(r for r in status["runs"] if r["kind"] == "crawl")
