"""Values from outside parsed at the edge (fonds/values.py): a date is ISO or None, a text
is one clean bounded line (issue 15 §6, §12)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fonds.values import clean_labels, clean_text, parse_date


@pytest.mark.parametrize(("value", "iso"), [
    ("2020-05-12", "2020-05-12"), ("2020/05/12", "2020-05-12"), ("12/05/2020", "2020-05-12"),
    ("12 mai 2020", "2020-05-12"), ("1er février 2021", "2021-02-01"),
    ("vendredi 5 février 2021", "2021-02-05"), ("mai 2020", "2020-05-01"), ("2019", "2019-01-01"),
    ("2021-02-08T10:00:00+01:00", "2021-02-08"), (2019, "2019-01-01"),
    ("n'importe quoi", None), ("99999-01-01", None), ("2020-13-45", None), ("1e20", None),
    ("", None), (None, None), (True, None), ([2020], None), ("<iframe srcdoc=x>", None),
    ("0000-00-00", None), ("12 brumaire 2020", None)])
def test_dates(value: object, iso: str | None) -> None:
    assert parse_date(value) == iso


@given(st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.none(), st.booleans()))
def test_any_date_is_iso_or_none(value: object) -> None:
    found = parse_date(value)
    assert found is None or (date.fromisoformat(found).isoformat() == found
                             and 1800 <= int(found[:4]) <= date.today().year + 1)


@given(st.text(max_size=2000), st.integers(min_value=1, max_value=300))
def test_any_text_is_one_clean_bounded_line(value: str, limit: int) -> None:
    found = clean_text(value, limit)
    if found is not None:
        assert len(found) <= limit + 1 and found == found.strip()
        assert not any(ord(ch) < 32 or 0x7f <= ord(ch) < 0xa0 for ch in found)
        assert "\u202e" not in found and "\u200b" not in found


def test_labels() -> None:
    assert clean_labels(["santé", "santé", "\x1bjeunesse", 34, {"x": 1}, None, ""]) == (
        "santé", "jeunesse", "34")
    assert clean_labels("santé") == ("santé",)
    assert clean_labels({"a": 1}) == ()
