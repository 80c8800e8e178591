"""Issue 9, must-show 5's fast paths through the real app: the cached insights feed never
serves a page older than the last commit (from this process or another connection), and a
POST of transactions schedules one coalesced background refresh."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.api.conftest import ACC_A, T0, A, Api
from tests.e2e.api.test_api_insights_routes import FEED, _insight, _seed

from ledgerlens.adapters.db.engine import create_engine_for
from ledgerlens.adapters.db.unit_of_work import SqlUnitOfWork
from ledgerlens.explain.model import InsightKind, Severity
from ledgerlens.serve.settings import ApiSettings


def _counting_reads(api: Api) -> list[int]:
    state: Any = api.app.state.api
    loads = [0]
    inner = state.read_uow

    def counted() -> Any:
        loads[0] += 1
        return inner()

    state.read_uow = counted
    return loads


def test_the_feed_is_served_from_cache_until_another_connection_commits(api: Api) -> None:
    _seed(api, [_insight(0, InsightKind.LOW_BALANCE, Severity.NOTICE)])
    loads = _counting_reads(api)
    first = api.client.get(FEED, headers=api.headers())
    again = api.client.get(FEED, headers=api.headers())
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert loads[0] == 1  # the second answer was the cached bytes
    # another connection (as another process would) adds an insight
    other = create_engine_for(str(api.container.engine.url))
    try:
        with SqlUnitOfWork(other) as uow:
            uow.scope(A).insights.upsert([_insight(1, InsightKind.TAX_DUE, Severity.CRITICAL)], T0)
            uow.commit()
    finally:
        other.dispose()
    fresh = api.client.get(FEED, headers={**api.headers(), "If-None-Match": first.headers["etag"]})
    assert fresh.status_code == 200 and loads[0] == 2
    assert [i["insight_id"] for i in fresh.json()["items"]] == [f"ins-{A}-1", f"ins-{A}-0"]


def test_an_action_in_this_process_invalidates_the_cached_feed(api: Api) -> None:
    _seed(api, [_insight(0, InsightKind.LOW_BALANCE, Severity.NOTICE)])
    assert len(api.client.get(FEED, headers=api.headers()).json()["items"]) == 1
    api.client.post(f"{FEED}/ins-{A}-0/dismiss", headers=api.headers())
    assert api.client.get(FEED, headers=api.headers()).json()["items"] == []


def test_a_burst_of_posts_refreshes_the_business_once_in_the_background(api_factory) -> None:  # type: ignore[no-untyped-def]
    api: Api = api_factory(
        ApiSettings(rate_limit_per_s=10_000, rate_limit_burst=10_000, refresh_delay_s=2.0)
    )
    for i in range(5):
        row = {"account_id": ACC_A, "booking_date": "2026-03-03", "amount": f"-{i + 1}.00",
               "currency": "GBP", "description": "COUNTER SALE"}  # fmt: skip
        h = {**api.headers(), "Idempotency-Key": f"burst-key-{i}"}
        assert api.client.post(f"/v1/businesses/{A}/transactions", json={"transactions": [row]},
                               headers=h).status_code == 201  # fmt: skip

    def refreshes() -> dict[str, float]:
        text = api.client.get("/metrics").text
        return {
            line.split('outcome="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("ledgerlens_background_refreshes_total")
        }

    deadline = time.monotonic() + 30  # bounded wait for the background task, not a timing test
    while refreshes().get("done", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    counts = refreshes()
    assert counts.get("done") == 1 and counts.get("coalesced") == 4 and "failed" not in counts


def test_the_change_counter_exists_only_where_every_connection_shares_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ledgerlens.adapters.db.engine import sqlite_change_counter

    memory = create_engine_for("sqlite://")
    assert sqlite_change_counter(memory) is None  # each connection its own database: no cache
    memory.dispose()
    engine = create_engine_for(f"sqlite:///{tmp_path / 'c.db'}")
    counter = sqlite_change_counter(engine)
    assert counter is not None
    before = counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    assert counter() != before
    counter.close()
    engine.dispose()
