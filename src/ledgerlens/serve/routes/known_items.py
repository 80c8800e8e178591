"""Known future items: the open invoices and scheduled payments the bank's systems know of.

    PUT  /v1/businesses/{b}/known-items/{item_id}          create (201) or replace (200)
    GET  /v1/businesses/{b}/known-items?status=open        list (open, settled, cancelled, all)
    GET  /v1/businesses/{b}/known-items/{item_id}          one item
    POST /v1/businesses/{b}/known-items/{item_id}/settle   it happened: it stops counting
    POST /v1/businesses/{b}/known-items/{item_id}/cancel   it will not happen: it stops counting

Writes need the owner's ``manage`` or the bank systems' ``ingest`` permission; reads
``read_ledger`` (or ``ingest``: a system reads back what it wrote). An identical re-PUT changes
nothing; a settled or cancelled item is final. Open items count in the served forecast
(``serve.forecasting.load_forecast``) and in the insights refresh, which every change schedules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import CurrencyError, NotFound, ValidationError
from ledgerlens.core.money import format_minor, to_minor
from ledgerlens.core.ports import KnownItemRecord, KnownItemStatus, UnitOfWork
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.errors import field_refused, problem_responses
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.known_items import KnownItemIn, KnownItemList, KnownItemResource
from ledgerlens.serve.security import Forbidden, Permission, Principal, authorize

__all__ = ["router"]

router = APIRouter(prefix="/v1/businesses", tags=["known items"])

ItemId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="the client's own id of the item, unique per business",
    ),
]
_WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)
_EARLIEST, _LATEST = datetime(1970, 1, 1).date(), datetime(2199, 12, 31).date()


def _authorize(principal: Principal, business_id: str, *permissions: Permission) -> None:
    """Pass on the first permission the caller's role holds (404/403 as ``authorize``)."""
    denied: Forbidden | None = None
    for permission in permissions:
        try:
            authorize(principal, business_id, permission)
            return
        except Forbidden as exc:
            denied = denied or exc
    assert denied is not None
    raise denied


def _out(r: KnownItemRecord) -> KnownItemResource:
    assert r.created_at is not None and r.updated_at is not None
    return KnownItemResource(
        item_id=r.item_id, kind=r.kind, account_id=r.account_id, counterparty=r.counterparty,
        due_date=r.due_date, amount=format_minor(r.amount_minor, r.currency),
        currency=r.currency, reference=r.reference, label=r.label, status=r.status,
        created_at=r.created_at, updated_at=r.updated_at,
    )  # fmt: skip


def _record(business_id: str, item_id: str, body: KnownItemIn) -> KnownItemRecord:
    if not _EARLIEST <= body.due_date <= _LATEST:
        raise field_refused("due_date", f"must be between {_EARLIEST} and {_LATEST}")
    try:
        amount = to_minor(body.amount, body.currency)
    except CurrencyError as exc:
        raise field_refused("currency", str(exc)) from None
    except ValidationError as exc:  # more decimals than the currency has
        raise field_refused("amount", str(exc)) from None
    if body.kind == "invoice" and amount <= 0:
        raise field_refused("amount", "an invoice is money owed to the business: it must be > 0")
    return KnownItemRecord(
        business_id=business_id, item_id=item_id, kind=body.kind, account_id=body.account_id,
        due_date=body.due_date, amount_minor=amount, currency=body.currency,
        counterparty=body.counterparty, reference=body.reference, label=body.label,
    )  # fmt: skip


def _put(state: Any, item: KnownItemRecord) -> tuple[KnownItemRecord, bool, bool]:
    """(stored item, created, changed)."""
    with state.services.uow_factory() as uow:
        if uow.businesses.get(item.business_id) is None:
            raise NotFound("no such business")
        scope = uow.scope(item.business_id)
        account = scope.accounts.get(item.account_id)
        if account is None or account.business_id != item.business_id:
            raise field_refused("account_id", "not an account of this business")
        if account.currency != item.currency:
            raise field_refused(
                "currency", f"{item.currency} is not the account's currency ({account.currency})"
            )
        created = scope.known_items.get(item.item_id) is None
        out, changed = scope.known_items.upsert(item, datetime.now(UTC))
        if changed:
            uow.commit()
    return out, created and changed, changed


def _set_status(
    state: Any, business_id: str, item_id: str, status: KnownItemStatus
) -> tuple[KnownItemRecord, bool]:
    with state.services.uow_factory() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
        known = uow.scope(business_id).known_items
        before = known.get(item_id)
        out = known.set_status(item_id, status, datetime.now(UTC))
        if out is None or before is None:
            raise NotFound("no such known item")
        changed = out.status != before.status
        if changed:
            uow.commit()
    return out, changed


def _read(
    read_uow: Any, business_id: str, item_id: str | None, status: KnownItemStatus | None
) -> list[KnownItemRecord]:
    uow: UnitOfWork
    with read_uow() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
        known = uow.scope(business_id).known_items
        if item_id is None:
            return known.list(status=status)
        found = known.get(item_id)
    if found is None:
        raise NotFound("no such known item")
    return [found]


@router.put(
    "/{business_id}/known-items/{item_id}", response_model=KnownItemResource,
    responses={201: {"model": KnownItemResource, "description": "created"}, **_WRITE_ERRORS},
    summary="Register or replace an open invoice or scheduled payment (owner or bank system)",
)  # fmt: skip
async def put_known_item(
    business_id: BusinessId,
    item_id: ItemId,
    body: KnownItemIn,
    principal: CurrentPrincipal,
    state: State,
    response: Response,
) -> Any:
    _authorize(principal, business_id, Permission.MANAGE, Permission.INGEST)
    item = _record(business_id, item_id, body)
    out, created, changed = await state.writes.run(_put, state, item)
    if changed:
        state.refresh.schedule(business_id)
    response.status_code = 201 if created else 200
    return _out(out)


@router.get(
    "/{business_id}/known-items", response_model=KnownItemList, responses=READ_ERRORS,
    summary="The business's known future items (default: the open ones, by due date)",
)  # fmt: skip
async def list_known_items(
    business_id: BusinessId,
    principal: CurrentPrincipal,
    state: State,
    status: Annotated[
        Literal["open", "settled", "cancelled", "all"], Query(description="which items")
    ] = "open",
) -> KnownItemList:
    _authorize(principal, business_id, Permission.READ_LEDGER, Permission.INGEST)
    wanted: KnownItemStatus | None = None if status == "all" else status
    rows = await run_in_threadpool(_read, state.read_uow, business_id, None, wanted)
    return KnownItemList(items=[_out(r) for r in rows])


@router.get(
    "/{business_id}/known-items/{item_id}", response_model=KnownItemResource,
    responses=READ_ERRORS, summary="One known future item",
)  # fmt: skip
async def get_known_item(
    business_id: BusinessId, item_id: ItemId, principal: CurrentPrincipal, state: State
) -> KnownItemResource:
    _authorize(principal, business_id, Permission.READ_LEDGER, Permission.INGEST)
    rows = await run_in_threadpool(_read, state.read_uow, business_id, item_id, None)
    return _out(rows[0])


async def _change(
    state: Any, principal: Principal, business_id: str, item_id: str, status: KnownItemStatus
) -> KnownItemResource:
    _authorize(principal, business_id, Permission.MANAGE, Permission.INGEST)
    out, changed = await state.writes.run(_set_status, state, business_id, item_id, status)
    if changed:
        state.refresh.schedule(business_id)
    return _out(out)


@router.post(
    "/{business_id}/known-items/{item_id}/settle", response_model=KnownItemResource,
    responses=_WRITE_ERRORS,
    summary="Mark the item settled: it happened and stops counting (again: no change)",
)  # fmt: skip
async def settle_known_item(
    business_id: BusinessId, item_id: ItemId, principal: CurrentPrincipal, state: State
) -> KnownItemResource:
    return await _change(state, principal, business_id, item_id, "settled")


@router.post(
    "/{business_id}/known-items/{item_id}/cancel", response_model=KnownItemResource,
    responses=_WRITE_ERRORS,
    summary="Cancel the item: it will not happen and stops counting (again: no change)",
)  # fmt: skip
async def cancel_known_item(
    business_id: BusinessId, item_id: ItemId, principal: CurrentPrincipal, state: State
) -> KnownItemResource:
    return await _change(state, principal, business_id, item_id, "cancelled")
