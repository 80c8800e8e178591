"""Unusual activity: the raised alerts with why, and the owner's "this is expected"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from ledgerlens.core.errors import ValidationError
from ledgerlens.core.money import format_minor
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.errors import PROBLEM_MEDIA_TYPE, ApiProblem
from ledgerlens.serve.reviewing import (
    load_line,
    mark_expected,
    mark_expected_available,
    unusual_activity,
)
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.forecast import AnomalyList, AnomalyOut, ExpectedOut
from ledgerlens.serve.schemas.ledger import TransactionOut
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["anomalies"])
_NOT_IMPLEMENTED = {
    501: {
        "description": "Not implemented yet (the anomaly stage has not wired feedback)",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": {
                    "type": "/problems/not-implemented",
                    "title": "Error",
                    "status": 501,
                    "detail": "marking lines expected is not available yet",
                },
            }
        },
    }
}


@router.get(
    "/{business_id}/anomalies",
    response_model=AnomalyList,
    responses=READ_ERRORS,
    summary="Unusual activity to review, highest score first",
)
async def list_anomalies(
    business_id: BusinessId,
    principal: CurrentPrincipal,
    state: State,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AnomalyList:
    authorize(principal, business_id, Permission.READ_LEDGER)
    lines, scored, budget = await run_in_threadpool(
        unusual_activity, state.read_uow, business_id, limit
    )
    pii = principal.sees_pii(business_id)
    items = []
    for line in lines:
        t, r = line.transaction, line.result
        shown = TransactionOut.of(t, pii)
        items.append(
            AnomalyOut(
                transaction_id=t.transaction_id, booking_date=t.booking_date,
                amount=format_minor(t.amount_minor, t.currency), currency=t.currency,
                description=shown.description, counterparty_name=shown.counterparty_name,
                score=round(min(max(r.score, 0.0), 1.0), 4), kind=r.kind,
                reasons=list(r.reasons), source=r.source,
                confidence=round(min(max(r.confidence, 0.0), 1.0), 4),
                evidence={str(k): str(v) for k, v in r.evidence},
            )
        )  # fmt: skip
    return AnomalyList(items=items, transactions=scored, max_alerts=budget)


@router.post(
    "/{business_id}/anomalies/{transaction_id}/expected",
    response_model=ExpectedOut,
    responses={**READ_ERRORS, **_NOT_IMPLEMENTED},
    summary='Mark an unusual transaction "expected": similar ones stop alerting',
)
async def post_expected(
    business_id: BusinessId,
    transaction_id: Annotated[str, Path(min_length=1, max_length=128)],
    principal: CurrentPrincipal,
    state: State,
) -> ExpectedOut:
    authorize(principal, business_id, Permission.ANNOTATE)
    await run_in_threadpool(load_line, state.read_uow, business_id, transaction_id)
    if not mark_expected_available():
        raise ApiProblem(501, "marking lines expected is not available yet", slug="not-implemented")
    try:
        stored = await state.writes.run(
            mark_expected, state.services, business_id, transaction_id, principal.subject
        )
    except ValidationError as exc:  # no raised alert on this line: nothing to mark
        raise ApiProblem(422, str(exc), slug="refused") from None
    return ExpectedOut(transaction_id=transaction_id, stored=stored)
