"""The similarity floor: when a semantic candidate counts as a match.

Nearest-neighbour search always has neighbours; without a floor, meaning adds every document
to every answer. A passage matches a query when its cosine similarity is at least `absolute`
and within `relative` of the best passage's. A query whose words some document has, all of
them, is in the archive's domain: meaning then needs only `in_domain` (e5 scores a query's
neighbours around a baseline of its own; without the words, meaning alone must be strong
evidence). The
numbers depend on the embedder (e5 scores
are compressed into a narrow band), so they are calibrated per model on ../shared/eval
(benchmarks/calibrate_floor.py prints the distributions) and recorded in the index meta
beside the embedder, where both engines read them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

META_KEY = "similarity_floor"


@dataclass(frozen=True)
class SimilarityFloor:
    absolute: float  # cosine below which nothing is a match
    relative: float  # how far below the best passage a match may be (cosine points)
    in_domain: float | None = None  # the absolute floor when a document has every word

    def threshold(self, best: float, words_found: bool = False) -> float:
        floor = self.absolute
        if words_found and self.in_domain is not None:
            floor = self.in_domain
        return max(floor, best - self.relative)

    def as_json(self) -> dict[str, float]:
        out = {"absolute": self.absolute, "relative": self.relative}
        return out | ({"in_domain": self.in_domain} if self.in_domain is not None else {})

    @classmethod
    def from_json(cls, data: object) -> SimilarityFloor | None:
        """A recorded floor, or None for anything that is not one (a damaged meta)."""
        if not isinstance(data, Mapping):
            return None
        values = [data.get("absolute"), data.get("relative")]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in values):
            return None
        absolute, relative = (float(v) for v in values)  # type: ignore[arg-type]
        in_domain = data.get("in_domain")
        if not (isinstance(in_domain, int | float) and not isinstance(in_domain, bool)
                and math.isfinite(in_domain)):
            in_domain = None
        return cls(absolute, max(relative, 0.0), None if in_domain is None else float(in_domain))


# Calibrated per model (cosines of unit vectors, « query: »/« passage: » prefixes for e5):
# see benchmarks/no-answer/README.md, "Similarity floor", for the distributions.
CALIBRATED: dict[str, SimilarityFloor] = {
    # e5 is compressed: on PIAF the relevant passage scores 0.78-0.91 (median 0.85) and the
    # best passage for an out-of-domain question 0.80-0.85 (« xylophone quantique » 0.83 on
    # the conformance corpus). The floor sits above most no-answer bests; what it drops
    # from meaning alone, hybrid still ranks when words match.
    "intfloat/multilingual-e5-small": SimilarityFloor(absolute=0.835, relative=0.06,
                                                      in_domain=0.82),
}
# An embedder nobody calibrated: only the relative cut (a wide one), no absolute floor.
UNCALIBRATED = SimilarityFloor(absolute=-1.0, relative=0.3)


def calibrated(embedder: Mapping[str, Any] | None) -> SimilarityFloor:
    """The floor for an embedder record ({backend, model, dim}) from the table."""
    model = str((embedder or {}).get("model", ""))
    for key, floor in CALIBRATED.items():
        if model == key or model.endswith("/" + key.rsplit("/", 1)[-1]) or key.endswith(
                "/" + model):
            return floor
    return UNCALIBRATED


def from_meta(meta: Mapping[str, Any]) -> SimilarityFloor:
    """The floor recorded with an index, else the table's for its embedder."""
    recorded = SimilarityFloor.from_json(meta.get(META_KEY))
    if recorded is not None:
        return recorded
    embedder = meta.get("embedder")
    return calibrated(embedder if isinstance(embedder, Mapping) else None)


def with_floor(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Meta to record: an embedder record brings its calibrated floor, unless one is given."""
    out = dict(meta)
    embedder = out.get("embedder")
    if isinstance(embedder, Mapping) and META_KEY not in out:
        out[META_KEY] = calibrated(embedder).as_json()
    return out
