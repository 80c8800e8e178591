"""Prometheus metrics: request counts and latencies per route template, and ingestion totals.

Each app owns its registry (several apps in one test process must not collide on the global
one). Labels are route templates (``/v1/businesses/{business_id}``), never raw paths, so a
metric can neither explode in cardinality nor carry an id.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_TYPE_LATEST", "ApiMetrics", "MetricsMiddleware"]


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ledgerlens_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ledgerlens_http_request_duration_seconds",
            "Time to answer, by route template",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.transactions_ingested = Counter(
            "ledgerlens_transactions_ingested",
            "Transactions stored through the API (new rows only)",
            registry=self.registry,
        )
        self.idempotency = Counter(
            "ledgerlens_idempotency_outcomes",
            "Idempotency-Key outcomes (new, replay, mismatch, in_progress)",
            ["outcome"],
            registry=self.registry,
        )
        self.refreshes = Counter(
            "ledgerlens_background_refreshes",
            "Forecast and insights refreshes after ingestion (done, failed, coalesced)",
            ["outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI (no per-request task like BaseHTTPMiddleware): cheap on the hot path."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # bounded: methods x route templates (or "unmatched") x status codes
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            key = (method, template, status)
            children = self._children.get(key)
            if children is None:  # labels() builds and locks per call: look each pair up once
                children = self._children[key] = (
                    self.metrics.requests.labels(method, template, str(status)),
                    self.metrics.latency.labels(method, template),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - start)
