"""Transactions: search (filters, cursor pages, ETag), one by id, and real-time ingestion."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from ledgerlens.adapters.db.transaction_search import SearchHit, TransactionFilter
from ledgerlens.core.errors import LedgerLensError, NotFound
from ledgerlens.core.ledger import AnnotationKind, Transaction
from ledgerlens.core.ports import Reservation
from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.ingest.realtime import IngestResult
from ledgerlens.pipeline import IngestTransactions, dispatch
from ledgerlens.pipeline_realtime import KeyedIngest
from ledgerlens.serve.deps import ApiState, BusinessId, CurrentPrincipal, IdempotencyKey, State
from ledgerlens.serve.errors import PROBLEM_MEDIA_TYPE, ApiProblem, problem_for
from ledgerlens.serve.idempotency import request_fingerprint
from ledgerlens.serve.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from ledgerlens.serve.routes import READ_ERRORS, WRITE_ERRORS
from ledgerlens.serve.schemas.ingest import IngestResultOut, TransactionBatchIn
from ledgerlens.serve.schemas.ledger import TransactionOut, TransactionPage
from ledgerlens.serve.schemas.types import IsoDate
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["transactions"])

AmountQuery = Annotated[
    str | None,
    Query(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$", description="signed decimal, inclusive"),
]


def _known_category(code: str | None) -> str | None:
    """An unknown leaf code is a 422 naming ``category`` (it would otherwise match nothing and
    look like an empty ledger). Semantic, like recategorizing: the taxonomy is data."""
    if code is not None and code not in load_taxonomy():
        raise ApiProblem(
            422, "category: not a category leaf (see GET /v1/taxonomy)", slug="refused"
        )
    return code


CategoryQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        description="exact taxonomy leaf code (GET /v1/taxonomy), e.g. opex.software_subscriptions",
    ),
]
_LIST_RESPONSES = {
    **READ_ERRORS,
    200: {"headers": {"ETag": {"schema": {"type": "string"}}}},
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
}
_INGEST_RESPONSES = {
    **WRITE_ERRORS,
    200: {"model": IngestResultOut, "description": "Nothing new: every row was already stored"},
    201: {"model": IngestResultOut, "description": "New transactions stored"},
}


def _page(
    state: ApiState,
    business_id: str,
    flt: TransactionFilter,
    limit: int,
    after: tuple[date, int] | None,
) -> list[SearchHit]:
    rows = state.search.search(business_id, flt, limit + 1, after)
    if rows is None:
        raise NotFound("no such business")
    return rows


@router.get(
    "/{business_id}/transactions",
    response_model=TransactionPage,
    responses=_LIST_RESPONSES,
    summary="Search transactions, newest first",
)
async def list_transactions(
    business_id: BusinessId,
    principal: CurrentPrincipal,
    state: State,
    account_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    since: Annotated[IsoDate | None, Query(description="first booking date, inclusive")] = None,
    until: Annotated[IsoDate | None, Query(description="last booking date, inclusive")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="text")] = None,
    min_amount: AmountQuery = None,
    max_amount: AmountQuery = None,
    category: CategoryQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    authorize(principal, business_id, Permission.READ_LEDGER)
    flt = TransactionFilter(
        account_id=account_id,
        since=since,
        until=until,
        text=q,
        min_amount=Decimal(min_amount) if min_amount is not None else None,
        max_amount=Decimal(max_amount) if max_amount is not None else None,
        category=_known_category(category),
    )
    after = decode_cursor(cursor, flt) if cursor else None
    rows = await run_in_threadpool(_page, state, business_id, flt, limit, after)
    pii = principal.sees_pii(business_id)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if more else None
    next_cursor = encode_cursor(last.transaction.booking_date, last.seq, flt) if last else None
    body = TransactionPage(
        items=[TransactionOut.of(h.transaction, pii, h.category) for h in page],
        next_cursor=next_cursor,
    ).model_dump_json()
    etag = f'W/"{hashlib.sha256(body.encode()).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if if_none_match and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _one(state: ApiState, business_id: str, transaction_id: str) -> tuple[Transaction, str]:
    """The transaction and its current category ("" when none), read in one transaction."""
    with state.read_uow() as uow:
        tx, category = None, ""
        if uow.businesses.get(business_id) is not None:
            scope = uow.scope(business_id)
            tx = scope.transactions.get(transaction_id)
            if tx is not None:
                category = next(
                    (
                        a.value
                        for a in scope.annotations.for_transactions([transaction_id])
                        if a.kind is AnnotationKind.CATEGORY
                    ),
                    "",
                )
    if tx is None:
        raise NotFound("no such transaction")
    return tx, category


@router.get(
    "/{business_id}/transactions/{transaction_id}",
    response_model=TransactionOut,
    responses=READ_ERRORS,
)
async def get_transaction(
    business_id: BusinessId,
    transaction_id: Annotated[str, Path(min_length=1, max_length=128)],
    principal: CurrentPrincipal,
    state: State,
) -> TransactionOut:
    authorize(principal, business_id, Permission.READ_LEDGER)
    tx, category = await run_in_threadpool(_one, state, business_id, transaction_id)
    return TransactionOut.of(tx, principal.sees_pii(business_id), category)


@router.post(
    "/{business_id}/transactions",
    status_code=201,
    response_model=IngestResultOut,
    responses=_INGEST_RESPONSES,
    summary="Ingest up to 1,000 transactions in real time",
)
async def ingest_transactions(
    business_id: BusinessId,
    batch: TransactionBatchIn,
    principal: CurrentPrincipal,
    state: State,
    idempotency_key: IdempotencyKey,
    request: Request,
) -> Response:
    authorize(principal, business_id, Permission.INGEST)
    fingerprint = request_fingerprint("POST", request.url.path, batch.model_dump_json().encode())
    command = IngestTransactions(business_id, tuple(t.to_incoming() for t in batch.transactions))
    group = state.ingest_group
    if group is not None:  # SQLite: key, lines and answer in one transaction, grouped
        item = KeyedIngest(command, principal.subject, idempotency_key, fingerprint)

        async def attempt() -> Reservation:
            outcome = await group.submit(item)
            if outcome.result is not None:
                state.metrics.transactions_ingested.inc(outcome.result.created)
                if outcome.result.created:
                    state.refresh.schedule(business_id)
            reservation: Reservation = outcome.reservation
            return reservation

        return await state.idempotency.run_in_transaction(attempt)

    async def work() -> tuple[int, IngestResultOut]:
        # stored, enriched and scored before the answer; forecast and insights follow (coalesced)
        result = await state.writes.run(dispatch, command, state.services)
        state.metrics.transactions_ingested.inc(result.created)
        if result.created:
            state.refresh.schedule(business_id)
        out = IngestResultOut(
            received=result.received, created=result.created, duplicates=result.duplicates
        )
        return (201 if result.created else 200), out

    return await state.idempotency.run(principal, business_id, idempotency_key, fingerprint, work)


def ingest_answer(outcome: IngestResult | LedgerLensError) -> tuple[int, str, str]:
    """What a real-time ingest answers, as stored under its ``Idempotency-Key``: 201 with the
    counts when something was new, 200 when every row was a duplicate, else the problem."""
    if isinstance(outcome, IngestResult):
        out = IngestResultOut(
            received=outcome.received, created=outcome.created, duplicates=outcome.duplicates
        )
        return (201 if outcome.created else 200), "application/json", out.model_dump_json()
    status, problem, _ = problem_for(outcome)
    return status, PROBLEM_MEDIA_TYPE, bytes(JSONResponse(problem).body).decode()
