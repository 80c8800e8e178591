"""The routes that exist today, end to end on SQLite and PostgreSQL through the real bootstrap."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from tests.e2e.api.conftest import ACC_A, N_A, TX_A, A, Api

REPO = Path(__file__).resolve().parents[3]
MT940 = REPO / "examples" / "demo-cafe-current-2026-10.mt940"


def test_business_and_accounts(api_any_db: Api) -> None:
    c, h = api_any_db.client, api_any_db.headers()
    r = c.get(f"/v1/businesses/{A}", headers=h)
    assert r.status_code == 200
    assert r.json() == {
        "business_id": A,
        "name": f"Business {A}",
        "country": "GB",
        "base_currency": "GBP",
        "created_at": "2026-01-05T09:00:00Z",
    }
    r = c.get(f"/v1/businesses/{A}/accounts", headers=h)
    assert [a["account_id"] for a in r.json()["items"]] == [ACC_A]


def _all_pages(api: Api, query: str, limit: int) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    url = f"/v1/businesses/{A}/transactions?limit={limit}{query}"
    for _ in range(100):
        body = api.client.get(url, headers=api.headers()).json()
        assert len(body["items"]) <= limit
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        url = f"/v1/businesses/{A}/transactions?limit={limit}{query}&cursor={body['next_cursor']}"
    raise AssertionError("pagination did not end")


def test_cursor_pages_cover_everything_once_newest_first(api_any_db: Api) -> None:
    items = _all_pages(api_any_db, "", limit=7)
    ids = [i["transaction_id"] for i in items]
    assert len(ids) == N_A == len(set(ids))
    dates = [i["booking_date"] for i in items]
    assert dates == sorted(dates, reverse=True)


def test_filters_text_dates_account_and_amounts(api_any_db: Api) -> None:
    coffee = _all_pages(api_any_db, "&q=coffee", limit=500)
    assert coffee and all("COFFEE" in i["description"] for i in coffee)
    assert len(coffee) == len([i for i in range(N_A) if i % 3 == 0])
    window = _all_pages(api_any_db, "&since=2026-01-03&until=2026-01-05", limit=500)
    assert sorted(i["booking_date"] for i in window) == ["2026-01-03", "2026-01-04", "2026-01-05"]
    assert _all_pages(api_any_db, "&account_id=nope", limit=500) == []
    # amounts are signed decimals: money in between 10.00 and 10.50 inclusive
    got = _all_pages(api_any_db, "&min_amount=10.00&max_amount=10.50", limit=500)
    expected = {f"a-tx-{i:04d}" for i in range(N_A) if i % 2 == 0 and 1000 <= 1000 + 7 * i <= 1050}
    assert {i["transaction_id"] for i in got} == expected
    assert all(isinstance(i["amount"], str) for i in got)


def test_cursor_from_other_filters_is_refused(api: Api) -> None:
    h = api.headers()
    first = api.client.get(f"/v1/businesses/{A}/transactions?limit=2", headers=h).json()
    r = api.client.get(
        f"/v1/businesses/{A}/transactions?limit=2&q=coffee&cursor={first['next_cursor']}", headers=h
    )
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    r = api.client.get(f"/v1/businesses/{A}/transactions?cursor=garbage!", headers=h)
    assert r.status_code == 400


def test_etag_and_if_none_match(api: Api) -> None:
    h = api.headers()
    url = f"/v1/businesses/{A}/transactions?limit=5"
    first = api.client.get(url, headers=h)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    again = api.client.get(url, headers={**h, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    body = {
        "transactions": [
            {
                "account_id": ACC_A,
                "booking_date": "2027-01-01",
                "amount": "1.00",
                "currency": "GBP",
                "transaction_id": "new-1",
            }
        ]
    }
    posted = api.client.post(
        f"/v1/businesses/{A}/transactions",
        json=body,
        headers={**h, "Idempotency-Key": "etag-key-1"},
    )
    assert posted.status_code == 201
    changed = api.client.get(url, headers={**h, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_get_one_transaction_and_missing(api_any_db: Api) -> None:
    h = api_any_db.headers()
    r = api_any_db.client.get(f"/v1/businesses/{A}/transactions/{TX_A}", headers=h)
    assert r.status_code == 200
    assert r.json()["amount"] == "10.00" and r.json()["counterparty_name"] == "Acme Supplies Ltd"
    r = api_any_db.client.get(f"/v1/businesses/{A}/transactions/missing", headers=h)
    assert r.status_code == 404 and r.json()["status"] == 404


def _batch(*rows: dict[str, object]) -> dict[str, object]:
    base = {"account_id": ACC_A, "booking_date": "2026-02-01", "currency": "GBP"}
    return {"transactions": [{**base, **row} for row in rows]}


def test_ingest_creates_then_dedups_by_id_and_by_reference(api_any_db: Api) -> None:
    c, h = api_any_db.client, api_any_db.headers()
    url = f"/v1/businesses/{A}/transactions"
    body = _batch(
        {"transaction_id": "rt-1", "amount": "-4.20", "description": "COFFEE"},
        {"bank_reference": "BR-9", "amount": "100", "description": "SALE"},
    )
    r = c.post(url, json=body, headers={**h, "Idempotency-Key": "ingest-0001"})
    assert (r.status_code, r.json()) == (201, {"received": 2, "created": 2, "duplicates": 0})
    # a new key with the same transactions: stored already (id; reference + date + amount)
    again = _batch(
        {"transaction_id": "rt-1", "amount": "-4.20", "description": "COFFEE"},
        {"bank_reference": "BR-9", "amount": "100.00", "description": "sale (re-sent)"},
    )
    r = c.post(url, json=again, headers={**h, "Idempotency-Key": "ingest-0002"})
    assert (r.status_code, r.json()) == (200, {"received": 2, "created": 0, "duplicates": 2})
    got = c.get(f"{url}/rt-1", headers=h).json()
    assert (got["amount"], got["booking_date"]) == ("-4.20", "2026-02-01")


def test_ingest_refuses_the_whole_batch_with_issues(api_any_db: Api) -> None:
    c, h = api_any_db.client, api_any_db.headers()
    url = f"/v1/businesses/{A}/transactions"
    body = _batch(
        {"transaction_id": "ok-1", "amount": "1.00"},
        {"transaction_id": "bad-1", "amount": "1.001"},
        {"transaction_id": "bad-2", "amount": "1.00", "account_id": "acc-b1"},
        {"transaction_id": "bad-3", "amount": "1.00", "currency": "EUR"},
    )
    r = c.post(url, json=body, headers={**h, "Idempotency-Key": "refused-01"})
    assert r.status_code == 422
    issues = r.json()["issues"]
    assert [(i["line"], i["field"]) for i in issues] == [
        (2, "amount"),
        (3, "account_id"),
        (4, "currency"),
    ]
    assert c.get(f"{url}/ok-1", headers=h).status_code == 404  # nothing of it was stored


@pytest.mark.parametrize(
    "row",
    [
        {"amount": 1.5},  # a float is never money
        {"amount": "1,50"},
        {"amount": "1.00", "booking_date": "2026-02-30"},
        {"amount": "1.00", "description": "nul\u0000byte"},
        {"amount": "1.00", "surprise": "field"},
        {"amount": "1.00", "mcc": "58"},
    ],
)
def test_ingest_validation_is_a_422_problem_without_values(
    api: Api, row: dict[str, object]
) -> None:
    r = api.client.post(
        f"/v1/businesses/{A}/transactions",
        json=_batch(row),
        headers={**api.headers(), "Idempotency-Key": "invalid-01"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"] and "input" not in problem["errors"][0]


def test_statement_upload_imports_and_reports(api_any_db: Api) -> None:
    c, h = api_any_db.client, api_any_db.headers()
    url = f"/v1/businesses/{A}/statements"
    with MT940.open("rb") as fh:
        r = c.post(
            url, files={"file": (MT940.name, fh)}, headers={**h, "Idempotency-Key": "upload-001"}
        )
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["format"] == "mt940" and report["refused"] is False
    assert report["path"] == f"upload:{MT940.name}"
    assert report["new"] == report["transactions"] > 0
    listed = _all_pages(api_any_db, "", limit=500)
    assert len(listed) == N_A + report["new"]


def test_refused_upload_is_422_with_issues(api: Api) -> None:
    r = api.client.post(
        f"/v1/businesses/{A}/statements",
        files={"file": ("broken.xml", b"<Document><BkToCstmrStmt><Stmt>")},
        headers={**api.headers(), "Idempotency-Key": "upload-bad-1"},
    )
    assert r.status_code == 422
    assert any(i["fatal"] and i["field"] == "xml" for i in r.json()["issues"])


def test_export_streams_canonical_csv(api_any_db: Api) -> None:
    r = api_any_db.client.get(f"/v1/businesses/{A}/export", headers=api_any_db.headers())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == N_A
    assert rows[0]["transaction_id"] == TX_A and rows[0]["amount"] == "10.00"


def test_health_readiness_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json() == {"status": "ready"}
    api.client.get(f"/v1/businesses/{A}", headers=api.headers())
    text = api.client.get("/metrics").text
    assert 'route="/v1/businesses/{business_id}"' in text
    assert A not in text  # labels are templates, never ids


def test_readiness_fails_when_the_database_is_gone(api: Api) -> None:
    api.container.engine.dispose()  # type: ignore[attr-defined]
    api.app.state.api.container.engine = __import__("sqlalchemy").create_engine(
        "sqlite:////nonexistent/dir/x.db"
    )
    r = api.client.get("/readyz")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
