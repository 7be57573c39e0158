"""The README's tables of commands and settings, generated from the code that defines them.

`python -m fonds.app.docs` rewrites the tables between their markers in README.md; a test
(tests/test_docs.py) fails when the README is not current, so a new option or setting
cannot land undocumented.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fonds.app.cli import cli
from fonds.settings import SETTINGS, Setting

README = Path(__file__).resolve().parents[2] / "README.md"
MARKERS = {"commands": ("<!-- commands:start -->", "<!-- commands:end -->"),
           "settings": ("<!-- settings:start -->", "<!-- settings:end -->")}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(setting: Setting) -> str:
    value = setting.default
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value == "":
        return "*(empty)*"
    return f"`{value}`"


def settings_table() -> str:
    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        bounds = ""
        if s.low is not None:
            bounds = f" ({s.low:g} to {s.high:g})"
        rows.append(f"| `{s.name}` | `{s.env}` | {_default(s)} | {_cell(s.help)}{bounds} |")
    return "\n".join(rows)


def _usage(name: str, command: click.Command) -> str:
    parts = [f"fonds {name}"]
    for param in command.params:
        if isinstance(param, click.Argument):
            parts.append(param.human_readable_name + ("..." if param.nargs == -1 else ""))
        elif isinstance(param, click.Option) and not param.hidden and param.name != "help":
            flag = max(param.opts, key=len)
            text = flag if param.is_flag else f"{flag} {param.metavar or param.name.upper()}"
            parts.append(text if param.required else f"[{text}]")
    return " ".join(parts)


def commands_table() -> str:
    rows = ["| command | what it does |", "|---|---|"]
    for name, command in sorted(cli.commands.items()):
        summary = (command.help or "").strip().split("\n\n")[0]
        rows.append(f"| `{_usage(name, command)}` | {_cell(summary)} |")
    return "\n".join(rows)


TABLES = {"commands": commands_table, "settings": settings_table}


def render(readme: str) -> str:
    """The README with every generated table replaced by its current text."""
    for name, (start, end) in MARKERS.items():
        head, found, rest = readme.partition(start)
        if not found:
            raise ValueError(f"README.md has no {start} marker")
        _, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"README.md has no {end} marker")
        readme = f"{head}{start}\n{TABLES[name]()}\n{end}{tail}"
    return readme


def main() -> int:
    text = README.read_text(encoding="utf-8")
    fresh = render(text)
    if "--check" in sys.argv[1:]:
        return 0 if fresh == text else 1
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
