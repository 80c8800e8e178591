"""The background refresh's compute, in a process of its own so it never holds the API's GIL.

A refresh (``refresh.RefreshScheduler``) is a forecast plus the insight builders
(``pipeline_insights.plan_refresh``, 0.1–0.3 s on a year of lines) and a rebuild of the
business's anomaly scoring context (~0.1 s). Run on a thread of the serving process it holds
the interpreter lock for that long, every couple of seconds under a stream of POSTs, and every
request queued behind it waits: that alone put the POST's p99 far above its 25 ms target. So
the compute runs in one worker process::

    API process                                  refresh worker (spawned once)
    ─────────────────────────────────────        ──────────────────────────────────────
    schedule(b) … delay … compute(b, anchor) ──> read b (read-only transaction), forecast,
                                                 build candidates, build scoring context
    apply_refresh(plan) on the writer thread <── (RefreshPlan, ScoringContext) pickled back
    install_scoring_context on the writer

The worker is initialised once from the container's settings (its own engine and the ECB
rates, the same database); it never writes. The scoring context is rebuilt only every
``LEDGERLENS_API__SCORING_CONTEXT_REBUILD_S`` (30 s) per business: taking in a rebuilt one
(unpickling ~5,000 lines) costs the API process ~0.07 s of its GIL, and between rebuilds each
POST keeps the context current itself (docs/app.md, "Speed"). The short write (rank against
what is stored *now*, store, queue notifications) stays on the API's writer thread, so
coalescing and the "refreshes of a business never overlap" rule are the scheduler's, as before.

Where another process cannot see the data (an in-memory SQLite database) or the setting is off
(``LEDGERLENS_API__REFRESH_PROCESS=false``), the compute runs in the thread pool as before. If
the worker dies (or cannot start), that refresh and every later one run in the thread pool:
slower under load, never a loop of respawns.
``close`` cancels what has not started and stops the worker (app shutdown; the scheduler
has cancelled its tasks first).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool

__all__ = ["RefreshCompute", "compute_refresh", "shares_storage"]

log = structlog.get_logger(__name__)

# the worker process's own services (set once by ``_init`` in that process)
_WORKER: dict[str, Any] = {}


def shares_storage(engine: Any) -> bool:
    """Whether another process opening ``engine``'s URL sees the same data."""
    if engine.dialect.name != "sqlite":
        return True
    database = engine.url.database or ""
    return bool(database) and database != ":memory:" and "mode=memory" not in database


def _init(settings: Any) -> None:
    """In the worker: bootstrap once (no migration: the API process did it). A refresh reads
    storage and the ECB rates (FX tips), nothing else: no model is loaded here."""
    from ledgerlens.adapters.db.unit_of_work import sql_uow_factory
    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.enrich.transfers import EcbRates
    from ledgerlens.pipeline import Services

    os.nice(10)  # background work: the serving process goes first when cores are short
    container = bootstrap(settings, upgrade=False)
    read_uow: Any = sql_uow_factory(container.engine, read_only=True)  # type: ignore[arg-type]
    _WORKER["services"] = Services(container.importer, uow_factory=read_uow,
                                   fx_rates=EcbRates.load())  # fmt: skip
    _WORKER["read_uow"] = read_uow


def _ready() -> bool:
    return "services" in _WORKER


def compute_refresh(
    business_id: str, anchor: date | None, with_context: bool, services: Any, read_uow: Any
) -> tuple[Any, Any]:
    """The read-and-compute half of a refresh: the plan, and a fresh scoring context (anchored
    at ``anchor``, the serving context's last day) when ``with_context``."""
    from ledgerlens.pipeline_anomalies import scoring_context_at
    from ledgerlens.pipeline_insights import RefreshInsights, plan_refresh

    plan = plan_refresh(RefreshInsights(business_id), services, read_uow)
    context = scoring_context_at(business_id, anchor, read_uow) if with_context else None
    return plan, context


def _in_worker(business_id: str, anchor: date | None, with_context: bool) -> tuple[Any, Any]:
    return compute_refresh(business_id, anchor, with_context, _WORKER["services"],
                           _WORKER["read_uow"])  # fmt: skip


class RefreshCompute:
    """``await compute(business_id, anchor, with_context)`` -> (plan, context): in the worker
    process when ``settings`` is given, else in this process's thread pool."""

    def __init__(self, settings: Any | None, services: Any, read_uow: Any) -> None:
        self._settings = settings
        self._services = services
        self._read_uow = read_uow
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def out_of_process(self) -> bool:
        """True when the compute runs in a worker process."""
        return self._settings is not None

    def _executor(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._settings is None:
                return None
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    1,
                    mp_context=multiprocessing.get_context("spawn"),  # no inherited threads
                    initializer=_init,
                    initargs=(self._settings,),
                )
            return self._pool

    def warm(self) -> None:
        """Start the worker now (its imports take seconds), not on the first refresh."""
        pool = self._executor()
        if pool is not None:
            pool.submit(_ready)

    async def __call__(
        self, business_id: str, anchor: date | None, with_context: bool
    ) -> tuple[Any, Any]:
        pool = self._executor()
        if pool is not None:
            try:
                future = pool.submit(_in_worker, business_id, anchor, with_context)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:  # died or could not start: never respawn in a loop
                log.warning("refresh worker died; refreshes compute in this process from now")
                with self._lock:
                    self._settings = None
                    if self._pool is pool:
                        self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
        return await run_in_threadpool(compute_refresh, business_id, anchor, with_context,
                                       self._services, self._read_uow)  # fmt: skip

    def close(self) -> None:
        """Stop the worker (cancel what is queued, wait for the one running; blocking). A
        later call starts a new one, so an app may start and stop more than once (tests)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
