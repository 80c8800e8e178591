"""The insights feed (ETag, cursor pages), the owner's actions on an insight, and digests.

Reads go through the read-only unit of work; the actions are tiny state changes (status, the
muted kinds of the preferences) made in one write transaction each. Digests are built by the
pipeline's ``BuildDigest`` command from stored insights and a fresh forecast.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Purpose
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.explain.model import Insight, InsightStatus
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_insights import BuildDigest
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.feed_cache import CachedPage
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.insights import ActIn, FeedQuery, InsightList, InsightOut
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["insights"])
InsightId = Annotated[str, Path(min_length=1, max_length=128)]
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


def _change(state: Any, business_id: str, insight_id: str, how: str, action: str = "") -> Insight:
    """Dismiss / act on an insight, or mute its kind; NotFound when it is not this business's."""
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
            status = InsightStatus.DISMISSED if how == "dismiss" else InsightStatus.ACTED
            store.set_status(insight_id, status)
            found = dataclasses.replace(found, status=status)
        uow.commit()
    return found


async def _post(state: Any, principal: Any, business_id: str, insight_id: str, how: str,
                action: str = "") -> InsightOut:  # fmt: skip
    authorize(principal, business_id, Permission.MANAGE)
    found = await state.writes.run(_change, state, business_id, insight_id, how, action)
    return InsightOut.of(found)


@router.post(
    "/{business_id}/insights/{insight_id}/dismiss", response_model=InsightOut,
    responses=READ_ERRORS, summary="Dismiss an insight (it leaves the open feed)",
)  # fmt: skip
async def dismiss_insight(
    business_id: BusinessId, insight_id: InsightId, principal: CurrentPrincipal, state: State
) -> InsightOut:
    return await _post(state, principal, business_id, insight_id, "dismiss")


@router.post(
    "/{business_id}/insights/{insight_id}/mute", response_model=InsightOut,
    responses=READ_ERRORS, summary="Mute this insight's kind: no more insights of it",
)  # fmt: skip
async def mute_insight(
    business_id: BusinessId, insight_id: InsightId, principal: CurrentPrincipal, state: State
) -> InsightOut:
    return await _post(state, principal, business_id, insight_id, "mute")


@router.post(
    "/{business_id}/insights/{insight_id}/act", response_model=InsightOut,
    responses=READ_ERRORS, summary="Record that the owner acted on an insight",
)  # fmt: skip
async def act_on_insight(
    business_id: BusinessId,
    insight_id: InsightId,
    principal: CurrentPrincipal,
    state: State,
    body: ActIn | None = None,
) -> InsightOut:
    action = body.action if body is not None else ""
    return await _post(state, principal, business_id, insight_id, "act", action)


_DIGEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    200: {
        "description": "The digest (JSON, plain text or HTML)",
        "content": {
            "application/json": {"schema": {"type": "object"}},
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
