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
    from ledgerlens.adapters.db.idempotency import SqlIdempotencyStore
    from ledgerlens.adapters.db.transaction_search import SqlTransactionSearch
    from ledgerlens.adapters.db.unit_of_work import sql_uow_factory
    from ledgerlens.serve.idempotency import IdempotencyGuard
    from ledgerlens.serve.ratelimit import TokenBucketLimiter
    from ledgerlens.serve.security import TokenVerifier

    engine = container.engine
    api = settings.api
    store = SqlIdempotencyStore(engine, lease_seconds=api.idempotency_lease_s)  # type: ignore[arg-type]
    return ApiState(
        container=container,
        settings=settings,
        verifier=TokenVerifier(settings.auth),
        limiter=TokenBucketLimiter(api.rate_limit_per_s, api.rate_limit_burst),
        idempotency=IdempotencyGuard(store, metrics, wait_s=api.idempotency_wait_s),
        search=SqlTransactionSearch(engine),  # type: ignore[arg-type]
        read_uow=sql_uow_factory(engine, read_only=True),  # type: ignore[arg-type]
        services=container.services(),  # enrichment included: the model loads here, once
        metrics=metrics,
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
        businesses,
        export,
        health,
        statements,
        transactions,
    )

    for module in (health, businesses, accounts, transactions, statements, export):
        app.include_router(module.router)
    from ledgerlens.serve.routes import anomalies, categories, forecast, web

    for module in (forecast, categories, anomalies, web):
        app.include_router(module.router)
    from ledgerlens.serve.routes import audit, cards, insights, offers, preferences, privacy

    for module in (insights, preferences, offers, cards, privacy, audit):
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
