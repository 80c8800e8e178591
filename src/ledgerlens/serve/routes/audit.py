"""The hash-chained decision log of one business, with the chain verified (bank staff only).

A reviewer pages through it newest first, narrowed by decision kind, subject (e.g.
``insight:<id>``, ``card_authorization``) and a ``decided_at`` window; ``next_cursor`` carries
the chain position of the last entry served, bound to the filters (a cursor from one query is
refused by another). Every page reports the verification of the business's whole chain: a
row edited or deleted anywhere shows, whatever page is read.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from ledgerlens.decide.audit_chain import AuditQuery
from ledgerlens.serve.deps import CurrentPrincipal, State
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.pagination import decode_keyset, encode_keyset
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.decisions import AuditEntryOut, AuditList, ChainOut
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(tags=["audit"])


def _tag(business_id: str, query: AuditQuery) -> str:
    """The cursor's tag: this listing under these filters."""
    filters = (business_id, query.kind, query.subject, query.since, query.until)
    return "audit:" + hashlib.sha256(repr(filters).encode()).hexdigest()[:12]


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ApiProblem(422, f"{name}: a timestamp with a UTC offset (e.g. 2026-01-31T00:00:00Z)",
                         slug="refused")  # fmt: skip
    return value


@router.get(
    "/v1/audit", response_model=AuditList, responses=READ_ERRORS,
    summary="A business's decision log, newest first, with the chain verification (bank staff)",
)  # fmt: skip
async def get_audit(
    principal: CurrentPrincipal,
    state: State,
    business_id: Annotated[str, Query(min_length=1, max_length=128)],
    kind: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    subject: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    since: Annotated[datetime | None, Query(description="decided at or after")] = None,
    until: Annotated[datetime | None, Query(description="decided before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditList:
    authorize(principal, business_id, Permission.AUDIT)
    query = AuditQuery(kind, subject, _aware(since, "since"), _aware(until, "until"),
                       limit=limit + 1)  # fmt: skip
    tag = _tag(business_id, query)
    if cursor is not None:
        query = AuditQuery(query.kind, query.subject, query.since, query.until,
                           decode_keyset(cursor, tag, int), limit + 1)  # fmt: skip
    log = state.services.audit_log
    entries = await run_in_threadpool(log.page, business_id, query)
    report = await run_in_threadpool(log.verify_chain, business_id)
    page, more = entries[:limit], len(entries) > limit
    items = [
        AuditEntryOut(
            position=e.position, decided_at=e.decided_at, kind=e.kind, subject=e.subject,
            inputs=e.inputs, outputs=e.outputs, reason_codes=list(e.reason_codes),
            reasons=list(e.reasons), versions=list(e.versions), confidence=e.confidence,
            source=e.source, prev_hash=e.prev_hash, hash=e.hash,
        )
        for e in page
    ]  # fmt: skip
    verification = ChainOut(ok=report.ok, entries=report.entries, problems=list(report.problems))
    next_cursor = encode_keyset(tag, page[-1].position) if more and page else None
    return AuditList(
        business_id=business_id, items=items, verification=verification, next_cursor=next_cursor
    )
