"""A business's accounts: the list (identifiers masked for bank staff without a PII grant), and
adding one (the ``ledgerlens:onboard`` scope; ``Idempotency-Key`` required).

An IBAN is checked (ISO 13616 check digits, the country's length) before anything is stored;
a refusal names the field and never echoes the value, and no IBAN reaches a log line.
"""

from __future__ import annotations

import json

import structlog
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import Conflict, NotFound
from ledgerlens.core.ledger import Account
from ledgerlens.serve.deps import ApiState, BusinessId, CurrentPrincipal, IdempotencyKey, State
from ledgerlens.serve.errors import field_refused
from ledgerlens.serve.idempotency import request_fingerprint
from ledgerlens.serve.routes import READ_ERRORS, WRITE_ERRORS
from ledgerlens.serve.schemas.ledger import AccountList, AccountOut
from ledgerlens.serve.schemas.onboarding import AccountIn, iban_problem, normalize_iban
from ledgerlens.serve.security import Permission, authorize, authorize_onboarding

router = APIRouter(prefix="/v1/businesses", tags=["accounts"])
log = structlog.get_logger("ledgerlens.serve")


def _accounts(state: ApiState, business_id: str) -> list[Account]:
    with state.read_uow() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
        return uow.scope(business_id).accounts.list()


@router.get("/{business_id}/accounts", response_model=AccountList, responses=READ_ERRORS)
async def list_accounts(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> AccountList:
    authorize(principal, business_id, Permission.READ_BUSINESS)
    pii = principal.sees_pii(business_id)
    rows = await run_in_threadpool(_accounts, state, business_id)
    return AccountList(items=[AccountOut.of(a, pii) for a in rows])


def _identifier(body: AccountIn) -> str:
    """The account's identifier (an IBAN in its electronic form); a 422 naming the field."""
    if body.iban is not None and body.account_number is not None:
        raise field_refused("iban", "give an iban or an account_number, not both")
    if body.account_number is not None:
        return body.account_number
    if body.iban is None:
        raise field_refused("iban", "an iban (or an account_number) is required", "missing")
    iban = normalize_iban(body.iban)
    why = iban_problem(iban)
    if why is not None:
        raise field_refused("iban", why)
    return iban


def _add_account(state: ApiState, business_id: str, body: AccountIn, identifier: str) -> Account:
    account = Account(
        body.account_id, business_id, identifier, body.currency, body.account_type, body.name
    )
    with state.container.uow_factory() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
        scope = uow.scope(business_id)
        if scope.accounts.get(account.account_id) is not None:
            raise Conflict("account_id is taken")
        if scope.accounts.find(identifier, account.currency) is not None:
            raise Conflict("the business has an account with this identifier and currency")
        try:
            scope.accounts.add(account)
        except Conflict:  # the id is another business's: its message may quote the row
            raise Conflict("account_id is taken") from None
        uow.commit()
    log.info(
        "account added", business_id=business_id, account_id=account.account_id,
        account_type=str(account.account_type), currency=account.currency,
    )  # fmt: skip
    return account


@router.post(
    "/{business_id}/accounts", status_code=201, response_model=AccountOut,
    responses=WRITE_ERRORS,
    summary="Add an account to the business (ledgerlens:onboard scope; Idempotency-Key)",
)  # fmt: skip
async def create_account(
    business_id: BusinessId,
    body: AccountIn,
    principal: CurrentPrincipal,
    state: State,
    idempotency_key: IdempotencyKey,
    request: Request,
) -> Response:
    authorize_onboarding(principal, business_id)
    identifier = _identifier(body)
    payload = json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    fingerprint = request_fingerprint("POST", request.url.path, payload)
    pii = principal.sees_pii(business_id)

    async def work() -> tuple[int, AccountOut]:
        account = await state.writes.run(_add_account, state, business_id, body, identifier)
        return 201, AccountOut.of(account, pii)

    return await state.idempotency.run(principal, business_id, idempotency_key, fingerprint, work)
