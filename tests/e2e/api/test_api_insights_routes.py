"""Issue 9: the insights feed (ETag, cursor pages), insight actions, digests, preferences and
consent, through the real app over SQLite."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from tests.e2e.api.conftest import T0, A, Api, B

from ledgerlens.core.ledger import ConsentGrant, Purpose, Role
from ledgerlens.explain.model import Figure, Insight, InsightKind, Severity

FEED = f"/v1/businesses/{A}/insights"


def _insight(k: int, kind: InsightKind, severity: Severity, bid: str = A) -> Insight:
    return Insight(
        f"ins-{bid}-{k}", bid, kind, severity, f"Title {k}", f"Message {k}",
        (Figure("balance", 123456, "GBP"), Figure("weeks", value=3)), ("a-tx-0001",), 0.75,
        "rule:test", T0 + timedelta(hours=k), date(2026, 6, 1), f"dedup-{bid}-{k}",
        date(2026, 2, 1),
    )  # fmt: skip


def _seed(api: Api, insights: list[Insight], consent: bool = True) -> None:
    with api.container.uow_factory() as uow:
        scope: Any = uow.scope(A)
        if consent:
            scope.consents.grant(ConsentGrant(A, Purpose.INSIGHTS, T0, granted_by="t"))
        scope.insights.upsert(insights, T0)
        uow.commit()


@pytest.fixture
def seeded(api: Api) -> Api:
    _seed(api, [
        _insight(0, InsightKind.LOW_BALANCE, Severity.NOTICE),
        _insight(1, InsightKind.CASH_SHORTFALL, Severity.CRITICAL),
        _insight(2, InsightKind.FX_TIP, Severity.INFO),
        _insight(3, InsightKind.TAX_DUE, Severity.NOTICE),
    ])  # fmt: skip
    return api


def test_feed_is_most_severe_then_newest_with_money_as_strings(seeded: Api) -> None:
    r = seeded.client.get(FEED, headers=seeded.headers())
    assert r.status_code == 200
    body = r.json()
    assert body["consented"] is True
    assert [i["insight_id"] for i in body["items"]] == [
        f"ins-{A}-1",
        f"ins-{A}-3",
        f"ins-{A}-0",
        f"ins-{A}-2",
    ]
    first = body["items"][0]
    assert first["severity"] == "critical" and first["kind"] == "cash_shortfall"
    assert first["evidence"][0] == {
        "label": "balance", "amount": "1234.56", "currency": "GBP", "value": None
    }  # fmt: skip
    assert first["source"] == "rule:test" and first["confidence"] == 0.75


def test_cursor_pages_cover_the_feed_once(seeded: Api) -> None:
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = seeded.client.get(FEED, headers=seeded.headers(), params=params).json()
        seen += [i["insight_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4 == len(set(seen))
    bad = seeded.client.get(FEED, headers=seeded.headers(), params={"cursor": "nope"})
    assert bad.status_code == 400 and bad.json()["type"] == "/problems/invalid-cursor"


def test_etag_answers_304_until_the_feed_changes(seeded: Api) -> None:
    first = seeded.client.get(FEED, headers=seeded.headers())
    etag = first.headers["etag"]
    again = seeded.client.get(FEED, headers={**seeded.headers(), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    seeded.client.post(f"{FEED}/ins-{A}-2/dismiss", headers=seeded.headers())
    changed = seeded.client.get(FEED, headers={**seeded.headers(), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_dismiss_and_act_change_the_status(seeded: Api) -> None:
    d = seeded.client.post(f"{FEED}/ins-{A}-0/dismiss", headers=seeded.headers())
    assert d.status_code == 200 and d.json()["status"] == "dismissed"
    # ins-3 offers no action: none may be named (test_api_insight_act.py covers the choice)
    refused = seeded.client.post(f"{FEED}/ins-{A}-3/act", headers=seeded.headers(),
                                 json={"action": "schedule_transfer"})  # fmt: skip
    assert refused.status_code == 422 and refused.json()["detail"].startswith("action:")
    a = seeded.client.post(f"{FEED}/ins-{A}-3/act", headers=seeded.headers())
    assert a.status_code == 200 and a.json()["status"] == "acted"
    open_ids = [i["insight_id"] for i in seeded.client.get(FEED, headers=seeded.headers())
                .json()["items"]]  # fmt: skip
    assert open_ids == [f"ins-{A}-1", f"ins-{A}-2"]
    every = seeded.client.get(FEED, headers=seeded.headers(), params={"status": "all"}).json()
    assert len(every["items"]) == 4
    assert seeded.client.post(f"{FEED}/nope/dismiss", headers=seeded.headers()).status_code == 404


def test_mute_adds_the_kind_to_the_preferences(seeded: Api) -> None:
    r = seeded.client.post(f"{FEED}/ins-{A}-2/mute", headers=seeded.headers(), json={})
    assert r.status_code == 200 and r.json()["kind"] == "fx_tip"
    prefs = seeded.client.get(f"/v1/businesses/{A}/preferences", headers=seeded.headers())
    assert prefs.json()["muted_kinds"] == ["fx_tip"]


def test_read_only_roles_may_read_but_not_act(seeded: Api) -> None:
    for role in (Role.ACCOUNTANT, Role.BANK_STAFF):
        h = seeded.headers(A, role)
        assert seeded.client.get(FEED, headers=h).status_code == 200
        assert seeded.client.post(f"{FEED}/ins-{A}-0/dismiss", headers=h).status_code == 403
    for role in (Role.EMPLOYEE, Role.SERVICE):
        assert seeded.client.get(FEED, headers=seeded.headers(A, role)).status_code == 403


def test_without_consent_the_feed_is_empty_and_says_so(api: Api) -> None:
    _seed(api, [_insight(0, InsightKind.LOW_BALANCE, Severity.NOTICE)], consent=False)
    body = api.client.get(FEED, headers=api.headers()).json()
    assert body == {"items": [], "next_cursor": None, "consented": False}
    d = api.client.get(f"/v1/businesses/{A}/digests/weekly", headers=api.headers())
    assert d.status_code == 403


DIGEST_FORMATS = [("json", "application/json"), ("text", "text/plain"), ("html", "text/html")]


@pytest.mark.parametrize(("fmt", "media"), DIGEST_FORMATS)
def test_digest_formats(seeded: Api, fmt: str, media: str) -> None:
    r = seeded.client.get(f"/v1/businesses/{A}/digests/daily", headers=seeded.headers(),
                          params={"format": fmt})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    if fmt == "json":
        assert r.json()["period"] == "daily" and r.json()["business_id"] == A
    else:
        assert r.text.strip()


def test_preferences_round_trip_and_refusals(api: Api) -> None:
    url = f"/v1/businesses/{A}/preferences"
    assert api.client.get(url, headers=api.headers()).json()["channels"] == ["in_app"]
    body = {"muted_kinds": ["tax_due"], "buffer": "250.50", "channels": ["email"],
            "quiet_start": "22:00", "quiet_end": "07:00", "timezone": "Europe/London",
            "digest": "daily", "language": "de", "email": "o@example.com"}  # fmt: skip
    put = api.client.put(url, headers=api.headers(), json=body)
    assert put.status_code == 200, put.text
    got = api.client.get(url, headers=api.headers()).json()
    assert got["buffer"] == "250.50" and got["currency"] == "GBP"
    assert got["channels"] == ["email", "in_app"]  # the feed is always on
    assert (got["quiet_start"], got["quiet_end"], got["digest"]) == ("22:00", "07:00", "daily")
    half = api.client.put(url, headers=api.headers(), json={"quiet_start": "22:00"})
    assert half.status_code == 422 and half.json()["type"] == "/problems/refused"
    tz = api.client.put(url, headers=api.headers(), json={"timezone": "Mars/Olympus"})
    assert tz.status_code == 422
    assert api.client.put(url, headers=api.headers(A, Role.ACCOUNTANT), json={}).status_code == 403


def test_consent_grant_and_withdraw_deletes_derived_insights(seeded: Api) -> None:
    url = f"/v1/businesses/{A}/consents"
    listed = {c["purpose"]: c["granted"] for c in
              seeded.client.get(url, headers=seeded.headers()).json()["items"]}  # fmt: skip
    assert listed == {"insights": True, "offers": False, "model_improvement": False,
                      "data_sharing": False}  # fmt: skip
    g = seeded.client.post(f"{url}/offers", headers=seeded.headers())
    assert g.status_code == 200 and {"purpose": "offers", "granted": True} in g.json()["items"]
    w = seeded.client.delete(f"{url}/insights", headers=seeded.headers())
    assert w.status_code == 200
    assert w.json()["deleted"].get("insights") == 4
    feed = seeded.client.get(FEED, headers=seeded.headers()).json()
    assert feed["items"] == [] and feed["consented"] is False
    assert seeded.client.delete(f"{url}/insights", headers=seeded.headers(A, Role.ACCOUNTANT)
                                ).status_code == 403  # fmt: skip


def test_other_tenant_ids_are_404(seeded: Api) -> None:
    r = seeded.client.post(f"/v1/businesses/{B}/insights/ins-{A}-0/dismiss",
                           headers=seeded.headers(B))  # fmt: skip
    assert r.status_code == 404


def test_feed_actions_and_withdrawal_on_every_backend(api_any_db: Api) -> None:
    api = api_any_db
    _seed(api, [_insight(0, InsightKind.LOW_BALANCE, Severity.NOTICE),
                _insight(1, InsightKind.FX_TIP, Severity.WARNING)])  # fmt: skip
    ids = [i["insight_id"] for i in api.client.get(FEED, headers=api.headers()).json()["items"]]
    assert ids == [f"ins-{A}-1", f"ins-{A}-0"]
    assert api.client.post(f"{FEED}/ins-{A}-1/mute", headers=api.headers()).status_code == 200
    assert api.client.post(f"{FEED}/ins-{A}-0/dismiss", headers=api.headers()).status_code == 200
    prefs = api.client.get(f"/v1/businesses/{A}/preferences", headers=api.headers()).json()
    assert prefs["muted_kinds"] == ["fx_tip"]
    w = api.client.delete(f"/v1/businesses/{A}/consents/insights", headers=api.headers())
    assert w.status_code == 200 and w.json()["deleted"].get("insights") == 2
