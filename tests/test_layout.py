"""Architecture rules of DESIGN.md that code review alone would let slip."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

PACKAGES = ["fonds", "crawler", "ingest", "index_config"]


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_only_search_ui_imports_streamlit(package: str) -> None:
    offenders = [p for p in (ROOT / package).rglob("*.py") if "streamlit" in _imports(p)]
    assert not offenders


def test_layout_of_design_md() -> None:
    for name in ["fonds", "crawler", "ingest", "search_ui", "index_config", "tests", "benchmarks",
                 "pyproject.toml", "docker-compose.yml", "README.md", "Makefile", ".ci/run",
                 "Dockerfile"]:
        assert (ROOT / name).exists(), name


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:12]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_no_unpinned_torch_anywhere() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "TORCH := torch==2.13.0" in makefile
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"torch' not in pyproject  # pulled only through sentence-transformers, after the pin
