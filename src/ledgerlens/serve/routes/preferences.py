"""The owner's notification preferences and the business's consents.

Granting and withdrawing go through the pipeline (``GrantConsent`` / ``WithdrawConsent``):
a withdrawal stops processing for the purpose and deletes what was derived for it at once, in
the same transaction, and the answer says how many rows went.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from ledgerlens.consent.model import Preferences
from ledgerlens.core.errors import NotFound, ValidationError
from ledgerlens.core.ledger import Purpose
from ledgerlens.core.money import format_minor, to_minor
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_insights import GrantConsent, WithdrawConsent
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.routes import READ_ERRORS, WRITE_ERRORS
from ledgerlens.serve.schemas.insights import (
    ConsentList,
    ConsentOut,
    PreferencesIn,
    PreferencesOut,
    PurposeName,
)
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["preferences"])
PurposePath = Annotated[PurposeName, Path(description="what the business consents to")]


def _hhmm(t: time | None) -> str | None:
    return t.strftime("%H:%M") if t is not None else None


def _out(p: Preferences, currency: str) -> PreferencesOut:
    return PreferencesOut(
        muted_kinds=sorted(p.muted_kinds), buffer=format_minor(p.buffer_minor, currency),
        currency=currency, channels=sorted(str(c) for c in p.channels),  # type: ignore[misc]
        quiet_start=_hhmm(p.quiet_start), quiet_end=_hhmm(p.quiet_end), timezone=p.timezone,
        digest=str(p.digest), language=p.language, email=p.email,  # type: ignore[arg-type]
        push_url=p.push_url,
    )  # fmt: skip


def _read(uow_factory: Callable[[], UnitOfWork], business_id: str) -> tuple[Preferences, str]:
    with uow_factory() as uow:
        business = uow.businesses.get(business_id)
        if business is None:
            raise NotFound("no such business")
        scope: Any = uow.scope(business_id)
        return scope.insights.preferences(), business.base_currency


def _write(state: Any, business_id: str, body: PreferencesIn) -> tuple[Preferences, str]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiProblem(422, "unknown time zone", slug="refused") from None
    with state.services.uow_factory() as uow:
        business = uow.businesses.get(business_id)
        if business is None:
            raise NotFound("no such business")
        store = uow.scope(business_id).insights
        try:
            prefs = dataclasses.replace(
                store.preferences(), muted_kinds=frozenset(body.muted_kinds),
                buffer_minor=to_minor(body.buffer, business.base_currency),
                channels=frozenset(body.channels) | {"in_app"},
                quiet_start=time.fromisoformat(body.quiet_start) if body.quiet_start else None,
                quiet_end=time.fromisoformat(body.quiet_end) if body.quiet_end else None,
                timezone=body.timezone, digest=body.digest, language=body.language,
                email=body.email, push_url=body.push_url,
            )  # fmt: skip
        except (ValueError, ValidationError) as exc:
            raise ApiProblem(422, str(exc), slug="refused") from None
        store.save_preferences(prefs)
        uow.commit()
    return prefs, business.base_currency


@router.get(
    "/{business_id}/preferences", response_model=PreferencesOut, responses=READ_ERRORS,
    summary="Notification preferences: channels, quiet hours, digest, muted kinds, buffer",
)  # fmt: skip
async def get_preferences(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> PreferencesOut:
    authorize(principal, business_id, Permission.READ_INSIGHTS)
    prefs, currency = await run_in_threadpool(_read, state.read_uow, business_id)
    return _out(prefs, currency)


@router.put(
    "/{business_id}/preferences", response_model=PreferencesOut, responses=WRITE_ERRORS,
    summary="Replace the notification preferences (owner)",
)  # fmt: skip
async def put_preferences(
    business_id: BusinessId, body: PreferencesIn, principal: CurrentPrincipal, state: State
) -> PreferencesOut:
    authorize(principal, business_id, Permission.MANAGE)
    prefs, currency = await state.writes.run(_write, state, business_id, body)
    return _out(prefs, currency)


def _consents(uow_factory: Callable[[], UnitOfWork], business_id: str) -> ConsentList:
    with uow_factory() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
        active = set(uow.scope(business_id).consents.active())
    return ConsentList(items=[ConsentOut(purpose=p.value, granted=p in active) for p in Purpose])


@router.get(
    "/{business_id}/consents", response_model=ConsentList, responses=READ_ERRORS,
    summary="Which purposes the business has granted",
)  # fmt: skip
async def list_consents(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> ConsentList:
    authorize(principal, business_id, Permission.READ_BUSINESS)
    return await run_in_threadpool(_consents, state.read_uow, business_id)


async def _change(state: Any, principal: Any, business_id: str, cmd: Any) -> ConsentList:
    authorize(principal, business_id, Permission.MANAGE)
    await run_in_threadpool(_consents, state.read_uow, business_id)  # 404 before any write
    deleted = await state.writes.run(dispatch, cmd, state.services)
    out = await run_in_threadpool(_consents, state.read_uow, business_id)
    out.deleted = dict(deleted or {})
    return out


@router.post(
    "/{business_id}/consents/{purpose}", response_model=ConsentList, responses=WRITE_ERRORS,
    summary="Grant consent for a purpose (owner; granting twice changes nothing)",
)  # fmt: skip
async def grant_consent(
    business_id: BusinessId, purpose: PurposePath, principal: CurrentPrincipal, state: State
) -> ConsentList:
    cmd = GrantConsent(business_id, Purpose(purpose), principal.subject)
    return await _change(state, principal, business_id, cmd)


@router.delete(
    "/{business_id}/consents/{purpose}", response_model=ConsentList, responses=WRITE_ERRORS,
    summary="Withdraw consent: processing stops and derived data is deleted at once (owner)",
)  # fmt: skip
async def withdraw_consent(
    business_id: BusinessId, purpose: PurposePath, principal: CurrentPrincipal, state: State
) -> ConsentList:
    cmd = WithdrawConsent(business_id, Purpose(purpose), principal.subject)
    return await _change(state, principal, business_id, cmd)
