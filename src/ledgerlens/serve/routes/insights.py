"""The insights feed (ETag, cursor pages), the owner's actions on an insight, and digests.

Reads go through the read-only unit of work; the actions are tiny state changes (status, the
muted kinds of the preferences) made in one write transaction each. Acting names which of the
insight's offered actions the owner took (by its ``kind``); anything else is a 422 naming
``action``. The choice is appended to the hash-chained audit log as owner feedback (kind
``feedback``, subject ``insight:<id>``, outputs ``acted`` and ``action``) and returned.
Digests are built by the pipeline's ``BuildDigest`` command from stored insights and a fresh
forecast.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Purpose
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.decide.model import Decision, DecisionKind
from ledgerlens.explain.model import Action, Insight, InsightStatus
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_insights import BuildDigest
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.feed_cache import CachedPage
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.insights import (
    ActIn,
    FeedQuery,
    InsightActedOut,
    InsightActionOut,
    InsightList,
    InsightOut,
)
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["insights"])
InsightId = Annotated[str, Path(min_length=1, max_length=128)]
_ACT_EXAMPLES: dict[str, Any] = {
    "offered_action": {
        "summary": "the kind of one of the insight's actions",
        "value": {"action": "schedule_transfer"},
    }
}
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (the If-None-Match ETag still holds)"}
}


def _feed(uow_factory: Callable[[], UnitOfWork], business_id: str) -> tuple[bool, list[Insight]]:
    with uow_factory() as uow:
        scope: Any = uow.scope(business_id)
        consented = Purpose.INSIGHTS in set(scope.consents.active())
        items = scope.insights.list() if consented else []
    return consented, items


def _cursor(offset: int, status: str) -> str:
    raw = json.dumps([offset, status]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(cursor: str | None, status: str) -> int:
    if not cursor:
        return 0
    try:
        offset, bound = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = int(offset)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "invalid cursor", slug="invalid-cursor") from exc
    if bound != status or offset < 0:
        raise ApiProblem(400, "the cursor belongs to another query", slug="invalid-cursor")
    return offset


@router.get(
    "/{business_id}/insights",
    response_model=InsightList,
    responses={**READ_ERRORS, **_NOT_MODIFIED},
    summary="The insights feed: most severe first, then newest (ETag; 304 when unchanged)",
)
async def list_insights(
    business_id: BusinessId,
    principal: CurrentPrincipal,
    state: State,
    query: Annotated[FeedQuery, Query()],
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    authorize(principal, business_id, Permission.READ_INSIGHTS)
    status, limit = query.status, query.limit
    start = _offset(query.cursor, status)
    key = (status, start, limit)
    page = state.feed.get(business_id, key)  # served as built while nothing was committed
    if page is None:
        version = state.feed.version()  # before the rows are read: a later write invalidates
        page = await run_in_threadpool(_build_page, state.read_uow, business_id, key)
        state.feed.put(business_id, version, key, page)
    headers = {"ETag": page.etag, "Cache-Control": "private, no-cache"}
    if if_none_match and page.etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(page.body, media_type="application/json", headers=headers)


def _build_page(
    uow_factory: Callable[[], UnitOfWork], business_id: str, key: tuple[str, int, int]
) -> CachedPage:
    """One page of the feed as JSON bytes with its ETag (a hash of those bytes)."""
    status, start, limit = key
    consented, items = _feed(uow_factory, business_id)
    if status == "open":
        items = [i for i in items if i.status in (InsightStatus.NEW, InsightStatus.SEEN)]
    elif status != "all":
        items = [i for i in items if str(i.status) == status]
    page = items[start : start + limit]
    more = _cursor(start + limit, status) if start + limit < len(items) else None
    body = InsightList(
        items=[InsightOut.of(i) for i in page], next_cursor=more, consented=consented
    )
    payload = body.model_dump_json().encode()
    return CachedPage(payload, '"' + hashlib.sha256(payload).hexdigest()[:32] + '"')


def _chosen(found: Insight, action: str) -> Action | None:
    """The offered action named ``action`` (its ``kind``); None when the insight offers none
    and none was named. A 422 naming ``action`` otherwise (never echoing what was sent)."""
    if not action and not found.actions:
        return None
    chosen = next((a for a in found.actions if a.kind == action), None)
    if chosen is None:
        offered = ", ".join(dict.fromkeys(a.kind for a in found.actions)) or "none"
        raise ApiProblem(
            422, f"action: not one of this insight's actions (offered: {offered})", slug="refused"
        )
    return chosen


def _record_act(state: Any, found: Insight, chosen: Action | None, member_id: str) -> None:
    """The owner's choice into the hash-chained audit log (its own transaction), as feedback."""
    audit = getattr(state.services, "audit_log", None)
    if audit is None:
        return
    audit.append([
        Decision(
            business_id=found.business_id, kind=DecisionKind.FEEDBACK,
            subject=f"insight:{found.insight_id}",
            outputs={"acted": True, "action": chosen.kind if chosen else "",
                     "insight_kind": str(found.kind)},
            inputs={"member_id": member_id,
                    "parameters": dict(chosen.parameters) if chosen else {}},
            reason_codes=("INSIGHT_ACTED_BY_OWNER",), versions=(), source="owner",
        )
    ])  # fmt: skip


def _change(
    state: Any, business_id: str, insight_id: str, how: str, action: str = "", member_id: str = ""
) -> tuple[Insight, Action | None]:
    """Dismiss / act on an insight, or mute its kind; NotFound when it is not this business's.
    Acting checks ``action`` against the insight's offered actions and records the choice."""
    chosen: Action | None = None
    with state.services.uow_factory() as uow:
        store = uow.scope(business_id).insights
        found: Insight | None = next((i for i in store.list() if i.insight_id == insight_id), None)
        if found is None:
            raise NotFound("no such insight")
        if how == "mute":
            prefs = store.preferences()
            muted = prefs.muted_kinds | {str(found.kind)}
            store.save_preferences(dataclasses.replace(prefs, muted_kinds=muted))
        else:
            if how == "act":
                chosen = _chosen(found, action)
            status = InsightStatus.DISMISSED if how == "dismiss" else InsightStatus.ACTED
            store.set_status(insight_id, status)
            found = dataclasses.replace(found, status=status)
        uow.commit()
    if how == "act":
        _record_act(state, found, chosen, member_id)
    return found, chosen


async def _post(state: Any, principal: Any, business_id: str, insight_id: str, how: str,
                action: str = "") -> tuple[Insight, Action | None]:  # fmt: skip
    authorize(principal, business_id, Permission.MANAGE)
    return await state.writes.run(  # type: ignore[no-any-return]
        _change, state, business_id, insight_id, how, action, principal.subject
    )


@router.post(
    "/{business_id}/insights/{insight_id}/dismiss", response_model=InsightOut,
    responses=READ_ERRORS, summary="Dismiss an insight (it leaves the open feed)",
)  # fmt: skip
async def dismiss_insight(
    business_id: BusinessId, insight_id: InsightId, principal: CurrentPrincipal, state: State
) -> InsightOut:
    found, _ = await _post(state, principal, business_id, insight_id, "dismiss")
    return InsightOut.of(found)


@router.post(
    "/{business_id}/insights/{insight_id}/mute", response_model=InsightOut,
    responses=READ_ERRORS, summary="Mute this insight's kind: no more insights of it",
)  # fmt: skip
async def mute_insight(
    business_id: BusinessId, insight_id: InsightId, principal: CurrentPrincipal, state: State
) -> InsightOut:
    found, _ = await _post(state, principal, business_id, insight_id, "mute")
    return InsightOut.of(found)


@router.post(
    "/{business_id}/insights/{insight_id}/act", response_model=InsightActedOut,
    responses=READ_ERRORS,
    summary="Record which of the insight's actions the owner took (422 when not offered)",
)  # fmt: skip
async def act_on_insight(
    business_id: BusinessId,
    insight_id: InsightId,
    principal: CurrentPrincipal,
    state: State,
    body: Annotated[ActIn | None, Body(openapi_examples=_ACT_EXAMPLES)] = None,
) -> InsightActedOut:
    action = body.action if body is not None else ""
    found, chosen = await _post(state, principal, business_id, insight_id, "act", action)
    out = InsightOut.of(found).model_dump()
    taken = InsightActionOut(**chosen.to_dict()) if chosen else None  # type: ignore[arg-type]
    return InsightActedOut(**out, action_taken=taken)


_DIGEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    200: {
        "description": "The digest (JSON, plain text or HTML)",
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "example": {
                    "business_id": "biz_4f2c91",
                    "period": "weekly",
                    "start": "2026-02-23",
                    "end": "2026-03-01",
                    "language": "en",
                    "unusual": [],
                    "taxes": [],
                    "cash": [
                        {
                            "kind": "largest_inflow",
                            "day": "2026-03-04",
                            "amount_minor": 184000,
                            "currency": "GBP",
                        },
                        {
                            "kind": "lowest_balance",
                            "day": "2026-03-10",
                            "amount_minor": -66000,
                            "currency": "GBP",
                        },
                    ],
                },
            },
            "text/plain": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
    },
}


@router.get(
    "/{business_id}/digests/{period}", response_class=Response, responses=_DIGEST_RESPONSES,
    summary="The daily or weekly digest; 403 without the insights consent",
)  # fmt: skip
async def get_digest(
    business_id: BusinessId,
    period: Literal["daily", "weekly"],
    principal: CurrentPrincipal,
    state: State,
    format: Annotated[Literal["json", "text", "html"], Query()] = "json",
) -> Response:
    authorize(principal, business_id, Permission.READ_INSIGHTS)
    digest = await run_in_threadpool(dispatch, BuildDigest(business_id, period), state.services)
    if digest is None:
        raise ApiProblem(403, "the insights consent is not granted", slug="consent-required")
    from ledgerlens.explain.digests import to_html, to_json, to_text
    from ledgerlens.explain.render import renderer

    if format == "json":
        return Response(to_json(digest), media_type="application/json")
    r = renderer(digest.language)
    if format == "text":
        return Response(to_text(digest, r), media_type="text/plain")
    return Response(to_html(digest, r), media_type="text/html")
