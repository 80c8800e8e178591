"""The hash-chained decision log of one business, with the chain verified (bank staff only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from ledgerlens.serve.deps import CurrentPrincipal, State
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.decisions import AuditEntryOut, AuditList, ChainOut
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(tags=["audit"])


@router.get(
    "/v1/audit", response_model=AuditList, responses=READ_ERRORS,
    summary="A business's decision log entries and the chain verification (bank staff)",
)  # fmt: skip
async def get_audit(
    principal: CurrentPrincipal,
    state: State,
    business_id: Annotated[str, Query(min_length=1, max_length=128)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AuditList:
    authorize(principal, business_id, Permission.AUDIT)
    log = state.services.audit_log
    entries = await run_in_threadpool(log.entries, business_id)
    report = await run_in_threadpool(log.verify_chain, business_id)
    items = [
        AuditEntryOut(
            position=e.position, decided_at=e.decided_at, kind=e.kind, subject=e.subject,
            inputs=e.inputs, outputs=e.outputs, reason_codes=list(e.reason_codes),
            reasons=list(e.reasons), versions=list(e.versions), confidence=e.confidence,
            source=e.source, prev_hash=e.prev_hash, hash=e.hash,
        )
        for e in entries[-limit:]
    ]  # fmt: skip
    verification = ChainOut(ok=report.ok, entries=report.entries, problems=list(report.problems))
    return AuditList(business_id=business_id, items=items, verification=verification)
