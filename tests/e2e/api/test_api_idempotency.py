"""Idempotency-Key: replay, refusal of a changed payload, and exactly one effect under a storm."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import func, select
from tests.e2e.api.conftest import ACC_A, A, Api

from ledgerlens.adapters.db.api_tables import idempotency_keys

URL = f"/v1/businesses/{A}/transactions"


def _body(amount: str = "-3.10", **extra: object) -> dict[str, object]:
    # no transaction_id and no reference: only the Idempotency-Key tells a retry from a new sale
    row = {
        "account_id": ACC_A,
        "booking_date": "2026-03-03",
        "amount": amount,
        "currency": "GBP",
        "description": "COUNTER SALE",
        **extra,
    }
    return {"transactions": [row]}


def _stored(api: Api, day: str = "2026-03-03") -> int:
    r = api.client.get(f"{URL}?since={day}&until={day}", headers=api.headers())
    return len(r.json()["items"])


def test_replay_returns_the_first_response(api_any_db: Api) -> None:
    h = {**api_any_db.headers(), "Idempotency-Key": "replay-key-1"}
    first = api_any_db.client.post(URL, json=_body(), headers=h)
    again = api_any_db.client.post(URL, json=_body(), headers=h)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again.headers["idempotent-replayed"] == "true"
    assert _stored(api_any_db) == 1


def test_same_key_different_payload_is_409(api_any_db: Api) -> None:
    h = {**api_any_db.headers(), "Idempotency-Key": "replay-key-2"}
    assert api_any_db.client.post(URL, json=_body(), headers=h).status_code == 201
    r = api_any_db.client.post(URL, json=_body("-3.11"), headers=h)
    assert r.status_code == 409 and r.json()["type"] == "/problems/idempotency-key-reused"
    assert _stored(api_any_db) == 1


def test_keys_are_per_subject_and_required(api: Api) -> None:
    key = {"Idempotency-Key": "shared-key-1"}
    a = api.client.post(URL, json=_body(), headers={**api.headers(subject="one"), **key})
    b = api.client.post(URL, json=_body("-9.99"), headers={**api.headers(subject="two"), **key})
    assert (a.status_code, b.status_code) == (201, 201)
    missing = api.client.post(URL, json=_body("-1.00"), headers=api.headers())
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


def test_refusals_are_replayed_too(api: Api) -> None:
    h = {**api.headers(), "Idempotency-Key": "refused-key-1"}
    first = api.client.post(URL, json=_body("1.001"), headers=h)
    again = api.client.post(URL, json=_body("1.001"), headers=h)
    assert first.status_code == again.status_code == 422
    assert first.content == again.content and again.headers["idempotent-replayed"] == "true"


async def _storm(api: Api, n: int, concurrency: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=api.app)
    headers = {**api.headers(), "Idempotency-Key": "storm-key-0001"}
    out: list[httpx.Response] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for start in range(0, n, concurrency):
            wave = [
                client.post(URL, json=_body(), headers=headers)
                for _ in range(min(concurrency, n - start))
            ]
            out += await asyncio.gather(*wave)
    return out


def test_one_thousand_identical_requests_fifty_at_a_time_have_one_effect(api: Api) -> None:
    responses = asyncio.run(_storm(api, 1000, 50))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1000}, statuses
    # every answer is the first one: a second execution would have said "duplicates": 1
    assert {r.content for r in responses} == {b'{"received":1,"created":1,"duplicates":0}'}
    assert sum(r.headers.get("idempotent-replayed") != "true" for r in responses) == 1
    assert _stored(api) == 1
    with api.container.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(func.count()).select_from(idempotency_keys)).scalar() == 1


def test_concurrent_uploads_import_the_file_once(api_any_db: Api) -> None:
    from tests.e2e.api.test_api_tenant_isolation import MT940

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api_any_db.app)
        headers = {**api_any_db.headers(), "Idempotency-Key": "upload-storm-1"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return list(
                await asyncio.gather(
                    *[
                        client.post(
                            f"/v1/businesses/{A}/statements",
                            headers=headers,
                            files={"file": ("s.sta", MT940)},
                            data={"account_id": ACC_A},
                        )
                        for _ in range(20)
                    ]
                )
            )

    responses = asyncio.run(run())
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    with api_any_db.container.uow_factory() as uow:
        assert len(uow.scope(A).imports.list()) == 1  # the importer ran once
