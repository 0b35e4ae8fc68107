"""Dynamic batching: requests that arrive close together are scored by one call of the model.

A forward pass over 32 requests' candidates costs little more than over one, so the service queues
requests and scores them in batches, the way GPU inference servers do. One background worker takes
the first waiting request, keeps collecting until ``max_batch_size`` requests or ``max_wait_ms``
since that first one (``BatchingParams``), then runs the synchronous scoring function in a thread of
its own, so that the event loop keeps accepting requests while a batch is scored.

    async with DynamicBatcher(score_batch, BatchingParams(max_batch_size=16)) as batcher:
        score = await batcher.submit(request)

``BatchStats`` records each batch's size and the seconds it waited and ran, for the service to
export (Prometheus) without this module depending on a metrics library.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Generic, Literal, Self, TypeVar

from adrank_pipelines.serving.batching_params import BatchingParams

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

_State = Literal["new", "running", "stopping", "stopped"]


class BatchResultCountError(ValueError):
    """The scoring function returned a different number of results than the batch had items."""


@dataclass
class BatchStats:
    """Counters over every batch scored, and the most recent ``window`` batches one by one.

    Batches and items count those handed to the scoring function (including batches it failed);
    requests cancelled before their batch ran are counted apart, in ``cancelled_items``. The wait of
    a batch runs from its oldest request's ``submit`` to the start of scoring (queueing behind the
    previous batch included: what a caller experiences); its run time is the scoring call itself.
    Updated on the event loop only: read it from the loop (e.g. a Prometheus collector called there).
    """

    window: int = 1024
    batches: int = 0
    items: int = 0
    failed_batches: int = 0
    cancelled_items: int = 0
    wait_seconds_total: float = 0.0
    run_seconds_total: float = 0.0
    recent_sizes: deque[int] = field(init=False)
    recent_wait_seconds: deque[float] = field(init=False)
    recent_run_seconds: deque[float] = field(init=False)

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"window must be at least 1; got {self.window}")
        # Bounded: a long-running service must not grow a list per batch forever.
        self.recent_sizes = deque(maxlen=self.window)
        self.recent_wait_seconds = deque(maxlen=self.window)
        self.recent_run_seconds = deque(maxlen=self.window)

    def record(self, size: int, waited_s: float, ran_s: float, *, failed: bool = False) -> None:
        """Count one batch handed to the scoring function."""
        self.batches += 1
        self.items += size
        self.failed_batches += int(failed)
        self.wait_seconds_total += waited_s
        self.run_seconds_total += ran_s
        self.recent_sizes.append(size)
        self.recent_wait_seconds.append(waited_s)
        self.recent_run_seconds.append(ran_s)


@dataclass(frozen=True, slots=True)
class _Pending(Generic[ItemT, ResultT]):
    """A submitted item and the future its caller awaits."""

    item: ItemT
    future: asyncio.Future[ResultT]
    submitted_at: float  # the event loop's clock


class _Stop:
    """Queued by ``stop``: everything queued before it is still scored (FIFO), then the worker exits."""


class DynamicBatcher(Generic[ItemT, ResultT]):
    """Groups concurrent ``submit`` calls into batches for one synchronous ``score_batch`` call.

    ``score_batch`` gets the batch's items in submission order and must return exactly one result
    per item, in the same order; any other count fails every caller of that batch with
    ``BatchResultCountError``. An exception it raises fails only the callers of that batch; later
    batches are scored as usual. It runs in one dedicated thread (never two batches at once), so
    thread-local state such as torch's grad mode must be set inside it (``torch.inference_mode()``).

    A caller cancelled before its batch runs (e.g. its client disconnected) is not scored; one
    cancelled while its batch runs only loses its own result. ``stop`` scores every item already
    submitted before it returns; ``submit`` after ``stop`` raises ``RuntimeError``.
    """

    def __init__(
        self,
        score_batch: Callable[[Sequence[ItemT]], Sequence[ResultT]],
        params: BatchingParams | None = None,
        *,
        stats_window: int = 1024,
    ) -> None:
        self._score_batch = score_batch
        self._params = params if params is not None else BatchingParams()
        self._stats = BatchStats(window=stats_window)
        self._state: _State = "new"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Pending[ItemT, ResultT] | _Stop] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._worker: asyncio.Task[None] | None = None

    @property
    def params(self) -> BatchingParams:
        return self._params

    @property
    def stats(self) -> BatchStats:
        return self._stats

    @property
    def running(self) -> bool:
        """Whether ``submit`` is accepted (started, and not stopping or stopped)."""
        return self._state == "running"

    def start(self) -> None:
        """Start the worker on the running event loop (a batcher starts once: after ``stop``, make a new one)."""
        if self._state != "new":
            raise RuntimeError(f"DynamicBatcher.start: the batcher is already {self._state}; it starts only once")
        self._loop = asyncio.get_running_loop()  # RuntimeError outside a running loop
        self._queue = asyncio.Queue()
        # A thread of its own rather than the loop's default executor (asyncio.to_thread): a batch
        # never queues behind unrelated blocking work, and the model always runs in the same thread.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adrank-batcher")
        self._worker = self._loop.create_task(self._run(), name="adrank-batcher")
        self._state = "running"

    async def stop(self) -> None:
        """Refuse new items, score every item already submitted, then stop the worker and its thread."""
        if self._state == "new":
            self._state = "stopped"
            return
        if self._state == "running":
            self._state = "stopping"
            assert self._queue is not None
            self._queue.put_nowait(_Stop())
        assert self._worker is not None and self._executor is not None
        try:
            # Shielded: cancelling the caller of stop must not cancel the drain under way.
            await asyncio.shield(self._worker)
        finally:
            if self._worker.done():
                self._executor.shutdown(wait=False)

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def submit(self, item: ItemT) -> ResultT:
        """Queue ``item`` for the next batch and return its own result (or raise its batch's error)."""
        if self._state == "new":
            raise RuntimeError("DynamicBatcher.submit: the batcher is not started; call start() or use 'async with'")
        if self._state != "running":
            raise RuntimeError(
                f"DynamicBatcher.submit: the batcher is {self._state}; no items are accepted after stop()"
            )
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            raise RuntimeError("DynamicBatcher.submit: called from another event loop than the one it was started on")
        assert self._queue is not None
        future: asyncio.Future[ResultT] = loop.create_future()
        self._queue.put_nowait(_Pending(item, future, loop.time()))
        # Cancelling this caller cancels the future, which tells the worker to skip the item.
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        batch: list[_Pending[ItemT, ResultT]] = []
        try:
            stopping = False
            while not stopping:
                batch = []
                stopping = await self._collect(queue, batch)
                if batch:
                    await self._score(batch)
        finally:
            # Reached with items left only if the worker itself was cancelled or failed unexpectedly
            # (not by a failing score_batch): no caller may be left waiting forever.
            self._state = "stopped"
            leftover = RuntimeError("DynamicBatcher stopped before this item was scored")
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(leftover)
            while not queue.empty():
                entry = queue.get_nowait()
                if isinstance(entry, _Pending) and not entry.future.done():
                    entry.future.set_exception(leftover)

    async def _collect(
        self, queue: asyncio.Queue[_Pending[ItemT, ResultT] | _Stop], batch: list[_Pending[ItemT, ResultT]]
    ) -> bool:
        """Fill ``batch`` with the next live items; return whether ``stop`` was reached."""
        while not batch:
            entry = await queue.get()
            if isinstance(entry, _Stop):
                return True
            self._take(entry, batch)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._params.max_wait_ms / 1000.0
        while len(batch) < self._params.max_batch_size:
            if not queue.empty():
                entry = queue.get_nowait()
            else:
                if loop.time() >= deadline:  # max_wait_ms 0: take what is queued, never wait
                    break
                try:
                    async with asyncio.timeout_at(deadline):
                        entry = await queue.get()
                except TimeoutError:
                    break
            if isinstance(entry, _Stop):
                return True
            self._take(entry, batch)
        return False

    def _take(self, entry: _Pending[ItemT, ResultT], batch: list[_Pending[ItemT, ResultT]]) -> None:
        # A future already done here was cancelled by its caller: skip it, it does not count.
        if entry.future.done():
            self._stats.cancelled_items += 1
        else:
            batch.append(entry)

    async def _score(self, batch: list[_Pending[ItemT, ResultT]]) -> None:
        """Score the batch's live items in the worker thread and settle each caller's future."""
        live = [pending for pending in batch if not pending.future.done()]
        self._stats.cancelled_items += len(batch) - len(live)
        if not live:
            return
        items = [pending.item for pending in live]
        loop = asyncio.get_running_loop()
        started = loop.time()
        waited = started - live[0].submitted_at
        try:
            results = await loop.run_in_executor(self._executor, self._score_batch, items)
            if len(results) != len(items):
                raise BatchResultCountError(
                    f"score_batch returned {len(results)} results for a batch of {len(items)} items; "
                    "it must return exactly one result per item, in order"
                )
        except Exception as error:  # any failure of the batch goes to its callers only
            self._stats.record(len(items), waited, loop.time() - started, failed=True)
            for pending in live:
                if not pending.future.done():  # a caller cancelled meanwhile gets nothing
                    pending.future.set_exception(error)
            return
        self._stats.record(len(items), waited, loop.time() - started)
        for pending, result in zip(live, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)
