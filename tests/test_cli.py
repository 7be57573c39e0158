from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from fonds.app.cli import cli
from tests.conftest import ROOT, Fonds

COMMANDS = ["demo", "crawl", "ingest", "import", "update", "schedule", "search", "reindex",
            "status", "serve", "eval", "bench"]


def test_help_lists_every_command_of_the_contract() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output, name
    assert set(cli.commands) == set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example_and_is_in_readme(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example: fonds " in result.output
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`fonds {name}" in readme


def test_status_on_an_empty_archive(fonds: Fonds) -> None:
    result = fonds("status", "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report == {
        "documents": {"total": 0, "active": 0, "gone": 0, "failed": 0},
        "passages": 0,
        "runs": [],
        "failures": [],
        "changed": [],  # documents with a new version since the runs listed (issue 18)
        "index": {"passages": 0, "documents": 0, "catalog_passages": 0, "missing": [],
                  "error": None},
    }
    text = fonds("status")
    assert "Aucune exécution" in text.output


def test_bad_settings_give_one_line_and_no_traceback(tmp_path) -> None:
    (tmp_path / "fonds.toml").write_text("colour = 1\n")
    result = subprocess.run([sys.executable, "-m", "fonds", "status"], cwd=tmp_path,
                            capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["fonds : fonds.toml: réglage inconnu « colour »"]
    assert "Traceback" not in result.stderr


def test_corrupt_catalog_is_one_line(fonds: Fonds) -> None:
    fonds.data_dir.mkdir(parents=True)
    (fonds.data_dir / "catalog.sqlite").write_bytes(b"garbage" * 1000)
    result = fonds("status")
    assert result.exit_code == 1
    assert result.output.startswith("fonds : catalogue ") and "illisible" in result.output


def test_search_on_an_empty_archive(fonds: Fonds) -> None:
    result = fonds("search", "santé", "--mode", "keyword")
    assert result.exit_code == 0
    assert result.output.startswith("0 documents")
    assert json.loads(fonds("search", "santé", "--json").output)["total"] == 0


def test_ingest_on_an_empty_archive(fonds: Fonds) -> None:
    result = fonds("ingest")
    assert result.exit_code == 0 and "Rien à indexer" in result.output


def test_semantic_search_without_vectors_says_what_to_do(fonds: Fonds, tmp_path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Compte rendu du conseil citoyen de Lodève sur la santé.", "utf-8")
    fonds("import", str(note))
    from click.testing import CliRunner

    ingested = CliRunner().invoke(cli, ["--data-dir", str(fonds.data_dir), "ingest"],
                                  env={"FONDS_EMBEDDER": "none", "FONDS_OCR": "false"})
    assert ingested.exit_code == 0, ingested.output
    assert "recherche par mots seulement" in ingested.output
    assert "Lodève" in fonds("search", "lodeve", "--mode", "keyword").output
    result = fonds("search", "santé", "--mode", "semantic")
    assert result.exit_code == 1
    assert "--mode keyword" in result.output and "Traceback" not in result.output


def test_bench_ingest_needs_a_corpus(fonds: Fonds, tmp_path) -> None:
    result = fonds("bench", "ingest", "--corpus", str(tmp_path / "absent"))
    assert result.exit_code == 1 and "corpus introuvable" in result.output


def test_unknown_source_and_bad_interval(fonds: Fonds) -> None:
    result = fonds("crawl", "--source", "nulle-part")
    assert result.exit_code == 1 and "source inconnue « nulle-part »" in result.output
    result = fonds("schedule", "--every", "souvent")
    assert result.exit_code == 1 and "intervalle invalide" in result.output


def test_ingest_with_a_relative_data_dir(tmp_path) -> None:
    """The extraction worker runs elsewhere: relative paths must not reach it."""
    note = tmp_path / "note.txt"
    note.write_text("Le conseil citoyen de Sète s'est réuni.", "utf-8")
    runner = CliRunner()
    env = {"FONDS_EMBEDDER": "none", "FONDS_OCR": "false"}
    assert runner.invoke(cli, ["--data-dir", "data", "import", str(note)], env=env).exit_code == 0
    result = runner.invoke(cli, ["--data-dir", "data", "ingest"], env=env)
    assert "1 document(s) traité(s)" in result.output, result.output
    assert "0 en échec" in result.output
