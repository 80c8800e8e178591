"""The business (tenant) itself: read one, list them, and onboard a new one.

Onboarding (``POST /v1/businesses``) and the full list are for tokens with the
``ledgerlens:onboard`` scope (the bank's onboarding backend); any other token lists only the
businesses it holds a role on. Creating is idempotent under ``Idempotency-Key``: the keys of
business creation share one namespace per token subject (not per business), so a key reused
for another business is refused (409) instead of creating a second one.
"""

from __future__ import annotations

import json
from itertools import islice
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import Conflict, NotFound
from ledgerlens.core.ledger import Business
from ledgerlens.serve.deps import ApiState, BusinessId, CurrentPrincipal, IdempotencyKey, State
from ledgerlens.serve.idempotency import request_fingerprint
from ledgerlens.serve.pagination import MAX_LIMIT, decode_keyset, encode_keyset
from ledgerlens.serve.routes import READ_ERRORS, WRITE_ERRORS
from ledgerlens.serve.schemas.ledger import BusinessOut
from ledgerlens.serve.schemas.onboarding import BusinessIn, BusinessPage
from ledgerlens.serve.security import Permission, Principal, authorize, authorize_onboarding

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])
log = structlog.get_logger("ledgerlens.serve")

#: the idempotency namespace of business creation: no business id is empty (paths need one)
ONBOARDING_KEYS = ""
_CURSOR_TAG = "businesses"  # keyset cursors: the last business id served


def load_business(state: ApiState, business_id: str) -> Business:
    """The business, or ``NotFound`` (blocking: call it in the thread pool)."""
    with state.read_uow() as uow:
        business = uow.businesses.get(business_id)
    if business is None:
        raise NotFound("no such business")
    return business


def _page(state: ApiState, principal: Principal, after: str | None, limit: int) -> list[Business]:
    """Up to ``limit + 1`` businesses after ``after``, by id: all of them for the onboarding
    scope, else those the token holds a role on."""
    with state.read_uow() as uow:
        if principal.onboard:  # keyset paging in the database: never every tenant at once
            return uow.businesses.page(after, limit + 1)
        own = sorted(b for b in principal.roles if after is None or b > after)
        found = (uow.businesses.get(b) for b in own)
        return list(islice((b for b in found if b is not None), limit + 1))


@router.get(
    "", response_model=BusinessPage, responses=READ_ERRORS,
    summary="Businesses by id: every one with the ledgerlens:onboard scope, else the token's own",
)  # fmt: skip
async def list_businesses(
    principal: CurrentPrincipal,
    state: State,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> BusinessPage:
    after = decode_keyset(cursor, _CURSOR_TAG, str) if cursor is not None else None
    rows = await run_in_threadpool(_page, state, principal, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_keyset(_CURSOR_TAG, rows[-1].business_id) if more and rows else None
    return BusinessPage(items=[BusinessOut.of(b) for b in rows], next_cursor=next_cursor)


def _create_business(state: ApiState, body: BusinessIn, actor: str) -> Business:
    business = Business(body.business_id, body.name, body.country, body.base_currency)
    with state.container.uow_factory() as uow:
        if uow.businesses.get(business.business_id) is not None:
            raise Conflict("a business with this business_id exists already")
        uow.businesses.add(business)
        uow.commit()
    log.info("business onboarded", business_id=business.business_id, actor=actor)
    return business


_CREATED: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "The business was registered (or this is the replay of that answer)",
        "headers": {"Location": {"description": "the new business", "schema": {"type": "string"}}},
    }
}


@router.post(
    "", status_code=201, response_model=BusinessOut, responses={**WRITE_ERRORS, **_CREATED},
    summary="Register a business (ledgerlens:onboard scope; Idempotency-Key required)",
)  # fmt: skip
async def create_business(
    body: BusinessIn,
    principal: CurrentPrincipal,
    state: State,
    idempotency_key: IdempotencyKey,
    request: Request,
) -> Response:
    authorize_onboarding(principal)
    payload = json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    fingerprint = request_fingerprint("POST", request.url.path, payload)

    async def work() -> tuple[int, BusinessOut]:
        business = await state.writes.run(_create_business, state, body, principal.subject)
        return 201, BusinessOut.of(business)

    response = await state.idempotency.run(
        principal, ONBOARDING_KEYS, idempotency_key, fingerprint, work
    )
    if response.status_code == 201:
        response.headers["Location"] = f"/v1/businesses/{quote(body.business_id, safe='')}"
    return response


@router.get("/{business_id}", response_model=BusinessOut, responses=READ_ERRORS)
async def get_business(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> BusinessOut:
    authorize(principal, business_id, Permission.READ_BUSINESS)
    return BusinessOut.of(await run_in_threadpool(load_business, state, business_id))
