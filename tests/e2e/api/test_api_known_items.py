"""Known future items over the API: PUT / GET / settle / cancel, their refusals and roles, and
the point of it all: the served forecast uses the open ones (a large scheduled payment lowers
its week's expected balance and raises its shortfall risk; settling it restores the figures;
an open invoice raises the expected inflows)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.api.conftest import ACC_A, ACC_B, A, Api

from ledgerlens.core.ledger import Role

URL = f"/v1/businesses/{A}/known-items"
PAYMENT = {
    "kind": "scheduled", "account_id": ACC_A, "due_date": "2026-02-10", "amount": "-5000.00",
    "currency": "GBP", "counterparty": "HMRC", "reference": "VAT Q4", "label": "VAT payment",
}  # fmt: skip
INVOICE = {
    "kind": "invoice", "account_id": ACC_A, "due_date": "2026-02-20", "amount": "3000.00",
    "currency": "GBP", "counterparty": "Brightside Events Ltd", "reference": "INV-1042",
}  # fmt: skip


def _forecast(api: Api) -> dict[str, Any]:
    r = api.client.get(f"/v1/businesses/{A}/forecast", headers=api.headers())
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _week(fc: dict[str, Any], day: str) -> dict[str, Any]:
    return next(w for w in fc["weeks"] if w["week_start"] <= day <= w["week_end"])


def _inflows(fc: dict[str, Any]) -> float:
    return sum(float(c["inflow"]) for c in fc["chart"])


def _put(api: Api, item_id: str, body: dict[str, Any], **headers: Any) -> Any:
    return api.client.put(f"{URL}/{item_id}", headers=headers or api.headers(), json=body)


def test_lifecycle_put_get_list_settle_cancel(api: Api) -> None:
    r = _put(api, "so-1", PAYMENT)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "open" and first["amount"] == "-5000.00"
    assert first["due_date"] == "2026-02-10" and first["currency"] == "GBP"
    again = _put(api, "so-1", PAYMENT)  # an identical re-PUT changes nothing
    assert again.status_code == 200 and again.json() == first
    changed = _put(api, "so-1", {**PAYMENT, "amount": "-5200.50"})
    assert changed.status_code == 200
    body = changed.json()
    assert body["amount"] == "-5200.50" and body["created_at"] == first["created_at"]
    assert body["updated_at"] >= first["updated_at"]
    assert _put(api, "inv-1", INVOICE).status_code == 201
    listed = api.client.get(URL, headers=api.headers()).json()["items"]
    assert [i["item_id"] for i in listed] == ["so-1", "inv-1"]  # by due date
    got = api.client.get(f"{URL}/inv-1", headers=api.headers())
    assert got.status_code == 200 and got.json()["counterparty"] == "Brightside Events Ltd"
    settled = api.client.post(f"{URL}/so-1/settle", headers=api.headers())
    assert settled.status_code == 200 and settled.json()["status"] == "settled"
    assert api.client.post(f"{URL}/so-1/settle", headers=api.headers()).status_code == 200
    assert api.client.post(f"{URL}/so-1/cancel", headers=api.headers()).status_code == 409
    assert _put(api, "so-1", PAYMENT).status_code == 409  # settled is final
    assert api.client.post(f"{URL}/inv-1/cancel", headers=api.headers()).json()["status"] == (
        "cancelled"
    )
    assert api.client.get(URL, headers=api.headers()).json()["items"] == []
    every = api.client.get(URL, params={"status": "all"}, headers=api.headers()).json()["items"]
    assert {i["status"] for i in every} == {"settled", "cancelled"}
    for path in (f"{URL}/nope", f"{URL}/nope/settle"):
        method = "GET" if path.endswith("nope") else "POST"
        missing = api.client.request(method, path, headers=api.headers())
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account_id": "acc-unknown"}, "account_id"),
        ({"account_id": ACC_B}, "account_id"),  # the other tenant's account
        ({"currency": "EUR"}, "currency"),
        ({"kind": "invoice", "amount": "0.00"}, "amount"),
        ({"kind": "invoice", "amount": "-10.00"}, "amount"),
        ({"amount": "-10.001"}, "amount"),  # more decimals than GBP has
        ({"due_date": "9999-12-31"}, "due_date"),
    ],
)
def test_refusals_are_422_problems_naming_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    r = _put(api, "bad-1", {**PAYMENT, **change})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert field in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", field]
    assert api.client.get(f"{URL}/bad-1", headers=api.headers()).status_code == 404


def test_roles_owner_and_bank_system_write_the_accountant_reads(api: Api) -> None:
    service = api.headers(role=Role.SERVICE)
    assert _put(api, "so-svc", PAYMENT, **service).status_code == 201  # the bank's systems
    assert api.client.get(f"{URL}/so-svc", headers=service).status_code == 200
    accountant = api.headers(role=Role.ACCOUNTANT)
    assert api.client.get(URL, headers=accountant).json()["items"][0]["item_id"] == "so-svc"
    assert _put(api, "so-acc", PAYMENT, **accountant).status_code == 403
    assert api.client.post(f"{URL}/so-svc/settle", headers=accountant).status_code == 403
    employee = api.headers(role=Role.EMPLOYEE)
    assert api.client.get(URL, headers=employee).status_code == 403


def test_every_change_schedules_the_refresh_and_a_no_op_does_not(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduled: list[str] = []
    monkeypatch.setattr(api.app.state.api.refresh, "schedule", scheduled.append)
    _put(api, "so-1", PAYMENT)
    _put(api, "so-1", PAYMENT)
    api.client.post(f"{URL}/so-1/settle", headers=api.headers())
    api.client.post(f"{URL}/so-1/settle", headers=api.headers())
    assert scheduled == [A, A]


def test_a_large_scheduled_payment_lowers_its_week_and_settling_restores_it(api: Api) -> None:
    before = _forecast(api)
    week = _week(before, PAYMENT["due_date"])
    assert _put(api, "so-1", PAYMENT).status_code == 201
    with_payment = _forecast(api)  # the cache key moved with the item
    after = _week(with_payment, PAYMENT["due_date"])
    assert float(after["expected_min_balance"]) < float(week["expected_min_balance"]) - 4000
    assert after["shortfall_probability"] > week["shortfall_probability"]
    # weeks before the due date are untouched
    earlier = [w for w in before["weeks"] if w["week_end"] < PAYMENT["due_date"]]
    assert earlier and all(w in with_payment["weeks"] for w in earlier)
    upcoming = {(u["due_date"], u["amount"]) for u in with_payment["upcoming"]}
    assert ("2026-02-10", "-5000.00") in upcoming
    # named as the bank's system named it: a what-if can move it by that id
    ours = [u for u in with_payment["upcoming"] if u["item_id"] == "sched:so-1"]
    assert [(u["due_date"], u["amount"]) for u in ours] == [("2026-02-10", "-5000.00")]
    assert api.client.post(f"{URL}/so-1/settle", headers=api.headers()).status_code == 200
    restored = _forecast(api)
    assert restored["weeks"] == before["weeks"] and restored["chart"] == before["chart"]


def test_an_open_invoice_raises_the_expected_inflows_until_cancelled(api: Api) -> None:
    before = _forecast(api)
    assert _put(api, "inv-1", INVOICE).status_code == 201
    with_invoice = _forecast(api)
    assert _inflows(with_invoice) > _inflows(before) + 2500
    late = _week(with_invoice, "2026-03-05")
    assert float(late["expected_min_balance"]) > float(
        _week(before, "2026-03-05")["expected_min_balance"]
    )
    api.client.post(f"{URL}/inv-1/cancel", headers=api.headers())
    assert _forecast(api)["chart"] == before["chart"]


def test_past_items_an_overdue_invoice_counts_a_past_scheduled_payment_does_not(api: Api) -> None:
    before = _forecast(api)
    assert before["as_of"] == "2026-01-30"
    past = {**PAYMENT, "due_date": "2026-01-20"}
    assert _put(api, "so-past", past).status_code == 201
    assert _forecast(api)["weeks"] == before["weeks"]  # dropped, not moved to tomorrow
    overdue = {**INVOICE, "due_date": "2026-01-10"}
    assert _put(api, "inv-late", overdue).status_code == 201
    assert _inflows(_forecast(api)) > _inflows(before) + 2000
