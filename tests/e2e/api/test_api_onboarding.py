"""Onboarding through the API: businesses and accounts created by the bank's onboarding backend
(the ``ledgerlens:onboard`` scope), idempotent, refused without the scope, listed by cursor."""

from __future__ import annotations

from typing import Any

import jwt
from structlog.testing import capture_logs
from tests.e2e.api.conftest import ACC_A, ACC_B, A, Api, B
from typer.testing import CliRunner

from ledgerlens.core.ledger import Role
from ledgerlens.serve.security import (
    AuthSettings,
    TokenVerifier,
    authorize_onboarding,
    issue_dev_token,
)

IBAN = "GB82WEST12345698765432"
BAD_IBAN = "GB82WEST12345698765433"  # one digit off: the mod-97 check fails
NEW = "acme-bakery"


def onboard(api: Api, **kw: object) -> dict[str, str]:
    token = issue_dev_token(api.settings.auth, "onboarding-backend", {}, onboard=True, **kw)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


def _business(business_id: str = NEW, **over: Any) -> dict[str, Any]:
    return {
        "business_id": business_id,
        "name": "Acme Bakery Ltd",
        "country": "GB",
        "base_currency": "GBP",
        **over,
    }


def _post_business(api: Api, body: dict[str, Any], key: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/v1/businesses",
        json=body,
        headers={**(headers or onboard(api)), "Idempotency-Key": key},
    )


def _post_account(  # type: ignore[no-untyped-def]
    api: Api,
    business_id: str,
    body: dict[str, Any],
    key: str,
    headers: dict[str, str] | None = None,
):
    return api.client.post(
        f"/v1/businesses/{business_id}/accounts",
        json=body,
        headers={**(headers or onboard(api)), "Idempotency-Key": key},
    )


def _count_businesses(api: Api) -> int:
    with api.container.uow_factory() as uow:
        return len(uow.businesses.list())


def test_onboard_a_business_and_account_then_ingest_into_it(api: Api) -> None:
    r = _post_business(api, _business(), "onb-biz-0001")
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v1/businesses/{NEW}"
    out = r.json()
    assert {k: out[k] for k in ("business_id", "name", "country", "base_currency")} == {
        "business_id": NEW, "name": "Acme Bakery Ltd", "country": "GB", "base_currency": "GBP",
    }  # fmt: skip

    account = {"account_id": "acme-main", "iban": "GB82 WEST 1234 5698 7654 32",
               "currency": "GBP", "account_type": "current", "name": "Main"}  # fmt: skip
    r = _post_account(api, NEW, account, "onb-acc-0001")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["account_id"] == "acme-main" and body["currency"] == "GBP"
    assert IBAN not in r.text  # the onboarding backend holds no role: the identifier is masked
    assert body["identifier"].startswith("GB") and body["identifier"].endswith("5432")

    owner = api.headers(NEW, Role.OWNER)
    assert api.client.get(f"/v1/businesses/{NEW}", headers=owner).status_code == 200
    accounts = api.client.get(f"/v1/businesses/{NEW}/accounts", headers=owner).json()["items"]
    assert [(a["account_id"], a["identifier"]) for a in accounts] == [("acme-main", IBAN)]

    batch = {"transactions": [{"account_id": "acme-main", "booking_date": "2026-03-02",
                               "amount": "-4.20", "currency": "GBP", "transaction_id": "onb-tx-1",
                               "description": "CARD PAYMENT FLOUR MILL"}]}  # fmt: skip
    service = {**api.headers(NEW, Role.SERVICE), "Idempotency-Key": "onb-ingest-01"}
    r = api.client.post(f"/v1/businesses/{NEW}/transactions", json=batch, headers=service)
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 1
    r = api.client.get(f"/v1/businesses/{NEW}/transactions/onb-tx-1", headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["account_id"] == "acme-main" and r.json()["amount"] == "-4.20"


def test_business_post_is_idempotent(api: Api) -> None:
    before = _count_businesses(api)
    first = _post_business(api, _business(), "onb-replay-01")
    again = _post_business(api, _business(), "onb-replay-01")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert _count_businesses(api) == before + 1
    # the same key for another business is a misuse, not a second business
    other = _post_business(api, _business("other-biz"), "onb-replay-01")
    assert other.status_code == 409
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert _count_businesses(api) == before + 1


def test_taken_ids_are_409(api: Api) -> None:
    r = _post_business(api, _business(A, name=f"Business {A}"), "onb-taken-01")
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert _post_business(api, _business(), "onb-taken-02").status_code == 201
    assert _post_business(api, _business(), "onb-taken-03").status_code == 409  # a new key

    account = {"account_id": "acme-main", "iban": IBAN, "currency": "GBP"}
    assert _post_account(api, NEW, account, "onb-taken-04").status_code == 201
    again = _post_account(api, NEW, {**account, "name": "x"}, "onb-taken-05")
    assert again.status_code == 409 and IBAN not in again.text
    # an id another business holds (account ids are global) and a second account with the
    # same IBAN and currency: both refused, neither echoes the IBAN
    for body in ({**account, "account_id": ACC_B}, {**account, "account_id": "acme-second"}):
        r = _post_account(api, NEW, body, f"onb-taken-{body['account_id']}")
        assert r.status_code == 409, r.text
        assert IBAN not in r.text and B not in r.text


def test_no_scope_no_onboarding(api: Api) -> None:
    for role in Role:
        r = _post_business(api, _business(), f"onb-403-{role}", api.headers(A, role))
        assert r.status_code == 403, (role, r.text)
        account = {"account_id": f"acc-{role}", "iban": IBAN, "currency": "GBP"}
        r = _post_account(api, A, account, f"onb-403a-{role}", api.headers(A, role))
        assert r.status_code == 403, (role, r.text)
    assert "ledgerlens:onboard" in r.json()["detail"]
    with api.container.uow_factory() as uow:
        assert uow.businesses.get(NEW) is None
        assert [a.account_id for a in uow.scope(A).accounts.list()] == [ACC_A]


def test_owner_of_a_cannot_add_an_account_to_b(api: Api) -> None:
    account = {"account_id": "sneaky", "iban": IBAN, "currency": "GBP"}
    r = _post_account(api, B, account, "onb-404-0001", api.headers(A, Role.OWNER))
    assert r.status_code == 404, r.text
    assert B not in r.text
    # with the scope, an unknown business is 404 too
    assert _post_account(api, "no-such-biz", account, "onb-404-0002").status_code == 404
    with api.container.uow_factory() as uow:
        assert [a.account_id for a in uow.scope(B).accounts.list()] == [ACC_B]


def test_bad_iban_is_422_naming_iban_and_never_logged(api: Api) -> None:
    assert _post_business(api, _business(), "onb-iban-01").status_code == 201
    with capture_logs() as logs:
        r = _post_account(
            api, NEW, {"account_id": "acme-x", "iban": BAD_IBAN, "currency": "GBP"}, "onb-iban-02"
        )
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["errors"][0]["loc"] == ["body", "iban"]
        assert "iban" in problem["detail"] and BAD_IBAN not in r.text
        ok = _post_account(
            api, NEW, {"account_id": "acme-y", "iban": IBAN, "currency": "GBP"}, "onb-iban-03"
        )
        assert ok.status_code == 201
    assert any(e.get("event") == "account added" for e in logs)
    assert IBAN not in repr(logs) and BAD_IBAN not in repr(logs)
    for body, field in (
        ({"account_id": "acme-z", "iban": "DE89370400440532013000", "currency": "GBP"}, None),
        ({"account_id": "acme-z", "iban": "GB82WEST1234569876543", "currency": "GBP"}, "iban"),
        ({"account_id": "acme-z", "currency": "GBP"}, "iban"),
        ({"account_id": "acme-z", "iban": IBAN, "currency": "ZZZ"}, "currency"),
    ):
        r = _post_account(api, NEW, body, f"onb-iban-{len(str(body))}-{field}")
        if field is None:
            assert r.status_code == 201, r.text  # a valid German IBAN
        else:
            assert r.status_code == 422, r.text
            assert r.json()["errors"][0]["loc"][-1] == field
    r = _post_business(api, _business("acme-2", country="XX"), "onb-iban-04")
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "country"]
    with api.container.uow_factory() as uow:
        assert sorted(a.account_id for a in uow.scope(NEW).accounts.list()) == ["acme-y", "acme-z"]


def test_cli_onboard_token_is_accepted(api: Api, monkeypatch: Any) -> None:
    from ledgerlens.jobs.cli import app

    monkeypatch.setenv("LEDGERLENS_ENVIRONMENT", "test")
    run = CliRunner().invoke(app, ["token", "--onboard"])
    assert run.exit_code == 0, run.output
    token = run.output.strip()
    assert jwt.decode(token, options={"verify_signature": False})["biz"] == {}
    headers = {"Authorization": f"Bearer {token}"}
    assert _post_business(api, _business(), "onb-cli-0001", headers).status_code == 201
    # without --onboard (and without a role) no token is issued
    assert CliRunner().invoke(app, ["token"]).exit_code != 0
    plain = CliRunner().invoke(app, ["token", "--business", A, "--role", "owner"])
    assert plain.exit_code == 0, plain.output
    r = _post_business(
        api, _business("acme-3"), "onb-cli-0002",
        {"Authorization": f"Bearer {plain.output.strip()}"},
    )  # fmt: skip
    assert r.status_code == 403


def test_scope_claim_forms_parse() -> None:
    settings = AuthSettings()
    verifier = TokenVerifier(settings)
    for scope in ("ledgerlens:onboard", "pii:read ledgerlens:onboard", ["ledgerlens:onboard"]):
        token = jwt.encode(
            {
                "sub": "svc",
                "exp": 4102444800,
                "scope" if isinstance(scope, str) else "scopes": scope,
            },
            settings.secret.get_secret_value(),
            algorithm="HS256",
        )
        principal = verifier.verify(token)
        assert principal.onboard and principal.roles == {}
        authorize_onboarding(principal, "anything")
    plain = verifier.verify(issue_dev_token(settings, "u", {A: Role.OWNER}, pii=True))
    assert not plain.onboard and plain.pii


def test_list_pages_by_cursor(api: Api) -> None:
    created = [f"onb-list-{i:02d}" for i in range(5)]
    for i, business_id in enumerate(created):
        assert _post_business(api, _business(business_id), f"onb-list-key-{i}").status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = api.client.get("/v1/businesses", params=params, headers=onboard(api))
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [b["business_id"] for b in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([A, B, *created]) and pages == 4
    # without the scope: only the token's own businesses
    r = api.client.get("/v1/businesses", headers=api.headers(A, Role.ACCOUNTANT))
    assert [b["business_id"] for b in r.json()["items"]] == [A]
    r = api.client.get("/v1/businesses", params={"cursor": "bm90LWEtY3Vyc29y"},
                       headers=onboard(api))  # fmt: skip
    assert r.status_code == 400 and r.json()["type"] == "/problems/invalid-cursor"
