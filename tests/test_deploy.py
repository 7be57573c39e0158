"""docker-compose.yml and the Dockerfile, checked as files: no Docker engine runs here."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]


def test_services_and_volumes() -> None:
    assert set(SERVICES) == {"meilisearch", "ui", "scheduler"}
    assert set(COMPOSE["volumes"]) == {"meili_data", "fonds_data"}
    assert "meili_data:/meili_data" in SERVICES["meilisearch"]["volumes"]
    for name in ("ui", "scheduler"):
        assert any(v.startswith("fonds_data:/data") for v in SERVICES[name]["volumes"])


def test_meilisearch_image_is_pinned_with_a_healthcheck() -> None:
    image = SERVICES["meilisearch"]["image"]
    assert re.fullmatch(r"getmeili/meilisearch:v\d+\.\d+\.\d+", image), image
    assert "healthcheck" in SERVICES["meilisearch"]
    for name in ("ui", "scheduler"):
        assert SERVICES[name]["depends_on"]["meilisearch"]["condition"] == "service_healthy"


def test_commands() -> None:
    assert SERVICES["ui"]["command"][:2] == ["fonds", "serve"]
    assert SERVICES["scheduler"]["command"] == ["fonds", "schedule", "--every", "24h"]


def test_no_secret_is_written_and_the_ui_gets_only_the_search_key() -> None:
    for service in SERVICES.values():
        for key, value in service.get("environment", {}).items():
            if "KEY" in key:
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", str(value)), (key, value)
    ui_env = SERVICES["ui"]["environment"]
    assert "FONDS_MEILI_KEY" not in ui_env
    assert "MEILI_MASTER_KEY" not in str(ui_env)
    assert ui_env["FONDS_MEILI_SEARCH_KEY"].startswith("${MEILI_SEARCH_KEY")


def test_dockerfile_installs_cpu_torch_first_and_runs_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    torch_at = text.index("pip install torch==2.13.0")
    assert torch_at < text.index("pip install .")
    assert re.search(r"^USER (?!root)\w+", text, re.M)
