"""Tenant isolation over the route table: the owner of business A gets 404 on B's resources.

The cases are generated from ``app.routes``: every route with a path parameter is a tenant
route and needs a request recipe below. A new route without a recipe fails
``test_every_tenant_route_has_a_recipe`` (and its own isolation case), so no route can skip it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from tests.e2e.api.conftest import ACC_A, ACC_B, T0, TX_A, TX_B, A, Api, B, make_api

from ledgerlens.bootstrap import Container
from ledgerlens.core.ledger import ConsentGrant, Purpose, Transaction
from ledgerlens.core.ports import KnownItemRecord
from ledgerlens.serve.app import create_app

MT940 = b""":20:STMT1
:25:GB29NWBK60161331926819
:28C:1/1
:60F:C260101GBP100,00
:61:2601020102D10,00NTRFREF1//X
:86:COFFEE
:62F:C260102GBP90,00
"""


INS_A, INS_B = "ins-a-1", "ins-b-1"
KI_A, KI_B = "ki-a-1", "ki-b-1"


def _b_batch() -> dict[str, Any]:
    row = {
        "account_id": ACC_B,
        "booking_date": "2026-02-01",
        "amount": "1.00",
        "currency": "GBP",
        "transaction_id": "iso-1",
    }
    return {"transactions": [row]}


#: (method, path template) -> how to call it; ``ids`` are resources of the target business,
#: ``path`` fixed values of path parameters that name no resource (a purpose, a period)
RECIPES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/v1/businesses/{business_id}"): {},
    ("GET", "/v1/businesses/{business_id}/accounts"): {},
    # onboarding: the owner of A has no ``ledgerlens:onboard`` scope (404 on B); the caller
    # proving the recipe works is B's owner holding it (``token``: only when calling its own)
    ("POST", "/v1/businesses/{business_id}/accounts"): {
        "json": {"account_id": "iso-acc-new", "iban": "GB82WEST12345698765432", "currency": "GBP"},
        "idempotent": True,
        "token": {"onboard": True},
    },
    ("GET", "/v1/businesses/{business_id}/transactions"): {"params": {"limit": 5}},
    ("GET", "/v1/businesses/{business_id}/transactions/{transaction_id}"): {
        "ids": {"transaction_id": {B: TX_B, A: TX_A}}
    },
    ("POST", "/v1/businesses/{business_id}/transactions"): {"json": _b_batch, "idempotent": True},
    ("POST", "/v1/businesses/{business_id}/statements"): {
        "files": {"file": ("s.sta", MT940)},
        "data": {"account_id": ACC_B},
        "idempotent": True,
    },
    ("GET", "/v1/businesses/{business_id}/export"): {},
    # issue 9: the app's routes
    ("GET", "/v1/businesses/{business_id}/forecast"): {},
    ("POST", "/v1/businesses/{business_id}/forecast/what-if"): {
        "json": {
            "actions": [
                {"type": "one_off", "account_id": ACC_B, "on": "2026-02-10", "amount": "50.00"}
            ]
        }
    },
    ("GET", "/v1/businesses/{business_id}/categories"): {"params": {"ids": TX_B}},
    ("PATCH", "/v1/businesses/{business_id}/transactions/{transaction_id}"): {
        "ids": {"transaction_id": {B: TX_B, A: TX_A}},
        "json": {"category": "opex.office_supplies"},
    },
    ("GET", "/v1/businesses/{business_id}/anomalies"): {},
    # the seed has no raised alert, so B's owner gets the semantic refusal (past isolation)
    ("POST", "/v1/businesses/{business_id}/anomalies/{transaction_id}/expected"): {
        "ids": {"transaction_id": {B: TX_B, A: TX_A}},
        "also_ok": (422,),
    },
    # insights, preferences, consent (seeded below by the module's ``api``)
    ("GET", "/v1/businesses/{business_id}/insights"): {},
    **{
        ("POST", f"/v1/businesses/{{business_id}}/insights/{{insight_id}}/{action}"): {
            "ids": {"insight_id": {B: INS_B, A: INS_A}}
        }
        for action in ("dismiss", "mute", "act")
    },
    ("GET", "/v1/businesses/{business_id}/digests/{period}"): {"path": {"period": "weekly"}},
    ("GET", "/v1/businesses/{business_id}/preferences"): {},
    ("PUT", "/v1/businesses/{business_id}/preferences"): {"json": {"muted_kinds": ["fx_tip"]}},
    ("GET", "/v1/businesses/{business_id}/consents"): {},
    ("POST", "/v1/businesses/{business_id}/consents/{purpose}"): {
        "path": {"purpose": "model_improvement"}
    },
    ("DELETE", "/v1/businesses/{business_id}/consents/{purpose}"): {
        "path": {"purpose": "data_sharing"}
    },
    # offers, cards, policies, authorization
    ("GET", "/v1/businesses/{business_id}/offers"): {},
    ("POST", "/v1/businesses/{business_id}/offers/{offer_id}/dismiss"): {
        "path": {"offer_id": "overdraft"}
    },
    ("GET", "/v1/businesses/{business_id}/cards"): {},
    ("GET", "/v1/businesses/{business_id}/card-policy"): {},
    ("PUT", "/v1/businesses/{business_id}/card-policy"): {"json": lambda: _policy("v2")},
    ("POST", "/v1/businesses/{business_id}/cards/authorize"): {
        "json": {
            "card_id": "card-b1",
            "merchant": "OFFICE WORLD",
            "mcc": "5943",
            "amount": "10.00",
            "currency": "GBP",
            "at": "2026-01-10T10:00:00Z",
        },
        "idempotent": True,
    },
    # known future items (open invoices, scheduled payments; seeded below: KI_A, KI_B)
    ("PUT", "/v1/businesses/{business_id}/known-items/{item_id}"): {
        "path": {"item_id": "iso-new-item"},
        "json": {
            "kind": "scheduled",
            "account_id": ACC_B,
            "due_date": "2026-02-20",
            "amount": "-250.00",
            "currency": "GBP",
            "counterparty": "Landlord Ltd",
        },
    },
    ("GET", "/v1/businesses/{business_id}/known-items"): {"params": {"status": "all"}},
    **{
        (method, f"/v1/businesses/{{business_id}}/known-items/{{item_id}}{suffix}"): {
            "ids": {"item_id": {B: KI_B, A: KI_A}}
        }
        for method, suffix in (("GET", ""), ("POST", "/settle"), ("POST", "/cancel"))
    },
    # the business's data
    ("GET", "/v1/businesses/{business_id}/export/archive"): {},
    ("DELETE", "/v1/businesses/{business_id}"): {},
}


def _policy(version: str) -> dict[str, Any]:
    return {
        "policy_id": "staff-cards",
        "version": version,
        "currency": "GBP",
        "timezone": "UTC",
        "roles": {"staff": {"blocked_mccs": ["7995"], "per_transaction_limit": "300.00"}},
        "employees": {"emp-1": {"role": "staff"}},
        "cards": {"card-b1": "emp-1", "card-a1": "emp-1"},
    }


def _seed_more(container: Container) -> None:
    """What the issue-9 routes address: an insight, consents, a card line and a policy each;
    and a known item (an open invoice) each."""
    from ledgerlens.explain.model import Figure, Insight, InsightKind, Severity

    with container.uow_factory() as uow:
        for bid, acc, ins, card in ((A, ACC_A, INS_A, "card-a1"), (B, ACC_B, INS_B, "card-b1")):
            scope: Any = uow.scope(bid)
            for purpose in (Purpose.INSIGHTS, Purpose.OFFERS, Purpose.DATA_SHARING):
                scope.consents.grant(ConsentGrant(bid, purpose, T0, granted_by="seed"))
            scope.insights.upsert(
                [
                    Insight(
                        ins, bid, InsightKind.LOW_BALANCE, Severity.WARNING, "Low balance",
                        "Your balance may run low.", (Figure("balance", 1000, "GBP"),), (),
                        0.8, "rule:test", T0,
                        date(2026, 3, 1), f"dedup-{bid}", date(2026, 2, 1),
                    )
                ],
                T0,
            )  # fmt: skip
            scope.card_policies.save(_policy("v1"), "seed")
            card_tx = Transaction(
                transaction_id=f"{bid}-card-1", business_id=bid, account_id=acc,
                booking_date=date(2026, 1, 9), value_date=None, amount_minor=-2500,
                currency="GBP", description="CARD OFFICE WORLD", card_id=card,
                dedup_key=f"seed:card:{bid}",
            )  # fmt: skip
            scope.transactions.add_new([card_tx])
            scope.known_items.upsert(
                KnownItemRecord(
                    bid, KI_A if bid == A else KI_B, "invoice", acc, date(2026, 2, 15), 90000,
                    "GBP", counterparty="Brightside Events Ltd", reference="INV-1",
                ),
                T0,
            )  # fmt: skip
        uow.commit()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The folder's ``api`` plus what the issue-9 routes address (both businesses alike)."""
    for made in make_api(f"sqlite:///{tmp_path / 'api.db'}"):
        _seed_more(made.container)
        yield made


def _tenant_routes() -> list[tuple[str, str]]:
    routes = []
    # FastAPI nests included routers; iter_route_contexts flattens them with their full paths
    for route in iter_route_contexts(create_app().routes):
        if route.path and "{" in route.path:
            routes += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return routes


TENANT_ROUTES = _tenant_routes()


def test_every_tenant_route_has_a_recipe() -> None:
    assert TENANT_ROUTES, "no tenant routes found"
    assert all("{business_id}" in path for _, path in TENANT_ROUTES), (
        "tenant routes name the business"
    )
    missing = sorted(set(TENANT_ROUTES) - set(RECIPES))
    stale = sorted(set(RECIPES) - set(TENANT_ROUTES))
    assert not missing, f"add an isolation recipe for {missing}"
    assert not stale, f"recipes for routes that no longer exist: {stale}"


def _call(api: Api, method: str, template: str, business: str, owner_of: str, resource_of: str):  # type: ignore[no-untyped-def]
    recipe = RECIPES[(method, template)]
    path_ids = {"business_id": business, **recipe.get("path", {})}  # not tenant resources
    for name, by_business in recipe.get("ids", {}).items():
        path_ids[name] = by_business[resource_of]
    # a recipe's extra token grants (a scope) go only to the owner calling its own business
    headers = api.headers(owner_of, **(recipe.get("token", {}) if owner_of == business else {}))
    if recipe.get("idempotent"):
        headers["Idempotency-Key"] = f"iso-{method}-{len(template)}"
    body = recipe.get("json")
    return api.client.request(
        method,
        template.format(**path_ids),
        headers=headers,
        params=recipe.get("params"),
        json=body() if callable(body) else body,
        files=recipe.get("files"),
        data=recipe.get("data"),
    )


def recipe_ok(method: str, template: str) -> tuple[int, ...]:
    """Statuses besides 2xx that prove B's owner reached the handler (a semantic refusal)."""
    return tuple(RECIPES[(method, template)].get("also_ok", ()))


def _b_state(api: Api) -> tuple[int, int, int]:
    with api.container.uow_factory() as uow:
        scope = uow.scope(B)
        return scope.transactions.count(), len(scope.imports.list()), len(scope.accounts.list())


@pytest.mark.parametrize(
    ("method", "template"), TENANT_ROUTES, ids=[f"{m} {p}" for m, p in TENANT_ROUTES]
)
def test_owner_of_a_gets_404_on_b(api: Api, method: str, template: str) -> None:
    assert (method, template) in RECIPES, f"no isolation recipe for {method} {template}"
    before = _b_state(api)
    r = _call(api, method, template, business=B, owner_of=A, resource_of=B)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert B not in r.text  # not even an echo of the other tenant's id
    assert _b_state(api) == before
    # the same request by B's owner works: the 404 above is isolation, not a broken recipe
    ok = _call(api, method, template, business=B, owner_of=B, resource_of=B)
    assert ok.status_code < 300 or ok.status_code in recipe_ok(method, template), ok.text


@pytest.mark.parametrize(
    ("method", "template"),
    [k for k in TENANT_ROUTES if RECIPES.get(k, {}).get("ids")],
    ids=lambda v: str(v),
)
def test_b_resource_under_a_path_is_404(api: Api, method: str, template: str) -> None:
    r = _call(api, method, template, business=A, owner_of=A, resource_of=B)
    assert r.status_code == 404
