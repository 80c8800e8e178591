"""The background refresh of forecast and insights after real-time ingestion, coalesced.

``POST …/transactions`` answers as soon as its lines are stored, enriched and scored; the
business's forecast and insights (``RefreshInsights``: forecast, anomalies, builders, ranking)
are brought up to date afterwards, off the request. A burst of POSTs must not turn into a burst
of refreshes, so requests for one business coalesce::

    schedule(b) ── none pending for b ──> one refresh of b after ``delay_s``
                └─ one already pending ──> nothing: that refresh will see these lines too

The pending mark is cleared when the refresh *starts*, so a write that lands while it runs
schedules the next one (and no line is left unrefreshed); refreshes of one business never
overlap. Under a sustained stream a business is refreshed about once per ``delay_s`` plus the
refresh itself. A failure is logged (kind only, no data) and counted; the next write retries.
``close`` (app shutdown) cancels what has not started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

__all__ = ["RefreshScheduler"]

log = structlog.get_logger(__name__)


class RefreshScheduler:
    def __init__(
        self,
        refresh: Callable[[str], Awaitable[object]],
        delay_s: float,
        on_outcome: Callable[[str], None] | None = None,
        poll_s: float = 0.05,
    ) -> None:
        self._refresh = refresh
        self._delay_s = delay_s
        self._poll_s = poll_s
        self._on_outcome = on_outcome or (lambda outcome: None)
        self._pending: set[str] = set()
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def pending(self, business_id: str) -> bool:
        return business_id in self._pending

    def schedule(self, business_id: str) -> None:
        """Ask for a refresh of ``business_id`` (on the event loop; returns at once)."""
        if business_id in self._pending:
            self._on_outcome("coalesced")
            return
        self._pending.add(business_id)
        task = asyncio.get_running_loop().create_task(self._later(business_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, business_id: str) -> None:
        try:
            await asyncio.sleep(self._delay_s)
            while business_id in self._running:  # never overlap: wait for the one before
                await asyncio.sleep(self._poll_s)
        finally:
            self._pending.discard(business_id)  # writes from now on ask for the next one
        self._running.add(business_id)
        try:
            await self._refresh(business_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - answered long ago: log, count, go on
            log.warning("background refresh failed", error=type(exc).__name__)
            self._on_outcome("failed")
            return
        finally:
            self._running.discard(business_id)
        self._on_outcome("done")

    async def close(self) -> None:
        """Cancel refreshes that have not finished (app shutdown)."""
        loop = asyncio.get_running_loop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(t for t in tasks if t.get_loop() is loop), return_exceptions=True)
        self._pending.clear()
