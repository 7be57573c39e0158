"""Every command, option and setting is documented: the README's tables are generated from
the code (python -m fonds.app.docs) and must be current."""

from __future__ import annotations

from fonds.app.cli import cli
from fonds.app.docs import README, render
from fonds.settings import SETTINGS


def test_readme_tables_are_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert render(text) == text, "run: python -m fonds.app.docs"


def test_every_setting_has_help_and_every_command_an_example() -> None:
    assert all(s.help.strip() for s in SETTINGS)
    for name, command in cli.commands.items():
        assert "Example: fonds" in (command.help or ""), name
