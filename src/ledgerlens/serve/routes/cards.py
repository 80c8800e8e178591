"""Cards seen in the business's transactions, the employee-card policy, and the authorization
decision endpoint (approve / decline / review with reason codes; stored and audited).

Employees see and authorize only the cards their token names (``cards`` claim); any other
card answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import NotFound, ValidationError
from ledgerlens.core.ledger import Role
from ledgerlens.core.money import to_minor
from ledgerlens.core.privacy import mask_card_id
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_anomalies import AuthorizeCard, SetCardPolicy
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, IdempotencyKey, State
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.idempotency import request_fingerprint
from ledgerlens.serve.routes import READ_ERRORS, WRITE_ERRORS
from ledgerlens.serve.schemas.decisions import (
    POLICY_EXAMPLE,
    AuthorizationIn,
    AuthorizationOut,
    CardList,
    CardOut,
    CardPolicyOut,
)
from ledgerlens.serve.security import Permission, Principal, authorize

router = APIRouter(prefix="/v1/businesses", tags=["cards"])


def _own(principal: Principal, business_id: str) -> frozenset[str] | None:
    """The cards an employee may see (None: every card, for the other roles)."""
    if principal.role_for(business_id) != Role.EMPLOYEE:
        return None
    return principal.cards.get(business_id, frozenset())


def _cards(state: Any, business_id: str, own: frozenset[str] | None, pii: bool) -> CardList:
    with state.read_uow() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
        scope: Any = uow.scope(business_id)
        policy = scope.card_policies.current() or {}
        seen: dict[str, list[Any]] = {}
        for t in scope.transactions.iter_all():
            if t.card_id and (own is None or t.card_id in own):
                seen.setdefault(t.card_id, []).append(t)
    cards, roles = policy.get("cards") or {}, policy.get("employees") or {}
    items = []
    for card_id, txs in sorted(seen.items()):
        employee = cards.get(card_id) if isinstance(cards, dict) else None
        employee = employee or next((t.employee_id for t in txs if t.employee_id), None)
        role = roles.get(employee, {}).get("role") if isinstance(roles, dict) else None
        items.append(CardOut(
            card_id=mask_card_id(card_id), employee_id=employee if pii else None,
            role=role if isinstance(role, str) else None, transactions=len(txs),
            last_used=max(t.booking_date for t in txs),
        ))  # fmt: skip
    version = policy.get("version")
    return CardList(items=items, policy_version=str(version) if version is not None else None)


@router.get(
    "/{business_id}/cards", response_model=CardList, responses=READ_ERRORS,
    summary="The business's cards seen in its transactions (masked), with their policy role",
)  # fmt: skip
async def list_cards(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> CardList:
    authorize(principal, business_id, Permission.READ_CARDS)
    own, pii = _own(principal, business_id), principal.sees_pii(business_id)
    return await run_in_threadpool(_cards, state, business_id, own, pii)


def _policy(state: Any, business_id: str) -> CardPolicyOut:
    with state.read_uow() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
        doc = uow.scope(business_id).card_policies.current()
    if doc is None:
        return CardPolicyOut(policy_id=None, version=None, document=None)
    return CardPolicyOut(policy_id=str(doc.get("policy_id")), version=str(doc.get("version")),
                         document=doc)  # fmt: skip


@router.get(
    "/{business_id}/card-policy", response_model=CardPolicyOut, responses=READ_ERRORS,
    summary="The employee-card policy in force (document null when none is stored)",
)  # fmt: skip
async def get_card_policy(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> CardPolicyOut:
    authorize(principal, business_id, Permission.READ_CARDS)
    return await run_in_threadpool(_policy, state, business_id)


def _set_policy(state: Any, business_id: str, document: dict[str, Any], actor: str) -> None:
    _policy(state, business_id)  # 404 for an unknown business before any validation
    try:
        dispatch(SetCardPolicy(business_id, document, actor), state.services)
    except ValidationError as exc:
        raise ApiProblem(422, str(exc), slug="refused") from None
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        detail = f"card policy: malformed document ({type(exc).__name__})"
        raise ApiProblem(422, detail, slug="refused") from None


@router.put(
    "/{business_id}/card-policy", response_model=CardPolicyOut, responses=WRITE_ERRORS,
    summary="Store a new card-policy version (owner); unusual activity is re-scored",
)  # fmt: skip
async def put_card_policy(
    business_id: BusinessId,
    principal: CurrentPrincipal,
    state: State,
    document: dict[str, Any] = Body(..., examples=[POLICY_EXAMPLE]),  # noqa: B008
) -> CardPolicyOut:
    authorize(principal, business_id, Permission.MANAGE)
    await state.writes.run(_set_policy, state, business_id, document, principal.subject)
    return await run_in_threadpool(_policy, state, business_id)


def _authorize(state: Any, business_id: str, body: AuthorizationIn) -> AuthorizationOut:
    _policy(state, business_id)
    try:
        amount = to_minor(body.amount, body.currency)
    except ValidationError as exc:
        raise ApiProblem(422, str(exc), slug="refused") from None
    cmd = AuthorizeCard(business_id, body.card_id, body.merchant, body.mcc, amount,
                        body.currency, body.at)  # fmt: skip
    try:
        out = dispatch(cmd, state.services)
    except ValidationError as exc:
        raise ApiProblem(422, str(exc), slug="refused") from None
    rec = out.authorization.as_record()
    return AuthorizationOut(
        decision_id=out.decision_id, decision=rec["decision"], reason_codes=rec["reason_codes"],
        policy_id=str(rec["policy_id"]), policy_version=str(rec["policy_version"]),
        source=str(rec["source"]), confidence=1.0,
    )  # fmt: skip


@router.post(
    "/{business_id}/cards/authorize", response_model=AuthorizationOut, status_code=201,
    responses=WRITE_ERRORS,
    summary="Decide a card purchase under the policy: approve, decline or review (audited)",
)  # fmt: skip
async def authorize_purchase(
    business_id: BusinessId,
    body: AuthorizationIn,
    idempotency_key: IdempotencyKey,
    request: Request,
    principal: CurrentPrincipal,
    state: State,
) -> Response:
    authorize(principal, business_id, Permission.AUTHORIZE_CARD)
    own = _own(principal, business_id)
    if own is not None and body.card_id not in own:
        raise NotFound("no such card")
    payload = json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    fingerprint = request_fingerprint("POST", request.url.path, payload)

    async def work() -> tuple[int, AuthorizationOut]:
        return 201, await state.writes.run(_authorize, state, business_id, body)

    return await state.idempotency.run(principal, business_id, idempotency_key, fingerprint, work)
