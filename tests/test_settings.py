from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fonds.errors import SettingsError
from fonds.settings import SETTINGS, load_settings
from tests.conftest import ROOT


def test_defaults() -> None:
    settings = load_settings(env={})
    assert settings.data_dir == Path("data")
    assert settings.engine == "embedded"
    assert settings.catalog_path == Path("data/catalog.sqlite")


def test_order_defaults_toml_env_flags(tmp_path: Path) -> None:
    (tmp_path / "fonds.toml").write_text('data_dir = "from-toml"\nmax_file_mb = 5\n')
    settings = load_settings(env={})
    assert settings.data_dir == Path("from-toml") and settings.max_file_mb == 5

    env = {"FONDS_DATA_DIR": "from-env"}
    assert load_settings(env=env).data_dir == Path("from-env")
    assert load_settings({"data_dir": "from-flag"}, env=env).data_dir == Path("from-flag")
    # A flag left unset (None) does not hide the environment.
    assert load_settings({"data_dir": None}, env=env).data_dir == Path("from-env")


def test_config_file_named_by_env(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('engine = "meilisearch"\n')
    assert load_settings(env={"FONDS_CONFIG": str(config)}).engine == "meilisearch"
    with pytest.raises(SettingsError, match="introuvable"):
        load_settings(env={"FONDS_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('colour = "blue"\n', "réglage inconnu « colour »"),
        ('max_file_mb = "big"\n', "max_file_mb"),
        ("max_file_mb = true\n", "max_file_mb"),
        ('engine = "elastic"\n', "embedded, meilisearch"),
        ("data_dir = [1]\n", "data_dir"),
        ("data_dir = \n", "TOML invalide"),
    ],
)
def test_bad_toml_stops_with_a_clear_message(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "fonds.toml").write_text(toml)
    with pytest.raises(SettingsError, match=message):
        load_settings(env={})


def test_bad_environment() -> None:
    with pytest.raises(SettingsError, match="FONDS_COLOUR"):
        load_settings(env={"FONDS_COLOUR": "blue"})
    with pytest.raises(SettingsError, match="FONDS_MAX_FILE_MB"):
        load_settings(env={"FONDS_MAX_FILE_MB": "12 Mo"})
    assert load_settings(env={"FONDS_MAX_FILE_MB": " 12 "}).max_file_mb == 12


def test_unknown_flag_is_an_error() -> None:
    with pytest.raises(SettingsError):
        load_settings({"colour": "blue"}, env={})


def test_keys_are_redacted() -> None:
    shown = load_settings(env={"FONDS_MEILI_KEY": "s3cret"}).redacted()
    assert shown["meili_key"] == "***"
    assert "s3cret" not in repr(shown)


def test_every_setting_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.name}`" in readme, setting.name
        assert f"`{setting.env}`" in readme, setting.env
        assert setting.help


# -- bounds (issue 15 §16): a setting out of range stops start-up with one French line --

@pytest.mark.parametrize(("variable", "value"), [
    ("FONDS_GONE_AFTER_RUNS", "0"),  # would retire everything just seen
    ("FONDS_EMBED_BATCH_SIZE", "0"),
    ("FONDS_EMBED_BATCH_SIZE", "-3"),
    ("FONDS_CRAWL_DELAY_S", "inf"),  # a crawl that never ends
    ("FONDS_CRAWL_DELAY_S", "nan"),
    ("FONDS_CRAWL_TIMEOUT_S", "-1"),
    ("FONDS_MAX_FILE_MB", "0"),
    ("FONDS_DATA_DIR", ""),
    ("FONDS_DATA_DIR", "   "),
])
def test_out_of_bounds_settings_are_refused(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(env={variable: value})


def test_a_fonds_toml_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "fonds.toml").write_bytes('data_dir = "Hérault"\n'.encode("latin-1"))
    with pytest.raises(SettingsError, match="UTF-8"):
        load_settings(env={})


@given(st.sampled_from([s for s in SETTINGS if s.kind in (int, float)]),
       st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True)))
def test_any_number_is_accepted_within_bounds_or_refused_with_a_reason(setting, value) -> None:
    text = repr(value) if isinstance(value, float) else str(value)
    try:
        settings = load_settings(env={setting.env: text})
    except SettingsError as exc:
        assert setting.env in str(exc)
        return
    got = getattr(settings, setting.name)
    assert setting.low <= got <= setting.high
