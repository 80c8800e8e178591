"""The API application: ``create_app`` builds it; its ``lifespan`` bootstraps storage once.

``create_app()`` reads settings and does nothing else (no engine, no I/O): importing or building
the app is free, so tests and the route-table checks can build one at collection time. Storage
comes from ``bootstrap()`` when the app starts, or from the ``container`` a caller hands in
(tests, ``ledgerlens demo``); a handed-in container is the caller's to dispose.

Middleware, outermost first: security headers, metrics, body limits; errors become RFC 9457
problem details (``errors``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from ledgerlens import __version__
from ledgerlens.bootstrap import Container
from ledgerlens.serve.deps import ApiState
from ledgerlens.serve.errors import install_error_handlers, install_problem_schema
from ledgerlens.serve.headers import SecurityHeadersMiddleware
from ledgerlens.serve.limits import BodyLimitMiddleware
from ledgerlens.serve.metrics import ApiMetrics, MetricsMiddleware
from ledgerlens.serve.settings import ServeSettings

__all__ = ["build_state", "create_app", "settle_heap"]

API_DESCRIPTION = """\
LedgerLens REST API (DESIGN.md §7). Bearer tokens (JWT) grant roles per business; errors are
RFC 9457 problem details; creating requests need an `Idempotency-Key`; amounts are decimal
strings in the account's currency (negative = money out)."""


def build_state(container: Container, settings: ServeSettings, metrics: ApiMetrics) -> ApiState:
    """The serve layer's objects over a bootstrapped container."""
    from ledgerlens.adapters.db.engine import sqlite_change_counter
    from ledgerlens.adapters.db.idempotency import SqlIdempotencyStore
    from ledgerlens.adapters.db.transaction_search import SqlTransactionSearch
    from ledgerlens.adapters.db.unit_of_work import sql_uow_factory
    from ledgerlens.pipeline_anomalies import ScoringContexts, install_scoring_context
    from ledgerlens.pipeline_insights import apply_refresh
    from ledgerlens.pipeline_realtime import BusinessFactsCache, ingest_keyed
    from ledgerlens.serve.feed_cache import FeedCache
    from ledgerlens.serve.idempotency import IdempotencyGuard
    from ledgerlens.serve.ratelimit import TokenBucketLimiter
    from ledgerlens.serve.refresh import RefreshScheduler
    from ledgerlens.serve.refresh_worker import RefreshCompute, shares_storage
    from ledgerlens.serve.routes.transactions import ingest_answer
    from ledgerlens.serve.security import TokenVerifier
    from ledgerlens.serve.writes import GroupCommit, WriteLane

    engine: Any = container.engine
    api = settings.api
    store = SqlIdempotencyStore(engine, lease_seconds=api.idempotency_lease_s)
    writes = WriteLane(serial=engine.dialect.name == "sqlite")
    # enrichment included: the model loads here, once; real-time anomaly scoring keeps a
    # fitted context per business (pipeline_anomalies.ScoringContexts)
    services = replace(container.services(), anomaly_contexts=ScoringContexts(api.scoring_contexts))
    read_uow = sql_uow_factory(engine, read_only=True)

    # the compute (forecast, builders, scoring context) runs in a worker process where that
    # process can open the same data, so it never holds this one's GIL (serve.refresh_worker);
    # only the short writes queue on the writer thread
    out_of_process = api.refresh_process and shares_storage(engine)
    compute = RefreshCompute(container.settings if out_of_process else None, services, read_uow)
    contexts = services.anomaly_contexts
    built_at: dict[str, float] = {}  # business -> when its scoring context was last rebuilt

    async def refresh(business_id: str) -> object:
        # the scoring context follows every POST itself; a rebuild (the model refitted, writes
        # from other processes caught up) costs ~0.1 s of this process's GIL to take in, so
        # it happens at most once per ``scoring_context_rebuild_s``
        current = contexts.get(business_id)
        now = time.monotonic()
        # a context a POST built (a cold business) counts as fresh from its first refresh on
        last = built_at.setdefault(business_id, now) if current is not None else now
        rebuild = current is None or now - last >= api.scoring_context_rebuild_s
        anchor = date.fromordinal(current.last_day) if current is not None else None
        plan, fresh = await compute(business_id, anchor, rebuild)
        result = await writes.run(apply_refresh, plan, services)
        if rebuild:
            await writes.run(install_scoring_context, business_id, fresh, services)
            built_at.pop(business_id, None)
            built_at[business_id] = time.monotonic()  # last: the oldest rebuild comes first
            while len(built_at) > 4 * api.scoring_contexts:  # bounded: oldest entries go
                built_at.pop(next(iter(built_at)))
        return result

    ingest_group = None
    if writes.serial:  # SQLite: POSTs queued meanwhile share one transaction (pipeline_realtime)
        facts = BusinessFactsCache(api.business_facts_ttl_s, lambda: writes.generation)
        ingest_group = GroupCommit(
            writes,
            lambda requests: ingest_keyed(
                requests, services, ingest_answer, facts, api.idempotency_lease_s
            ),
        )

    return ApiState(
        container=container,
        settings=settings,
        verifier=TokenVerifier(settings.auth),
        limiter=TokenBucketLimiter(api.rate_limit_per_s, api.rate_limit_burst),
        idempotency=IdempotencyGuard(store, metrics, wait_s=api.idempotency_wait_s, lane=writes),
        search=SqlTransactionSearch(engine),
        read_uow=read_uow,  # type: ignore[arg-type]
        services=services,
        metrics=metrics,
        writes=writes,
        refresh=RefreshScheduler(
            refresh, api.refresh_delay_s, lambda outcome: metrics.refreshes.labels(outcome).inc()
        ),
        feed=FeedCache(sqlite_change_counter(engine)),
        refresh_compute=compute,
        ingest_group=ingest_group,
    )


def settle_heap() -> None:
    """Move what start-up loaded (modules, models, the app: ~260,000 objects) out of the
    cyclic garbage collector's sight (``gc.freeze``). Each full collection otherwise walks all
    of them, ~0.14 s with every thread stopped, which under a stream of POSTs was a large part
    of their p99. Frozen objects are still freed by reference counting; only the collector
    skips them. Done once, by a server that owns its process (``ledgerlens serve``)."""
    gc.collect()
    gc.freeze()


def create_app(
    container: Container | None = None, settings: ServeSettings | None = None
) -> FastAPI:
    """The FastAPI app; with ``container`` it serves that storage, else it bootstraps its own."""
    settings = settings or ServeSettings()
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned: Container | None = None
        if getattr(app.state, "api", None) is None:
            from ledgerlens.bootstrap import bootstrap

            owned = await run_in_threadpool(bootstrap)
            app.state.api = build_state(owned, settings, metrics)
            app.state.api.refresh_compute.warm()  # a server's start-up: spawn the worker now
            settle_heap()
        try:
            yield
        finally:
            state: ApiState | None = app.state.api
            if state is not None:  # background refreshes not started yet are dropped
                await state.refresh.close()
                await run_in_threadpool(state.refresh_compute.close)
                await run_in_threadpool(state.writes.close)
            if owned is not None:
                app.state.api = None
                owned.dispose()

    app = FastAPI(
        title="LedgerLens API",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads from a CDN; nothing we serve may
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.api = build_state(container, settings, metrics) if container is not None else None

    from ledgerlens.serve.routes import (
        accounts,
        anomalies,
        audit,
        businesses,
        cards,
        categories,
        export,
        forecast,
        health,
        insights,
        known_items,
        offers,
        preferences,
        privacy,
        statements,
        transactions,
        web,
    )

    # Routers are matched in this order, one after another (no two templates overlap, so the
    # order changes no answer): the app's busiest reads and the real-time POST come first.
    for module in (
        insights, transactions, health, businesses, accounts, statements, export, forecast,
        categories, anomalies, web, preferences, offers, cards, privacy, audit, known_items,
    ):  # fmt: skip
        app.include_router(module.router)
    install_error_handlers(app)
    install_problem_schema(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.api.max_body_bytes,
        max_upload_bytes=settings.api.max_upload_bytes,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
