"""Bearer tokens, roles and PII masking; RS256 against a JWKS served from a local file."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError as PydanticValidationError
from tests.e2e.api.conftest import ACC_A, TX_A, A, Api
from tests.local_servers import serve_jwks

from ledgerlens.core.ledger import Role
from ledgerlens.serve.security import (
    AuthError,
    AuthSettings,
    Permission,
    Principal,
    TokenVerifier,
    authorize,
)
from ledgerlens.serve.settings import ApiSettings, ServeSettings

BATCH = {
    "transactions": [
        {
            "account_id": ACC_A,
            "booking_date": "2026-02-01",
            "amount": "1.00",
            "currency": "GBP",
            "transaction_id": "auth-1",
        }
    ]
}


def test_missing_malformed_and_expired_tokens_are_401(api: Api) -> None:
    url = f"/v1/businesses/{A}"
    r = api.client.get(url)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"
    assert api.client.get(url, headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
    assert api.client.get(url, headers={"Authorization": "Basic dXNlcjpwdw=="}).status_code == 401
    expired = jwt.encode(
        {"sub": "x", "exp": int(time.time()) - 3600, "biz": {A: "owner"}},
        api.settings.auth.secret.get_secret_value(),
        algorithm="HS256",
    )
    assert api.client.get(url, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    forged = jwt.encode(
        {"sub": "x", "exp": int(time.time()) + 60, "biz": {A: "owner"}}, "other-secret-" * 3
    )
    assert api.client.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # business, transactions list, one transaction, export, ingest
        (Role.OWNER, (200, 200, 200, 200, 201)),
        (Role.ACCOUNTANT, (200, 200, 200, 200, 403)),
        (Role.EMPLOYEE, (200, 403, 403, 403, 403)),
        (Role.BANK_STAFF, (200, 200, 200, 403, 403)),
        (Role.SERVICE, (403, 403, 403, 403, 201)),
    ],
)
def test_role_matrix(api: Api, role: Role, expected: tuple[int, ...]) -> None:
    h = api.headers(A, role)
    got = (
        api.client.get(f"/v1/businesses/{A}", headers=h).status_code,
        api.client.get(f"/v1/businesses/{A}/transactions", headers=h).status_code,
        api.client.get(f"/v1/businesses/{A}/transactions/{TX_A}", headers=h).status_code,
        api.client.get(f"/v1/businesses/{A}/export", headers=h).status_code,
        api.client.post(
            f"/v1/businesses/{A}/transactions",
            json=BATCH,
            headers={**h, "Idempotency-Key": f"role-{role}"},
        ).status_code,
    )
    assert got == expected


def test_bank_staff_see_masked_pii_unless_granted(api: Api) -> None:
    url = f"/v1/businesses/{A}/transactions/a-tx-0001"
    masked = api.client.get(url, headers=api.headers(A, Role.BANK_STAFF)).json()
    assert masked["counterparty_name"] == "J*** S***"
    assert masked["counterparty_iban"] == "GB**…5555"
    accounts = api.client.get(
        f"/v1/businesses/{A}/accounts", headers=api.headers(A, Role.BANK_STAFF)
    )
    assert accounts.json()["items"][0]["identifier"].startswith("GB**…")
    granted = api.client.get(url, headers=api.headers(A, Role.BANK_STAFF, pii=True)).json()
    assert granted["counterparty_name"] == "Jane Smith"
    assert granted["counterparty_iban"] == "GB33BUKB20201555555555"
    assert (
        api.client.get(
            f"/v1/businesses/{A}/export", headers=api.headers(A, Role.BANK_STAFF, pii=True)
        ).status_code
        == 200
    )


def test_scope_claims_grant_roles() -> None:
    settings = AuthSettings(secret="s" * 40)  # type: ignore[arg-type]
    token = jwt.encode(
        {
            "sub": "svc",
            "exp": int(time.time()) + 60,
            "scope": f"business:{A}:accountant business:x:y",
        },
        "s" * 40,
    )
    principal = TokenVerifier(settings).verify(token)
    assert dict(principal.roles) == {A: Role.ACCOUNTANT}
    assert authorize(principal, A, Permission.READ_LEDGER) == Role.ACCOUNTANT


def test_authorize_hides_other_tenants_as_not_found() -> None:
    from ledgerlens.core.errors import NotFound
    from ledgerlens.serve.security import Forbidden

    p = Principal("u", {A: Role.EMPLOYEE})
    with pytest.raises(NotFound):
        authorize(p, "biz-b", Permission.READ_BUSINESS)
    with pytest.raises(Forbidden):
        authorize(p, A, Permission.READ_LEDGER)


@pytest.fixture
def rsa_jwks() -> Iterator[tuple[Callable[..., str], str]]:
    """A private key that signs, and the URL of a JWKS with its public half.

    PyJWKClient fetches http(s) only, so the JWKS is served in-process on 127.0.0.1 (an
    ephemeral port, torn down after the test): no traffic leaves the machine.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})

    def sign(claims: dict[str, object], kid: str = "k1") -> str:
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    with serve_jwks([jwk]) as url:
        yield sign, url


def test_rs256_tokens_validate_against_the_jwks(rsa_jwks: tuple[Callable[..., str], str]) -> None:
    sign, url = rsa_jwks
    settings = AuthSettings(
        algorithm="RS256", jwks_url=url, issuer="https://idp.test", audience="ledgerlens"
    )
    verifier = TokenVerifier(settings)
    claims = {
        "sub": "alice",
        "exp": int(time.time()) + 60,
        "iss": "https://idp.test",
        "aud": "ledgerlens",
        "biz": {A: "owner"},
    }
    assert verifier.verify(sign(claims)).roles == {A: Role.OWNER}
    with pytest.raises(AuthError):
        verifier.verify(sign({**claims, "aud": "someone-else"}))
    with pytest.raises(AuthError):
        verifier.verify(sign(claims, kid="unknown"))
    hs = jwt.encode(claims, "x" * 40, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(AuthError):  # an HS256 token must not pass where RS256 is required
        verifier.verify(hs)


def test_rs256_through_the_app(
    api_factory: Callable[[ApiSettings], Api], rsa_jwks: tuple[Callable[..., str], str]
) -> None:
    sign, url = rsa_jwks
    api = api_factory(ApiSettings())
    api.app.state.api.verifier = TokenVerifier(AuthSettings(algorithm="RS256", jwks_url=url))
    token = sign({"sub": "alice", "exp": int(time.time()) + 60, "biz": {A: "owner"}})
    r = api.client.get(f"/v1/businesses/{A}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200


def test_production_refuses_the_development_secret(
    rsa_jwks: tuple[Callable[..., str], str],
) -> None:
    with pytest.raises(PydanticValidationError, match="development signing secret"):
        ServeSettings(environment="production")
    with pytest.raises(PydanticValidationError, match="JWKS_URL"):
        ServeSettings(environment="production", auth=AuthSettings(algorithm="RS256"))
    ok = ServeSettings(
        environment="production", auth=AuthSettings(algorithm="RS256", jwks_url=rsa_jwks[1])
    )
    assert ok.auth.algorithm == "RS256"
    assert (
        ServeSettings(environment="production", auth=AuthSettings(secret="k" * 40)).environment
        == "production"
    )  # type: ignore[arg-type]


def test_auth_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGERLENS_AUTH__SECRET", "from-env-" * 5)
    monkeypatch.setenv("LEDGERLENS_API__RATE_LIMIT_BURST", "7")
    s = ServeSettings()
    assert s.auth.secret.get_secret_value() == "from-env-" * 5 and s.api.rate_limit_burst == 7
