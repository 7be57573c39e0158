"""Départements (INSEE codes, names, regions) and themes, from index_config/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from fonds.french import fold
from index_config import DIR as CONFIG_DIR


@dataclass(frozen=True)
class Departement:
    code: str  # INSEE: "34", "2A", "974"
    name: str
    region: str
    prefecture: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


def _key(text: str) -> str:
    return " ".join(fold(text).replace("-", " ").replace("'", " ").split())


@cache
def departements() -> dict[str, Departement]:
    rows = json.loads((CONFIG_DIR / "departements.json").read_text(encoding="utf-8"))
    return {row[0]: Departement(*row) for row in rows}


@cache
def _by_name() -> dict[str, str]:
    return {_key(d.name): d.code for d in departements().values()}


def departement_code(value: str) -> str | None:
    """« 34 », « 034 », « Hérault », « herault », « pyrenees orientales » → INSEE code."""
    text = value.strip()
    upper = text.upper()
    if upper in departements():
        return upper
    if upper.isdigit() and upper.lstrip("0") in departements():
        return upper.lstrip("0")
    if upper.isdigit() and len(upper) == 1 and "0" + upper in departements():
        return "0" + upper
    return _by_name().get(_key(text))


def departement_label(code: str) -> str:
    dep = departements().get(code)
    return dep.label if dep else code
