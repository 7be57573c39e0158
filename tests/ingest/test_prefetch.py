"""Extraction runs ahead of the embedding (issue 17 §3): in order, bounded, and a stop or a
failure loses nothing that was recorded."""

from __future__ import annotations

import threading

import pytest

from ingest.worker import ExtractionWorker, Prefetch

WAIT_S = 60  # a bound for a hung thread, never a measurement


def test_results_come_in_order_with_a_bounded_lead() -> None:
    started: list[int] = []
    taken = 0
    ahead_reached = threading.Event()

    def run(job: int) -> int:
        started.append(job)
        if len(started) == 3:
            ahead_reached.set()
        return job * job

    with Prefetch(range(50), run, ahead=2) as results:
        out = []
        for job, result, seconds in results:
            if not out:  # the thread works while the consumer holds the first result
                assert ahead_reached.wait(WAIT_S)
            assert len(started) <= taken + 1 + 2 + 1  # the one taken, 2 queued, 1 running
            out.append((job, result))
            taken += 1
            assert seconds >= 0
    assert out == [(j, j * j) for j in range(50)]


def test_a_failure_arrives_at_its_place_and_stops_what_follows() -> None:
    ran: list[int] = []

    def run(job: int) -> int:
        ran.append(job)
        if job == 4:
            raise LookupError("job 4")
        return job

    got = []
    with Prefetch(range(10), run, ahead=3) as results, pytest.raises(LookupError, match="4"):
        for job, _, _ in results:
            got.append(job)
    assert got == [0, 1, 2, 3]
    assert ran == [0, 1, 2, 3, 4]


def test_close_midway_stops_the_thread_and_calls_on_stop() -> None:
    release = threading.Event()
    stopped = threading.Event()
    ran: list[int] = []

    def run(job: int) -> int:
        ran.append(job)
        if job == 1:
            assert release.wait(WAIT_S)  # a long extraction, until on_stop ends it
        return job

    def on_stop() -> None:
        stopped.set()
        release.set()

    prefetch = Prefetch(range(100), run, ahead=4, on_stop=on_stop)
    first = next(iter(prefetch))
    assert first[0] == 0
    prefetch.close()
    assert stopped.is_set()
    assert ran == [0, 1]  # nothing started after the stop


def test_ahead_zero_runs_in_turn_without_a_thread() -> None:
    ran: list[int] = []
    prefetch = Prefetch(range(3), lambda j: ran.append(j) or j, ahead=0)
    iterator = iter(prefetch)
    assert ran == []  # nothing runs before it is asked for
    assert next(iterator)[0] == 0 and ran == [0]
    assert [j for j, _, _ in iterator] == [1, 2]
    prefetch.close()


def test_a_closed_worker_starts_no_new_reader(tmp_path) -> None:
    from ingest.extract import ExtractionError

    worker = ExtractionWorker()
    worker.stop()
    with pytest.raises(ExtractionError, match="arrêtée"):
        worker.extract(tmp_path / "a.pdf", "application/pdf")
    assert worker._process is None
    worker.close()
