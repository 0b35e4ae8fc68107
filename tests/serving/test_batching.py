"""Dynamic batching: batch sizes, timing, failures, cancellation, draining and stats.

Each test runs its own event loop (``asyncio.run``) under a generous overall timeout, so a hang fails
instead of blocking the suite. Slow batches are simulated by a scoring function gated by a
``threading.Event``, never by tight timing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from adrank_pipelines.serving.batching import BatchResultCountError, DynamicBatcher
from adrank_pipelines.serving.batching_params import BatchingParams

TEST_TIMEOUT_S = 10.0


def run(make_coroutine: Callable[[], Awaitable[Any]]) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(make_coroutine(), TEST_TIMEOUT_S)

    return asyncio.run(bounded())


class Recorder:
    """A scoring function (item * 2) that records every batch it saw, optionally gated."""

    def __init__(self, *, gate_first: bool = False, fail_on: object = None) -> None:
        self.batches: list[list[Any]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        if not gate_first:
            self.release.set()
        self.fail_on = fail_on

    def __call__(self, items: Sequence[Any]) -> list[Any]:
        self.batches.append(list(items))
        self.started.set()
        assert self.release.wait(TEST_TIMEOUT_S)
        if self.fail_on is not None and self.fail_on in items:
            raise ValueError(f"cannot score {self.fail_on}")
        return [item * 2 for item in items]

    async def wait_started(self) -> None:
        assert await asyncio.to_thread(self.started.wait, TEST_TIMEOUT_S)


def test_the_params_defaults_and_validation():
    params = BatchingParams()
    assert params.max_batch_size == 32
    assert params.max_wait_ms == 2.0
    with pytest.raises(ValidationError, match="max_wait_sm"):
        BatchingParams.model_validate({"max_wait_sm": 1})
    with pytest.raises(ValidationError, match="max_batch_size"):
        BatchingParams(max_batch_size=0)
    with pytest.raises(ValidationError, match="max_wait_ms"):
        BatchingParams(max_wait_ms=-1)
    with pytest.raises(ValidationError):
        params.max_batch_size = 3  # type: ignore[misc]


def test_concurrent_submits_are_batched_and_each_caller_gets_its_own_result():
    score = Recorder()

    async def scenario() -> tuple[list[int], DynamicBatcher[int, int]]:
        async with DynamicBatcher(score, BatchingParams(max_batch_size=4, max_wait_ms=50)) as batcher:
            results = await asyncio.gather(*(batcher.submit(i) for i in range(10)))
        return results, batcher

    results, batcher = run(scenario)
    assert results == [i * 2 for i in range(10)]
    sizes = [len(batch) for batch in score.batches]
    assert sum(sizes) == 10
    assert max(sizes) <= 4
    assert len(sizes) >= 3
    assert sorted(item for batch in score.batches for item in batch) == list(range(10))
    # Items keep their submission order within and across batches.
    assert [item for batch in score.batches for item in batch] == list(range(10))

    stats = batcher.stats
    assert stats.batches == len(sizes)
    assert stats.items == 10
    assert stats.failed_batches == 0
    assert stats.cancelled_items == 0
    assert list(stats.recent_sizes) == sizes
    assert len(stats.recent_wait_seconds) == len(stats.recent_run_seconds) == len(sizes)
    assert all(seconds >= 0 for seconds in [*stats.recent_wait_seconds, *stats.recent_run_seconds])
    assert stats.wait_seconds_total == pytest.approx(sum(stats.recent_wait_seconds))
    assert stats.run_seconds_total == pytest.approx(sum(stats.recent_run_seconds))


def test_the_recent_sizes_are_bounded_by_the_window():
    async def scenario() -> DynamicBatcher[int, int]:
        async with DynamicBatcher(Recorder(), BatchingParams(max_batch_size=1), stats_window=2) as batcher:
            for i in range(3):
                await batcher.submit(i)
        return batcher

    stats = run(scenario).stats
    assert stats.batches == 3
    assert list(stats.recent_sizes) == [1, 1]


def test_a_lone_request_is_scored_after_about_max_wait():
    async def scenario() -> tuple[int, float]:
        async with DynamicBatcher(Recorder(), BatchingParams(max_batch_size=32, max_wait_ms=20)) as batcher:
            started = time.monotonic()
            result = await batcher.submit(21)
            return result, time.monotonic() - started

    result, elapsed = run(scenario)
    assert result == 42
    # It waited for company (a lower bound only gets safer on a loaded machine), but not forever.
    assert 0.01 <= elapsed < 1.0


def test_max_wait_zero_scores_what_is_queued_without_waiting():
    score = Recorder()

    async def scenario() -> tuple[int, list[int]]:
        async with DynamicBatcher(score, BatchingParams(max_batch_size=4, max_wait_ms=0)) as batcher:
            lone = await batcher.submit(1)
            together = await asyncio.gather(*(batcher.submit(i) for i in range(6)))
        return lone, together

    lone, together = run(scenario)
    assert lone == 2
    assert together == [i * 2 for i in range(6)]
    assert all(len(batch) <= 4 for batch in score.batches)
    assert sum(len(batch) for batch in score.batches) == 7


def test_a_failing_batch_fails_only_its_callers_and_the_next_batch_succeeds():
    score = Recorder(fail_on=2)

    async def scenario() -> tuple[list[Any], int, DynamicBatcher[int, int]]:
        async with DynamicBatcher(score, BatchingParams(max_batch_size=2, max_wait_ms=50)) as batcher:
            failed = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
            later = await batcher.submit(3)
        return failed, later, batcher

    failed, later, batcher = run(scenario)
    assert score.batches[0] == [1, 2]
    assert all(isinstance(outcome, ValueError) and "cannot score 2" in str(outcome) for outcome in failed)
    assert later == 6
    assert batcher.stats.failed_batches == 1
    assert batcher.stats.batches == 2


def test_a_wrong_result_count_fails_the_batch_naming_both_counts():
    async def scenario() -> list[Any]:
        batcher: DynamicBatcher[int, int]
        async with DynamicBatcher(lambda items: list(items)[:-1], BatchingParams(max_batch_size=3)) as batcher:
            return await asyncio.gather(*(batcher.submit(i) for i in range(3)), return_exceptions=True)

    outcomes = run(scenario)
    assert len(outcomes) == 3
    for outcome in outcomes:
        assert isinstance(outcome, BatchResultCountError)
        assert "2 results for a batch of 3 items" in str(outcome)


def test_a_caller_cancelled_before_its_batch_runs_is_not_scored():
    score = Recorder(gate_first=True)

    async def scenario() -> tuple[int, int, bool, DynamicBatcher[int, int]]:
        async with DynamicBatcher(score, BatchingParams(max_batch_size=4, max_wait_ms=0)) as batcher:
            first = asyncio.create_task(batcher.submit(1))
            await score.wait_started()  # batch [1] is running, blocked on the gate
            cancelled = asyncio.create_task(batcher.submit(2))
            kept = asyncio.create_task(batcher.submit(3))
            await asyncio.sleep(0)  # both are queued behind the running batch
            cancelled.cancel()
            score.release.set()
            first_result, kept_result = await first, await kept
            with pytest.raises(asyncio.CancelledError):
                await cancelled
        return first_result, kept_result, cancelled.cancelled(), batcher

    first_result, kept_result, was_cancelled, batcher = run(scenario)
    assert (first_result, kept_result, was_cancelled) == (2, 6, True)
    assert score.batches == [[1], [3]]
    assert batcher.stats.items == 2
    assert batcher.stats.cancelled_items == 1


def test_a_caller_cancelled_while_its_batch_runs_does_not_break_the_others():
    score = Recorder(gate_first=True)

    async def scenario() -> tuple[int, int]:
        async with DynamicBatcher(score, BatchingParams(max_batch_size=2, max_wait_ms=50)) as batcher:
            gone = asyncio.create_task(batcher.submit(1))
            stays = asyncio.create_task(batcher.submit(2))
            await score.wait_started()  # batch [1, 2] is running
            gone.cancel()
            score.release.set()
            stays_result = await stays
            with pytest.raises(asyncio.CancelledError):
                await gone
            later = await batcher.submit(5)
        return stays_result, later

    assert run(scenario) == (4, 10)
    assert score.batches == [[1, 2], [5]]


def test_stop_drains_the_submitted_items_and_refuses_new_ones():
    score = Recorder(gate_first=True)

    async def scenario() -> list[int]:
        batcher = DynamicBatcher(score, BatchingParams(max_batch_size=2, max_wait_ms=1000))
        batcher.start()
        tasks = [asyncio.create_task(batcher.submit(i)) for i in range(5)]
        await score.wait_started()  # [0, 1] is running; 2, 3, 4 are queued
        stopping = asyncio.create_task(batcher.stop())
        await asyncio.sleep(0)
        assert not stopping.done()
        assert not batcher.running
        with pytest.raises(RuntimeError, match="no items are accepted after stop"):
            await batcher.submit(99)
        score.release.set()
        await stopping
        # Everything submitted before stop was scored by the time stop returned.
        assert all(task.done() for task in tasks)
        with pytest.raises(RuntimeError, match="stopped"):
            await batcher.submit(100)
        return [task.result() for task in tasks]

    assert run(scenario) == [i * 2 for i in range(5)]
    assert sorted(item for batch in score.batches for item in batch) == list(range(5))


def test_submit_before_start_and_a_second_start_raise():
    async def scenario() -> None:
        batcher: DynamicBatcher[int, int] = DynamicBatcher(Recorder())
        with pytest.raises(RuntimeError, match="not started"):
            await batcher.submit(1)
        batcher.start()
        with pytest.raises(RuntimeError, match="only once"):
            batcher.start()
        await batcher.stop()
        await batcher.stop()  # idempotent

    run(scenario)
