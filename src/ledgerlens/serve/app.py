"""The API application: ``create_app`` builds it; its ``lifespan`` bootstraps storage once.

``create_app()`` reads settings and does nothing else (no engine, no I/O): importing or building
the app is free, so tests and the route-table checks can build one at collection time. Storage
comes from ``bootstrap()`` when the app starts, or from the ``container`` a caller hands in
(tests, ``ledgerlens demo``); a handed-in container is the caller's to dispose.

Middleware, outermost first: security headers, metrics, body limits; errors become RFC 9457
problem details (``errors``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
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

__all__ = ["build_state", "create_app"]

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
    from ledgerlens.pipeline_anomalies import (
        ScoringContexts,
        build_scoring_context,
        install_scoring_context,
    )
    from ledgerlens.pipeline_insights import RefreshInsights, apply_refresh, plan_refresh
    from ledgerlens.serve.feed_cache import FeedCache
    from ledgerlens.serve.idempotency import IdempotencyGuard
    from ledgerlens.serve.ratelimit import TokenBucketLimiter
    from ledgerlens.serve.refresh import RefreshScheduler
    from ledgerlens.serve.security import TokenVerifier
    from ledgerlens.serve.writes import WriteLane

    engine: Any = container.engine
    api = settings.api
    store = SqlIdempotencyStore(engine, lease_seconds=api.idempotency_lease_s)
    writes = WriteLane(serial=engine.dialect.name == "sqlite")
    # enrichment included: the model loads here, once; real-time anomaly scoring keeps a
    # fitted context per business (pipeline_anomalies.ScoringContexts)
    services = replace(container.services(), anomaly_contexts=ScoringContexts(api.scoring_contexts))
    read_uow = sql_uow_factory(engine, read_only=True)

    async def refresh(business_id: str) -> object:
        # compute beside the writer in read transactions; only the short writes queue on it
        plan = await run_in_threadpool(plan_refresh, RefreshInsights(business_id), services,
                                       read_uow)  # fmt: skip
        result = await writes.run(apply_refresh, plan, services)
        fresh = await run_in_threadpool(build_scoring_context, business_id, services, read_uow)
        await writes.run(install_scoring_context, business_id, fresh, services)
        return result

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
    )


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
        try:
            yield
        finally:
            state: ApiState | None = app.state.api
            if state is not None:  # background refreshes not started yet are dropped
                await state.refresh.close()
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
        categories, anomalies, web, preferences, offers, cards, privacy, audit,
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
