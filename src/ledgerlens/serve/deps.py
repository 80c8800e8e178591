"""What routes receive, declared once as ``Annotated`` aliases (state, caller, common params).

``ApiState`` is built once per app (lifespan, or eagerly from a given container) and holds the
container's storage plus the serve layer's own objects; routes never build anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ledgerlens.adapters.db.transaction_search import SqlTransactionSearch
from ledgerlens.bootstrap import Container
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.pipeline import Services
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.feed_cache import FeedCache
from ledgerlens.serve.idempotency import IdempotencyGuard
from ledgerlens.serve.metrics import ApiMetrics
from ledgerlens.serve.ratelimit import TokenBucketLimiter
from ledgerlens.serve.refresh import RefreshScheduler
from ledgerlens.serve.refresh_worker import RefreshCompute
from ledgerlens.serve.security import AuthError, Principal, TokenVerifier
from ledgerlens.serve.settings import ServeSettings
from ledgerlens.serve.writes import GroupCommit, WriteLane

__all__ = [
    "ApiState",
    "BusinessId",
    "CurrentPrincipal",
    "IdempotencyKey",
    "State",
    "get_principal",
    "get_state",
]


@dataclass(slots=True)
class ApiState:
    container: Container
    settings: ServeSettings
    verifier: TokenVerifier
    limiter: TokenBucketLimiter
    idempotency: IdempotencyGuard
    search: SqlTransactionSearch
    read_uow: Callable[[], UnitOfWork]
    services: Services
    metrics: ApiMetrics
    writes: WriteLane  # SQLite: one writer thread (serve.writes)
    refresh: RefreshScheduler  # coalesced forecast + insights refresh after ingestion
    feed: FeedCache  # the insights feed, valid while the database's change counter stands
    refresh_compute: RefreshCompute  # the refresh's compute: a worker process (not in-memory DBs)
    # SQLite: real-time POSTs queued meanwhile go in one transaction, key and answer included
    # (pipeline_realtime); None on PostgreSQL (concurrent writers: the idempotency guard)
    ingest_group: GroupCommit[Any, Any] | None = None


def _state_of(request: Request) -> ApiState:
    state: ApiState | None = getattr(request.app.state, "api", None)
    if state is None:  # lifespan not run (or failed): nothing can be served
        raise ApiProblem(503, "the service is starting")
    return state


async def get_state(request: Request) -> ApiState:
    """Async on purpose: FastAPI runs a plain ``def`` dependency in the thread pool."""
    return _state_of(request)


State = Annotated[ApiState, Depends(get_state)]
_bearer = HTTPBearer(auto_error=False, description="JWT with business-scoped roles")


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller, after the per-token rate limit.

    Takes the request rather than ``State``: every dependency FastAPI solves costs a few
    microseconds on every request of every route, and this one runs on all of them."""
    state = _state_of(request)
    if credentials is None or not credentials.credentials:
        raise AuthError("a bearer token is required")
    token = credentials.credentials
    principal = state.verifier.cached(token)  # the common case: no signature check, no hop
    if principal is None:
        if state.verifier.needs_io:
            principal = await run_in_threadpool(state.verifier.verify, token)
        else:
            principal = state.verifier.verify(token)
    wait = state.limiter.check(principal.token_key)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiProblem(
            429,
            f"rate limit exceeded; retry after {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
BusinessId = Annotated[str, Path(min_length=1, max_length=128, description="the business (tenant)")]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="client-chosen unique key (e.g. a UUID); a retry sends the same key",
    ),
]
