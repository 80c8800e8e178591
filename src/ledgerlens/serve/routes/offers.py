"""Offers and recommendations: the latest ``DecideForBusiness`` run, read back from the audit log.

Every decision is in the hash-chained log, so the log is also where the offers are read from:
the latest run starts at its last block of limit decisions (each run decides limits first).
When the log holds no run yet, one is computed (and audited) on the first read. Without the
``offers`` consent nothing is shown: 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from ledgerlens.core.errors import ConsentRequired, NotFound
from ledgerlens.core.ledger import Purpose
from ledgerlens.decide.audit_chain import AuditEntry
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_decide import DecideForBusiness, DismissRecommendation
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.decisions import DismissOut, OfferList, OfferOut
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["offers"])
_SHOWN = ("offer", "recommendation")


def _is_run_limit(e: AuditEntry) -> bool:
    return e.kind == "limit" and e.subject.endswith("_limit")


def _latest_run(entries: list[AuditEntry]) -> list[AuditEntry]:
    """The offers and recommendations of the latest run, minus products dismissed since."""
    ends = [k for k, e in enumerate(entries) if _is_run_limit(e)]
    if not ends:
        return []
    start = ends[-1]
    while start > 0 and _is_run_limit(entries[start - 1]):
        start -= 1
    dismissed = {e.subject for e in entries if e.kind == "feedback" and e.outputs.get("dismissed")}
    return [e for e in entries[start:] if e.kind in _SHOWN and e.subject not in dismissed]


def _offers(state: Any, business_id: str) -> list[AuditEntry]:
    with state.read_uow() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
        if Purpose.OFFERS not in set(uow.scope(business_id).consents.active()):
            raise ConsentRequired("the offers consent is not granted")
    log = state.services.audit_log
    entries = log.entries(business_id)
    if not any(_is_run_limit(e) for e in entries):
        dispatch(DecideForBusiness(business_id), state.services)
        entries = log.entries(business_id)
    return _latest_run(entries)


def _catalog() -> dict[str, dict[str, Any]]:
    from ledgerlens.decide.recommend import load_catalog

    return {str(p["code"]): p for p in load_catalog().products}


def _out(e: AuditEntry) -> OfferOut:
    out, product = e.outputs, _catalog().get(e.subject, {})
    title = str(product.get("name") or out.get("title") or e.subject.replace("_", " "))
    return OfferOut(
        offer_id=e.subject, kind=e.kind, product=e.subject, title=title,  # type: ignore[arg-type]
        message=str(product.get("message") or ""),
        reasons=list(e.reasons), reason_codes=list(e.reason_codes),
        confidence=min(max(e.confidence, 0.0), 1.0), source=e.source, decided_at=e.decided_at,
        details={k: v for k, v in out.items() if isinstance(v, (str, int, float, bool))},
    )  # fmt: skip


@router.get(
    "/{business_id}/offers", response_model=OfferList, responses=READ_ERRORS,
    summary="Offers and recommendations with their reasons (403 without the offers consent)",
)  # fmt: skip
async def list_offers(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> OfferList:
    authorize(principal, business_id, Permission.READ_INSIGHTS)
    entries = await run_in_threadpool(_offers, state, business_id)
    return OfferList(items=[_out(e) for e in entries])


def _dismiss(state: Any, business_id: str, offer_id: str, subject: str) -> None:
    """Any catalog product, or a product the latest run decided on, can be dismissed."""
    with state.read_uow() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
    known = set(_catalog()) | {
        e.subject for e in _latest_run(state.services.audit_log.entries(business_id))
    }
    if offer_id not in known:
        raise NotFound("no such offer")
    dispatch(DismissRecommendation(business_id, offer_id, subject), state.services)


@router.post(
    "/{business_id}/offers/{offer_id}/dismiss", response_model=DismissOut, responses=READ_ERRORS,
    summary="Dismiss an offer: it is never shown again (audited)",
)  # fmt: skip
async def dismiss_offer(
    business_id: BusinessId,
    offer_id: Annotated[str, Path(min_length=1, max_length=128)],
    principal: CurrentPrincipal,
    state: State,
) -> DismissOut:
    authorize(principal, business_id, Permission.MANAGE)
    await state.writes.run(_dismiss, state, business_id, offer_id, principal.subject)
    return DismissOut(offer_id=offer_id)
