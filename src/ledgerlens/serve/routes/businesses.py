"""The business (tenant) itself."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Business
from ledgerlens.serve.deps import ApiState, BusinessId, CurrentPrincipal, State
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.ledger import BusinessOut
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])


def load_business(state: ApiState, business_id: str) -> Business:
    """The business, or ``NotFound`` (blocking: call it in the thread pool)."""
    with state.read_uow() as uow:
        business = uow.businesses.get(business_id)
    if business is None:
        raise NotFound("no such business")
    return business


@router.get("/{business_id}", response_model=BusinessOut, responses=READ_ERRORS)
async def get_business(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> BusinessOut:
    authorize(principal, business_id, Permission.READ_BUSINESS)
    return BusinessOut.of(await run_in_threadpool(load_business, state, business_id))
