"""Where the API's blocking write work runs: one writer thread on SQLite, the pool elsewhere.

SQLite takes one writer at a time. With writes spread over the thread pool, concurrent requests
each open ``BEGIN IMMEDIATE`` and all but one sleep in SQLite's busy handler (1, 2, 5, … 100 ms
steps), so a burst of POSTs turns into seconds of tail latency while the CPU idles. Handing every
write of this process to one thread instead makes them queue in order, each starting the moment
the one before commits; writers in *other* processes still meet at the database lock as before
(``busy_timeout``). PostgreSQL takes concurrent writers, so there the pool is kept.

The lane runs plain callables (the pipeline's handlers, the idempotency store), never the event
loop's own work; ``close`` stops the thread and a later ``run`` starts a new one, so an app may
start and stop more than once (tests). ``generation`` counts the jobs ``run`` has started, so
a cache of what those jobs may change (``pipeline_realtime.BusinessFactsCache``) can tell.

``GroupCommit`` batches one kind of job (the real-time ingest): requests that arrive while
its previous group runs wait and go together as the next group, one call on the lane (one
database transaction), so under load the fixed cost of a write is shared; at low load a group
is a single request and waits for nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["GroupCommit", "WriteLane"]

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a group
R = TypeVar("R")


class WriteLane:
    """``await lane.run(fn, *args)``: ``fn`` runs off the event loop, one at a time if serial."""

    def __init__(self, serial: bool) -> None:
        self.serial = serial
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.generation = 0  # jobs started by ``run`` (bumped on the writer thread)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="ledgerlens-writer")
            return self._pool

    def _counted(self, fn: Callable[..., T], *args: Any) -> T:
        self.generation += 1
        return fn(*args)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` off the loop; it counts as a write of unknown effect."""
        if not self.serial:
            self.generation += 1
            return await run_in_threadpool(fn, *args)
        return await self._submit(self._counted, fn, *args)

    async def run_known(self, fn: Callable[..., T], *args: Any) -> T:
        """``run`` for a job whose effects the caches built on ``generation`` keep track of
        themselves (the grouped real-time ingest): it leaves ``generation`` alone."""
        if not self.serial:
            return await run_in_threadpool(fn, *args)
        return await self._submit(fn, *args)

    async def _submit(self, fn: Callable[..., T], *args: Any) -> T:
        ctx = contextvars.copy_context()  # as run_in_threadpool does: logging context follows
        future = self._executor().submit(ctx.run, fn, *args)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Finish what is queued and stop the thread (a later ``run`` starts a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


class GroupCommit(Generic[I, R]):
    """``await group.submit(item)``: the item goes with the others queued meanwhile to one
    ``process(items) -> outcomes`` call on the lane (an outcome that is an exception is raised
    to that item's caller). At most ``max_items`` go together; one group runs at a time.
    Used on the event loop only."""

    def __init__(
        self,
        lane: WriteLane,
        process: Callable[[Sequence[I]], Sequence[R | BaseException]],
        max_items: int = 64,
        gather_s: float = 0.002,
    ) -> None:
        self._lane = lane
        self._process = process
        self._max_items = max_items
        self._gather_s = gather_s
        self._queue: list[tuple[I, asyncio.Future[R]]] = []
        self._running = False
        self._last = 1  # the size of the last group
        self._wanted = 1  # the group waits (up to ``gather_s``) until this many have queued
        self._enough: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # held: the loop keeps weak references

    async def submit(self, item: I) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._enough is not None and len(self._queue) >= self._wanted:
            self._enough.set()
        if not self._running:
            self._running = True
            task = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        """Run groups while any item waits. A group is taken one loop turn after the last
        finished (requests parsed in that turn join it), and, when fewer items wait than
        the last group held, once that many have come or ``gather_s`` has passed: the
        callers just answered send their next request within a round trip, and without the
        wait a steady load splits into alternating groups (1, 3, 1, 3 … at 4 clients) that
        pay the fixed cost of a write twice as often. At a load of one request at a time the
        last group held one, so nothing waits."""
        try:
            while self._queue:
                await asyncio.sleep(0)
                self._wanted = min(self._last, self._max_items)
                if len(self._queue) < self._wanted and self._gather_s > 0:
                    self._enough = asyncio.Event()
                    try:
                        await asyncio.wait_for(self._enough.wait(), self._gather_s)
                    except TimeoutError:
                        pass
                    finally:
                        self._enough = None
                group = self._queue[: self._max_items]
                self._queue = self._queue[self._max_items :]
                self._last = len(group)
                await self._run(group)
        except asyncio.CancelledError:  # shutting down: nobody waits forever
            for _, future in self._queue:
                future.cancel()
            self._queue = []
            raise
        finally:
            self._running = False

    async def _run(self, group: list[tuple[I, asyncio.Future[R]]]) -> None:
        try:
            outcomes = await self._lane.run_known(self._process, [item for item, _ in group])
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.done():  # its caller went away (client disconnected)
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
        except asyncio.CancelledError:
            for _, future in group:
                future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every waiting caller learns of it
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
