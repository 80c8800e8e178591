"""Rate limits, body limits, security headers and the problem-details shape of every error."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.api.conftest import ACC_A, A, Api

from ledgerlens.serve.ratelimit import TokenBucketLimiter
from ledgerlens.serve.settings import ApiSettings


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(rate_per_s=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.check("t") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check("t") == 0.5  # one token comes back after 1/rate s
    assert limiter.check("other") == 0.0  # buckets are per token
    now[0] = 0.5
    assert limiter.check("t") == 0.0


def test_rate_limit_is_429_with_retry_after_per_token(
    api_factory: Callable[[ApiSettings], Api],
) -> None:
    api = api_factory(ApiSettings(rate_limit_per_s=0.5, rate_limit_burst=3))
    h = api.headers()
    codes = [api.client.get(f"/v1/businesses/{A}", headers=h).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = api.client.get(f"/v1/businesses/{A}", headers=h)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"] == "application/problem+json"
    other = api.headers(subject="someone-else")
    assert api.client.get(f"/v1/businesses/{A}", headers=other).status_code == 200


def test_oversized_bodies_are_413(api_factory: Callable[[ApiSettings], Api]) -> None:
    api = api_factory(ApiSettings(max_body_bytes=2048, max_upload_bytes=4096))
    h = {**api.headers(), "Idempotency-Key": "big-body-1"}
    row = {
        "account_id": ACC_A,
        "booking_date": "2026-02-01",
        "amount": "1.00",
        "currency": "GBP",
        "description": "x" * 900,
    }
    r = api.client.post(
        f"/v1/businesses/{A}/transactions", json={"transactions": [row] * 5}, headers=h
    )
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    r = api.client.post(
        f"/v1/businesses/{A}/statements",
        files={"file": ("big.sta", b"x" * 200_000)},
        headers={**h, "Idempotency-Key": "big-upload-1"},
    )
    assert r.status_code == 413

    def chunked():  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b"{" + b" " * 1000

    r = api.client.post(
        f"/v1/businesses/{A}/transactions",
        content=chunked(),
        headers={**h, "Content-Type": "application/json", "Idempotency-Key": "chunked-1"},
    )
    assert r.status_code == 413


def test_security_headers_and_no_store(api: Api) -> None:
    for r in (api.client.get("/healthz"), api.client.get(f"/v1/businesses/{A}")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["cache-control"] == "no-store"
    listed = api.client.get(f"/v1/businesses/{A}/transactions", headers=api.headers())
    assert listed.headers["cache-control"] == "private, no-cache"  # ETag revalidation


def test_framework_errors_are_problems_too(api: Api) -> None:
    unknown = api.client.get("/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["type"] == "/problems/not-found"
    wrong = api.client.put(f"/v1/businesses/{A}", headers=api.headers())
    assert wrong.status_code == 405 and wrong.headers["content-type"] == "application/problem+json"
    bad_json = api.client.post(
        f"/v1/businesses/{A}/transactions",
        content=b"{not json",
        headers={
            **api.headers(),
            "Content-Type": "application/json",
            "Idempotency-Key": "bad-json-1",
        },
    )
    assert bad_json.status_code == 400 and bad_json.json()["status"] == 400


def test_openapi_documents_every_error_with_a_problem_example(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert "Problem" in doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for op in ops.values():
            codes = set(op["responses"])
            assert {"401", "403", "404", "422", "429", "503"} <= codes, (path, codes)
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert resp["content"]["application/problem+json"]["example"]["status"] == int(
                        code
                    )
