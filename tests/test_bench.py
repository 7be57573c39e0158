"""`fonds bench search --json` on a tiny synthetic archive: the shape of the report and what
its numbers mean (ratios are fonds p95 / peer p95, recall is a share). Never a time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fonds.app import bench
from fonds.app.bench_peers import recall_at_k
from fonds.app.cli import cli

LATENCY_KEYS = {"p50", "p95", "p99"}


@pytest.mark.slow
def test_bench_search_json_has_peers_ratios_and_ann(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the bench caches its archive under ./benchmarks/cache
    result = CliRunner().invoke(cli, ["bench", "search", "--passages", "400", "--no-model",
                                      "--json", "--save", str(tmp_path / "out.json")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert report["passages"] == 400 and report["documents"] == 400 // bench.PASSAGES_PER_DOC
    fonds = report["latency_ms"]
    # the embedded engine is also timed with no word's documents kept from an earlier query
    assert set(fonds) >= {"keyword", "hybrid", "semantic", "keyword_uncached",
                          "hybrid_uncached"}
    assert all(set(p) == LATENCY_KEYS for p in fonds.values())
    # peak memory of the build and of the search, each its own (Linux resets the peak)
    assert report["build_peak_rss_mb"] > 0 and report["peak_rss_mb"] > 0

    peers = report["peers"]
    for name in ("tantivy_raw", "fts5", "numpy_exact"):
        assert name in peers
    for name, reason in report["skipped"].items():
        assert name not in peers and "installé" in reason  # a missing library, said so
    for name, modes in peers.items():
        assert modes and set(modes) <= {"keyword", "hybrid", "semantic"}, name
        for mode, p in modes.items():
            assert set(p) == LATENCY_KEYS
            assert report["ratios"][name][mode] == pytest.approx(
                fonds[mode]["p95"] / p["p95"], abs=0.01)
    assert set(peers["tantivy_raw"]) == {"keyword"}
    assert set(peers["numpy_exact"]) == {"semantic"}

    ann = report["ann"]
    assert 0.98 <= ann["recall@10"] <= 1.0  # 400 vectors: every list is read
    assert ann["engine_uses_ann"] is False and report["engine_uses_ann"] is False  # below
    assert ann["min_rows"] > 400


def test_recall_counts_the_exact_neighbours_found() -> None:
    exact = [np.arange(10), np.arange(10, 20)]
    assert recall_at_k([np.arange(10), np.arange(10, 20)], exact) == 1.0
    assert recall_at_k([np.arange(5, 15), np.array([], dtype=int)], exact) == 0.25


def test_synthetic_vectors_have_neighbours() -> None:
    """Passages of one document are closer to each other than to other documents' (random
    vectors would make any ANN look bad and any exact search look pointless)."""
    matrix = bench._slice_vectors(0, 200)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    same = matrix[:20] @ matrix[:20].T
    other = matrix[:20] @ matrix[20:].T
    assert same[~np.eye(20, dtype=bool)].min() > other.max()
    # Slices agree with the whole: an archive of any size is the same archive.
    assert np.array_equal(bench._slice_vectors(37, 50), matrix[37:87])
