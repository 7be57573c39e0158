"""Every number and value a user can give the CLI is bounded or refused in one line (issue
15 §7, §12, §16), and no command empties the index by surprise (§5).

Generated inputs (hypothesis) run the real CLI in-process against a small real archive.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fonds.app.cli import cli
from tests.pdfs import text_pdf

HOSTILE_TITLE = "Guide \x1b]0;pwned\x07des \x1b[2Jconseils\x9b31m citoyens\u202e"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edges")
    for n in range(3):
        (root / f"doc{n}.pdf").write_bytes(text_pdf([
            f"Rapport {n} sur les conseils citoyens\nLes conseils citoyens du quartier {n}."]))
    (root / "records.jsonl").write_text(json.dumps(
        {"_id": "x", "title": HOSTILE_TITLE, "text": "Les conseils citoyens et l'escape."}
    ) + "\n", encoding="utf-8")
    data = root / "data"
    runner = CliRunner()
    env = {"FONDS_EMBEDDER": "none", "FONDS_OCR": "false"}
    for args in (["import", str(root)], ["ingest"]):
        result = runner.invoke(cli, ["--data-dir", str(data), *args], env=env)
        assert result.exit_code == 0, result.output
    return data


def fonds(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args],
                                env={"FONDS_EMBEDDER": "none"})
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


numbers = st.one_of(st.integers(), st.integers(min_value=10**15), st.floats().map(repr),
                    st.text(string.digits + "e.-+", min_size=1, max_size=25))
quick = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@quick
@given(option=st.sampled_from(["--page", "--limit", "--year-from", "--year-to",
                               "--semantic-ratio"]), value=numbers)
def test_any_number_in_a_search_option_is_answered_or_refused_in_one_line(
        data_dir: Path, option: str, value: object) -> None:
    code, out, err = fonds(data_dir, "search", "conseils", "--mode", "keyword", "--json",
                           option, str(value))
    if code == 0:
        answer = json.loads(out)  # valid JSON: no NaN, no Infinity
        assert answer["total"] >= len(answer["hits"])
    else:
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1 and err.startswith("fonds : "), err


def _not_a_port(value: object) -> bool:
    try:
        return not 1 <= int(str(value)) <= 65535
    except ValueError:
        return True


@quick
@given(option=st.sampled_from([("demo", "--no-ui", "--site-port"), ("demo", "--port"),
                               ("serve", "--port")]),
       value=numbers.filter(_not_a_port))
def test_a_port_out_of_range_is_refused_before_anything_runs(
        data_dir: Path, option: tuple[str, ...], value: object) -> None:
    code, _, err = fonds(data_dir, *option, str(value))
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_a_page_past_every_result_is_empty_not_a_crash(data_dir: Path) -> None:
    code, out, _ = fonds(data_dir, "search", "conseils", "--mode", "keyword", "--json",
                         "--page", "1000", "--limit", "100")
    answer = json.loads(out)
    assert code == 0 and answer["hits"] == [] and answer["total"] == 4


def test_no_control_character_reaches_the_terminal(data_dir: Path) -> None:
    for args in (["search", "escape", "--mode", "keyword"],
                 ["search", "escape", "--mode", "keyword", "--json"], ["status"]):
        code, out, err = fonds(data_dir, *args)
        assert code == 0, err
        assert not any(c in out for c in "\x1b\x07\x9b\u202e"), repr(out)
    assert "citoyens" in fonds(data_dir, "search", "escape", "--mode", "keyword")[1]


def test_reindex_refuses_to_empty_the_index_without_force(tmp_path: Path,
                                                          data_dir: Path) -> None:
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    before = json.loads(fonds(copy, "search", "conseils", "--mode", "keyword", "--json")[1])
    (copy / "catalog.sqlite").unlink()  # a lost catalog
    for name in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (copy / name).unlink(missing_ok=True)
    code, _, err = fonds(copy, "reindex")
    assert code == 1 and "--force" in err and len(err.strip().splitlines()) == 1, err
    after = json.loads(fonds(copy, "search", "conseils", "--mode", "keyword", "--json")[1])
    assert after["total"] == before["total"] > 0  # the live index was left alone
    code, _, err = fonds(copy, "reindex", "--force")
    assert code == 0, err
    gone = json.loads(fonds(copy, "search", "conseils", "--mode", "keyword", "--json")[1])
    assert gone["total"] == 0  # forced: the index now says what the (empty) catalog says


@given(st.text(max_size=30))
def test_any_schedule_interval_is_a_bounded_delay_or_a_clear_refusal(text: str) -> None:
    from fonds.app.update import MAX_EVERY_S, parse_every
    from fonds.errors import FondsError

    try:
        seconds = parse_every(text)
    except FondsError as exc:
        assert "intervalle" in str(exc)
        return
    assert 1 <= seconds <= MAX_EVERY_S
