"""Every number and date that reaches an engine is bounded or parsed at the records
(SearchRequest, Filters, Passage): generated inputs, the real embedded engine."""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fonds.engines.base import MAX_WINDOW, MAX_YEAR, Filters, Passage, SearchRequest, iso_date
from fonds.engines.embedded import EmbeddedEngine

BIG = st.integers(min_value=0, max_value=10**30)
YEARS = st.one_of(st.none(), st.integers(min_value=-(10**30), max_value=10**30))
DATES = st.one_of(
    st.none(), st.text(max_size=30), st.dates().map(str),
    st.dates().map(lambda d: d.strftime("%Y/%m/%d")), st.dates().map(lambda d: f"{d}T10:00"),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}\Z"), st.from_regex(r"\A\d{1,6}(-\d{1,3}){0,2}\Z"))
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedEngine:
    engine = EmbeddedEngine(Path(tmp_path_factory.mktemp("bounds")) / "index")
    engine.upsert([
        Passage(f"d{i}", f"d{i}:0", 0, 1, f"Rapport {i}", "Les conseils citoyens à Lodève.",
                date=f"{2000 + i}-0{1 + i % 9}-15", departements=("34",))
        for i in range(12)])
    return engine


@SETTINGS
@given(offset=BIG, limit=st.integers(min_value=0, max_value=10**9))
def test_any_page_is_answered_and_beyond_the_window_empty(engine: EmbeddedEngine, offset: int,
                                                          limit: int) -> None:
    result = engine.search(SearchRequest("conseils ", offset=offset, limit=limit))
    assert result.total == 12
    start = min(offset, MAX_WINDOW)
    assert len(result.hits) == max(0, min(start + min(limit, MAX_WINDOW), MAX_WINDOW, 12)
                                   - min(start, 12))


@SETTINGS
@given(year_from=YEARS, year_to=YEARS)
def test_any_year_range_is_answered(engine: EmbeddedEngine, year_from: int | None,
                                    year_to: int | None) -> None:
    filters = Filters(year_from=year_from, year_to=year_to)
    result = engine.search(SearchRequest("", filters=filters, limit=20))
    expected = [y for y in range(2000, 2012)
                if (year_from is None or y >= year_from) and (year_to is None or y <= year_to)]
    assert result.total == len(expected)
    assert sorted(int(h.date[:4]) for h in result.hits if h.date) == expected


@given(value=DATES)
def test_a_passage_date_is_iso_or_none(value: str | None) -> None:
    date = Passage("d", "d:0", 0, 1, "t", "x", date=value).date
    if date is not None:
        parts = [int(p) for p in date.split("-")]
        datetime.date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))  # a real day
        assert 1 <= parts[0] <= 9999


@SETTINGS
@given(dates=st.lists(DATES, min_size=1, max_size=5))
def test_documents_with_any_date_are_all_indexed(tmp_path: Path, dates: list[str | None]
                                                 ) -> None:
    engine = EmbeddedEngine(tmp_path / f"index-{abs(hash(tuple(map(str, dates))))}")
    engine.upsert([Passage(f"d{i}", f"d{i}:0", 0, 1, "t", "texte commun", date=d)
                   for i, d in enumerate(dates)])
    assert engine.search(SearchRequest("commun ")).total == len(dates)
    engine.close()


def test_dates_from_pages_and_records() -> None:
    assert iso_date("2020/05/12") is None  # issue 15: crashed every ingest
    assert iso_date("2020-05-12T08:30:00+02:00") == "2020-05-12"
    assert iso_date("2021-02") == "2021-02" and iso_date("2021") == "2021"
    assert iso_date("2021-02-30") is None and iso_date("2021-13") is None
    assert iso_date(datetime.date(2021, 2, 8)) == "2021-02-08"
    assert iso_date("0000") is None and iso_date(20210208) is None


@pytest.mark.parametrize("bad", [{"offset": -1}, {"limit": -5}, {"semantic_ratio": math.nan},
                                 {"semantic_ratio": 1.5}, {"passages_per_doc": -1}])
def test_impossible_requests_are_refused_with_a_reason(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="doit"):
        SearchRequest("x", **bad)  # type: ignore[arg-type]


def test_huge_years_are_clamped_not_passed_on() -> None:
    assert Filters(year_from=99999999999999999999).year_from == MAX_YEAR
    assert Filters(year_to=-(10**40)).year_to == 0
    with pytest.raises(ValueError, match="année"):
        Filters(year_from=True)
