"""The real-time POST takes at most 1,000 lines per call: 1,000 are stored (201), 1,001 are
refused whole as a 422 problem naming the field, and nothing of the refused call is stored."""

from __future__ import annotations

from tests.e2e.api.conftest import ACC_A, N_A, A, Api

from ledgerlens.ingest.realtime import MAX_BATCH

URL = f"/v1/businesses/{A}/transactions"


def _lines(n: int, prefix: str) -> dict[str, object]:
    return {
        "transactions": [
            {
                "transaction_id": f"{prefix}-{i:05d}",
                "account_id": ACC_A,
                "booking_date": f"2026-02-{1 + i % 28:02d}",
                "amount": f"-{1 + i % 97}.{i % 100:02d}",
                "currency": "GBP",
                "description": f"CARD PAYMENT SHOP {i}",
            }
            for i in range(n)
        ]
    }


def _stored(api: Api) -> int:
    with api.container.uow_factory() as uow:
        return int(uow.scope(A).transactions.count())


def test_the_cap_is_1000_lines() -> None:
    assert MAX_BATCH == 1000


def test_1000_lines_are_stored(api: Api) -> None:
    r = api.client.post(
        URL, json=_lines(1000, "cap"), headers={**api.headers(), "Idempotency-Key": "cap-1000"}
    )
    assert r.status_code == 201, r.text
    assert r.json() == {"received": 1000, "created": 1000, "duplicates": 0}
    assert _stored(api) == N_A + 1000


def test_1001_lines_are_a_422_problem_and_nothing_is_stored(api: Api) -> None:
    r = api.client.post(
        URL, json=_lines(1001, "over"), headers={**api.headers(), "Idempotency-Key": "cap-1001"}
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and problem["type"] == "/problems/unprocessable"
    assert [e["loc"] for e in problem["errors"]] == [["body", "transactions"]]
    assert problem["errors"][0]["type"] == "too_long"
    assert "over-00000" not in r.text  # a problem never echoes what was sent
    assert _stored(api) == N_A
