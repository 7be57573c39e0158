"""Architecture rules of DESIGN.md that code review alone would let slip."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ["fonds", "crawler", "ingest", "index_config", "replica"]
STAGES = {"crawler", "ingest"}
FRONT_ENDS = {"search_ui", "replica"}
ORCHESTRATION = ROOT / "fonds" / "app"  # the one layer above the stages
MAX_LINES = 450
MAX_ENGINE_LINES = 350


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def _python(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_only_search_ui_imports_streamlit(package: str) -> None:
    offenders = [p for p in _python(package) if "streamlit" in _imports(p)]
    assert not offenders


def test_the_core_imports_no_stage_and_no_front_end() -> None:
    """fonds/ (but its orchestration layer fonds/app/) is what every stage shares."""
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & (STAGES | FRONT_ENDS))
                 for p in _python("fonds") if ORCHESTRATION not in p.parents}
    assert not {k: v for k, v in offenders.items() if v}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stages_import_neither_each_other_nor_the_orchestration(stage: str) -> None:
    offenders = {}
    for path in _python(stage):
        names = _imports(path)
        wrong = sorted(names & ((STAGES - {stage}) | FRONT_ENDS))
        text = path.read_text(encoding="utf-8")
        if "fonds.app" in text:
            wrong.append("fonds.app")
        if wrong:
            offenders[str(path.relative_to(ROOT))] = wrong
    assert not offenders


def test_modules_stay_small() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for folder in [*PACKAGES, "search_ui"] for p in _python(folder)}
    too_big = {k: v for k, v in sizes.items() if v > MAX_LINES}
    assert not too_big
    engine = {k: v for k, v in sizes.items()
              if k.startswith("fonds/engines/embedded") and v > MAX_ENGINE_LINES}
    assert not engine


def test_layout_of_design_md() -> None:
    for name in ["fonds", "fonds/app", "crawler", "ingest", "search_ui", "index_config",
                 "replica", "tests", "benchmarks", "pyproject.toml", "docker-compose.yml",
                 "README.md", "Makefile", ".ci/run", "Dockerfile"]:
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
