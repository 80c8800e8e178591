"""``Idempotency-Key`` on creating requests: replay the first response, refuse a changed payload.

The guard wraps a route's work (DESIGN.md §7)::

    reserve(key)  ── new ──────────> do the work -> store the response -> answer it
                  ── replay ───────> answer the stored response (same status and body)
                  ── mismatch ─────> 409: the key was used with a different request
                  ── in_progress ──> wait (polling) up to ``wait_s`` for the first to finish,
                                     then replay it, or 409 "in progress" with Retry-After

Keys are scoped by business and token subject (two clients never collide). The request hash
covers method, path and the canonical payload, so a re-serialized identical JSON body still
matches. A 4xx answer is the request's answer and is stored; a 5xx (storage down) releases the
key so the client's retry runs again.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from ledgerlens.core.ports import Reservation
from ledgerlens.serve.errors import PROBLEM_MEDIA_TYPE, ApiProblem, problem_for
from ledgerlens.serve.metrics import ApiMetrics
from ledgerlens.serve.security import Principal
from ledgerlens.serve.writes import WriteLane

__all__ = ["IdempotencyGuard", "IdempotencyStore", "request_fingerprint"]

REPLAY_HEADER = "Idempotent-Replayed"
Work = Callable[[], Awaitable[tuple[int, BaseModel]]]


class IdempotencyStore(Protocol):
    def reserve(
        self, business_id: str, subject: str, key: str, request_hash: str
    ) -> Reservation: ...
    def complete(
        self,
        business_id: str,
        subject: str,
        key: str,
        status_code: int,
        content_type: str,
        body: str,
    ) -> None: ...
    def release(self, business_id: str, subject: str, key: str) -> None: ...


def request_fingerprint(method: str, path: str, *parts: bytes) -> str:
    """sha256 over the method, the path and each payload part (length-prefixed)."""
    h = hashlib.sha256(f"{method} {path}".encode())
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


class IdempotencyGuard:
    def __init__(
        self,
        store: IdempotencyStore,
        metrics: ApiMetrics,
        wait_s: float = 10.0,
        poll_s: float = 0.02,
        lane: WriteLane | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._wait_s = wait_s
        self._poll_s = poll_s
        # the store writes: on SQLite through the one writer thread, like the work they guard
        self._run: Callable[..., Awaitable[Any]] = run_in_threadpool if lane is None else lane.run

    async def run(
        self,
        principal: Principal,
        business_id: str,
        key: str,
        request_hash: str,
        work: Work,
    ) -> Response:
        """Reserve the key, do ``work``, store its answer (three steps, see the module doc)."""
        ids = (business_id, principal.subject, key)

        async def reserve() -> Reservation:
            found: Reservation = await self._run(self._store.reserve, *ids, request_hash)
            return found

        return await self._answer(reserve, lambda: self._first(ids, work))

    async def run_in_transaction(self, attempt: Callable[[], Awaitable[Reservation]]) -> Response:
        """For work that stores its answer in the same transaction as its key (the real-time
        ingest, ``pipeline_realtime``): ``attempt`` runs it, or finds what the key holds; a
        ``new`` reservation carries the answer it just stored."""
        return await self._answer(attempt, None)

    async def _answer(
        self,
        attempt: Callable[[], Awaitable[Reservation]],
        first: Callable[[], Awaitable[Response]] | None,
    ) -> Response:
        deadline = time.monotonic() + self._wait_s
        delay = self._poll_s
        while True:
            found = await attempt()
            self._metrics.idempotency.labels(found.state).inc()
            if found.state == "new":
                if first is not None:
                    return await first()
                assert found.status_code is not None and found.body is not None
                return Response(found.body, status_code=found.status_code,
                                media_type=found.content_type)  # fmt: skip
            if found.state == "replay":
                assert found.status_code is not None and found.body is not None
                return Response(
                    found.body,
                    status_code=found.status_code,
                    media_type=found.content_type or "application/json",
                    headers={REPLAY_HEADER: "true"},
                )
            if found.state == "mismatch":
                raise ApiProblem(
                    409,
                    "this Idempotency-Key was used with a different request",
                    slug="idempotency-key-reused",
                )
            if time.monotonic() + delay > deadline:
                raise ApiProblem(
                    409,
                    "a request with this Idempotency-Key is still in progress",
                    headers={"Retry-After": "1"},
                    slug="idempotency-in-progress",
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    async def _first(self, ids: tuple[str, str, str], work: Work) -> Response:
        try:
            status, model = await work()
            body, media_type = model.model_dump_json(), "application/json"
            headers: dict[str, str] = {}
        except Exception as exc:
            status, problem, headers = problem_for(exc)
            if status >= 500:
                await self._run(self._store.release, *ids)
                raise
            body = JSONResponse(problem).body.decode()
            media_type = PROBLEM_MEDIA_TYPE
        await self._run(self._store.complete, *ids, status, media_type, body)
        return Response(body, status_code=status, media_type=media_type, headers=headers)
