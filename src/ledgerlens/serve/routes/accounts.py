"""A business's accounts (identifiers masked for bank staff without a PII grant)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Account
from ledgerlens.serve.deps import ApiState, BusinessId, CurrentPrincipal, State
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.ledger import AccountList, AccountOut
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["accounts"])


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
