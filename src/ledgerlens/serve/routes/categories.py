"""Categories: the taxonomy, the stored category of listed lines, and the owner's correction
(``PATCH …/transactions/{id}``) that similar lines follow at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.reviewing import CategoryView, categories_for, recategorize_and_follow
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.forecast import (
    CategoryAssignment,
    CategoryList,
    RecategorizeIn,
    RecategorizeOut,
    TaxonomyLeafOut,
    TaxonomyOut,
)
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(tags=["categories"])
_MAX_IDS = 200


def _out(v: CategoryView) -> CategoryAssignment:
    return CategoryAssignment(
        transaction_id=v.transaction_id, category=v.category, label=v.label,
        confidence=round(v.confidence, 4), source=v.source, reasons=list(v.reasons),
    )  # fmt: skip


@router.get(
    "/v1/taxonomy", response_model=TaxonomyOut, responses=READ_ERRORS,
    summary="The category leaves (any signed-in caller)",
)  # fmt: skip
async def get_taxonomy(principal: CurrentPrincipal) -> TaxonomyOut:
    tax = load_taxonomy()
    leaves = [TaxonomyLeafOut(code=c, label=tax[c].label, group=tax[c].group) for c in tax.codes]
    return TaxonomyOut(version=tax.version, leaves=leaves)


@router.get(
    "/v1/businesses/{business_id}/categories",
    response_model=CategoryList,
    responses=READ_ERRORS,
    summary="The stored category of the given transactions",
)
async def list_categories(
    business_id: BusinessId,
    principal: CurrentPrincipal,
    state: State,
    ids: Annotated[str, Query(min_length=1, max_length=8000, description="comma-separated ids")],
) -> CategoryList:
    authorize(principal, business_id, Permission.READ_LEDGER)
    wanted = [i for i in dict.fromkeys(ids.split(",")) if i][:_MAX_IDS]
    views = await run_in_threadpool(categories_for, state.read_uow, business_id, wanted)
    return CategoryList(items=[_out(v) for v in views])


@router.patch(
    "/v1/businesses/{business_id}/transactions/{transaction_id}",
    response_model=RecategorizeOut,
    responses=READ_ERRORS,
    summary="Recategorize a transaction; similar transactions follow",
)
async def recategorize_transaction(
    business_id: BusinessId,
    transaction_id: Annotated[str, Path(min_length=1, max_length=128)],
    body: RecategorizeIn,
    principal: CurrentPrincipal,
    state: State,
) -> RecategorizeOut:
    authorize(principal, business_id, Permission.ANNOTATE)
    if body.category not in load_taxonomy():
        raise ApiProblem(422, "not a category leaf (see GET /v1/taxonomy)", slug="refused")
    result, mine, followed = await state.writes.run(
        recategorize_and_follow, state.services, business_id, transaction_id, body.category,
        principal.subject,
    )  # fmt: skip
    return RecategorizeOut(
        transaction=_out(mine), followed=[_out(v) for v in followed],
        correction_id=result.correction_id, training_example=result.training_example,
    )  # fmt: skip
