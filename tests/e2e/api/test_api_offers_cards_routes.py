"""Issue 9: offers (consent-gated, read back from the audit log), cards and their policy, the
authorization decision endpoint, the audit log (bank staff) and the data routes (export archive,
erasure), through the real app over SQLite."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from typing import Any

import pytest
from tests.e2e.api.conftest import ACC_A, T0, A, Api, B

from ledgerlens.core.ledger import ConsentGrant, Purpose, Role, Transaction

BIZ = f"/v1/businesses/{A}"
POLICY = {
    "policy_id": "staff-cards", "version": "v1", "currency": "GBP", "timezone": "UTC",
    "roles": {"staff": {"blocked_mccs": ["7995"], "per_transaction_limit": "300.00"}},
    "employees": {"emp-1": {"role": "staff"}, "emp-2": {"role": "staff"}},
    "cards": {"card-a1": "emp-1", "card-a2": "emp-2"},
}  # fmt: skip


def _grant(api: Api, purpose: Purpose) -> None:
    with api.container.uow_factory() as uow:
        uow.scope(A).consents.grant(ConsentGrant(A, purpose, T0, granted_by="t"))
        uow.commit()


def _card_lines(api: Api) -> None:
    with api.container.uow_factory() as uow:
        uow.scope(A).transactions.add_new([
            Transaction(
                transaction_id=f"card-{k}", business_id=A, account_id=ACC_A,
                booking_date=date(2026, 1, 10 + k), value_date=None, amount_minor=-1500 - k,
                currency="GBP", description="CARD OFFICE WORLD", card_id=card,
                employee_id=emp, dedup_key=f"card:{k}",
            )
            for k, (card, emp) in enumerate([("card-a1", "emp-1"), ("card-a2", "emp-2"),
                                             ("card-a1", "emp-1")])
        ])  # fmt: skip
        uow.commit()


def _entries(api: Api) -> list[Any]:
    return list(api.container.services().audit_log.entries(A))


def test_offers_need_the_offers_consent(api: Api) -> None:
    r = api.client.get(f"{BIZ}/offers", headers=api.headers())
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert _entries(api) == []  # nothing was decided for a business that did not consent


def test_offers_are_decided_once_then_read_from_the_log(api: Api) -> None:
    _grant(api, Purpose.OFFERS)
    first = api.client.get(f"{BIZ}/offers", headers=api.headers())
    assert first.status_code == 200, first.text
    logged = len(_entries(api))
    assert logged > 0 and any(e.kind == "limit" for e in _entries(api))
    again = api.client.get(f"{BIZ}/offers", headers=api.headers(A, Role.ACCOUNTANT))
    assert again.json() == first.json() and len(_entries(api)) == logged
    for item in first.json()["items"]:
        assert item["kind"] in ("offer", "recommendation") and item["reason_codes"]


def test_dismissing_an_offer_is_audited_and_hides_it(api: Api) -> None:
    _grant(api, Purpose.OFFERS)
    api.client.get(f"{BIZ}/offers", headers=api.headers())
    r = api.client.post(f"{BIZ}/offers/overdraft/dismiss", headers=api.headers())
    assert r.status_code == 200 and r.json() == {"offer_id": "overdraft", "dismissed": True}
    fb = [e for e in _entries(api) if e.kind == "feedback"]
    assert [e.subject for e in fb] == ["overdraft"] and fb[0].reason_codes
    shown = [o["offer_id"] for o in api.client.get(f"{BIZ}/offers", headers=api.headers())
             .json()["items"]]  # fmt: skip
    assert "overdraft" not in shown
    assert (
        api.client.post(f"{BIZ}/offers/no_such/dismiss", headers=api.headers()).status_code == 404
    )
    acc = api.client.post(
        f"{BIZ}/offers/overdraft/dismiss", headers=api.headers(A, Role.ACCOUNTANT)
    )
    assert acc.status_code == 403


def test_cards_are_listed_masked_with_their_policy_role(api: Api) -> None:
    _card_lines(api)
    assert api.client.get(f"{BIZ}/card-policy", headers=api.headers()).json()["document"] is None
    put = api.client.put(f"{BIZ}/card-policy", headers=api.headers(), json=POLICY)
    assert put.status_code == 200 and put.json()["version"] == "v1"
    cards = api.client.get(f"{BIZ}/cards", headers=api.headers()).json()
    assert cards["policy_version"] == "v1"
    by_id = {c["card_id"]: c for c in cards["items"]}
    assert by_id["card-a1"] == {"card_id": "card-a1", "employee_id": "emp-1", "role": "staff",
                                "transactions": 2, "last_used": "2026-01-12"}  # fmt: skip
    staff = api.client.get(f"{BIZ}/cards", headers=api.headers(A, Role.BANK_STAFF)).json()
    assert {c["employee_id"] for c in staff["items"]} == {None}  # no PII without pii:read
    own = api.headers(A, Role.EMPLOYEE, cards={A: ["card-a1"]})
    assert [c["card_id"] for c in api.client.get(f"{BIZ}/cards", headers=own).json()["items"]] == [
        "card-a1"
    ]


def test_policy_refusals_are_problems(api: Api) -> None:
    bad = api.client.put(f"{BIZ}/card-policy", headers=api.headers(), json={"version": "v1"})
    assert bad.status_code == 422 and bad.json()["type"] == "/problems/refused"
    staff = api.client.put(f"{BIZ}/card-policy", headers=api.headers(A, Role.ACCOUNTANT),
                           json=POLICY)  # fmt: skip
    assert staff.status_code == 403


def _auth(api: Api, key: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    body = {"card_id": "card-a1", "merchant": "OFFICE WORLD", "mcc": "5943", "amount": "42.50",
            "currency": "GBP", "at": "2026-01-20T10:00:00Z", **kw}  # fmt: skip
    h = {**(headers or api.headers()), "Idempotency-Key": key}
    return api.client.post(f"{BIZ}/cards/authorize", headers=h, json=body)


def test_authorization_decisions_are_stored_audited_and_idempotent(api: Api) -> None:
    assert _auth(api, "no-policy-1").status_code == 404  # no policy: nothing to decide under
    api.client.put(f"{BIZ}/card-policy", headers=api.headers(), json=POLICY)
    ok = _auth(api, "auth-key-1")
    assert ok.status_code == 201, ok.text
    assert ok.json()["decision"] == "approve" and ok.json()["policy_version"] == "v1"
    replay = _auth(api, "auth-key-1")
    assert replay.json()["decision_id"] == ok.json()["decision_id"]
    assert replay.headers.get("idempotent-replayed") == "true"
    declined = _auth(api, "auth-key-2", mcc="7995")
    assert declined.json()["decision"] == "decline" and declined.json()["reason_codes"]
    audited = [e for e in _entries(api) if e.subject == "card_authorization"]
    assert len(audited) == 2
    with api.container.uow_factory() as uow:
        assert len(uow.scope(A).card_decisions.list()) == 2


def test_employees_authorize_only_their_own_card(api: Api) -> None:
    api.client.put(f"{BIZ}/card-policy", headers=api.headers(), json=POLICY)
    own = api.headers(A, Role.EMPLOYEE, cards={A: ["card-a1"]})
    assert _auth(api, "emp-key-1", own).status_code == 201
    other = _auth(api, "emp-key-2", own, card_id="card-a2")
    assert other.status_code == 404
    assert _auth(api, "acct-key-1", api.headers(A, Role.ACCOUNTANT)).status_code == 403


def test_audit_is_for_bank_staff_and_verifies_the_chain(api: Api) -> None:
    api.client.put(f"{BIZ}/card-policy", headers=api.headers(), json=POLICY)
    _auth(api, "audit-key-1")
    staff = api.client.get("/v1/audit", params={"business_id": A},
                           headers=api.headers(A, Role.BANK_STAFF))  # fmt: skip
    assert staff.status_code == 200, staff.text
    body = staff.json()
    assert body["verification"] == {"ok": True, "entries": 1, "problems": []}
    (entry,) = body["items"]
    assert entry["subject"] == "card_authorization" and entry["prev_hash"] != entry["hash"]
    owner = api.client.get("/v1/audit", params={"business_id": A}, headers=api.headers())
    assert owner.status_code == 403
    other = api.client.get("/v1/audit", params={"business_id": B},
                           headers=api.headers(A, Role.BANK_STAFF))  # fmt: skip
    assert other.status_code == 404


def test_export_archive_holds_json_and_csv(api: Api) -> None:
    r = api.client.get(f"{BIZ}/export/archive", headers=api.headers(A, Role.ACCOUNTANT))
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        data = json.loads(z.read(f"{A}/data.json"))
    assert f"{A}/data.json" in names and any(n.endswith(".csv") for n in names)
    assert any(len(rows) == 30 for rows in data.values())  # the 30 seeded transactions


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.BANK_STAFF, Role.EMPLOYEE])
def test_only_the_owner_erases(api: Api, role: Role) -> None:
    assert api.client.delete(BIZ, headers=api.headers(A, role)).status_code == 403


def test_erasure_removes_the_business(api: Api) -> None:
    r = api.client.delete(BIZ, headers=api.headers())
    assert r.status_code == 204 and r.content == b""
    assert api.client.get(BIZ, headers=api.headers()).status_code == 404
    with api.container.uow_factory() as uow:
        assert uow.scope(A).transactions.count() == 0
        assert uow.scope(B).transactions.count() == 3  # the other tenant is untouched


def test_authorize_and_audit_on_every_backend(api_any_db: Api) -> None:
    api = api_any_db
    assert (
        api.client.put(f"{BIZ}/card-policy", headers=api.headers(), json=POLICY).status_code == 200
    )
    assert _auth(api, "any-db-key-1").json()["decision"] == "approve"
    body = api.client.get("/v1/audit", params={"business_id": A},
                          headers=api.headers(A, Role.BANK_STAFF)).json()  # fmt: skip
    assert body["verification"]["ok"] and len(body["items"]) == 1
