"""Where the API's blocking write work runs: one writer thread on SQLite, the pool elsewhere.

SQLite takes one writer at a time. With writes spread over the thread pool, concurrent requests
each open ``BEGIN IMMEDIATE`` and all but one sleep in SQLite's busy handler (1, 2, 5, … 100 ms
steps), so a burst of POSTs turns into seconds of tail latency while the CPU idles. Handing every
write of this process to one thread instead makes them queue in order, each starting the moment
the one before commits; writers in *other* processes still meet at the database lock as before
(``busy_timeout``). PostgreSQL takes concurrent writers, so there the pool is kept.

The lane runs plain callables (the pipeline's handlers, the idempotency store), never the event
loop's own work; ``close`` stops the thread and a later ``run`` starts a new one, so an app may
start and stop more than once (tests).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["WriteLane"]

T = TypeVar("T")


class WriteLane:
    """``await lane.run(fn, *args)``: ``fn`` runs off the event loop, one at a time if serial."""

    def __init__(self, serial: bool) -> None:
        self.serial = serial
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="ledgerlens-writer")
            return self._pool

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if not self.serial:
            return await run_in_threadpool(fn, *args)
        ctx = contextvars.copy_context()  # as run_in_threadpool does: logging context follows
        future = self._executor().submit(ctx.run, fn, *args)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Finish what is queued and stop the thread (a later ``run`` starts a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
