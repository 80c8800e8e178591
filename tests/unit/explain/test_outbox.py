"""The outbox policy: what a queued message becomes under the owner's current choices, the
rows a refresh and a digest queue, and the backoff between failed attempts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ledgerlens.consent import Channel, ConsentState, Preferences, Purpose
from ledgerlens.explain.digests import Digest
from ledgerlens.explain.model import Figure, Insight, InsightKind, Severity, make_insight
from ledgerlens.explain.outbox import (
    OutboxItem,
    OutboxStatus,
    RetryPolicy,
    digest_items,
    insight_items,
    outbox_id,
    route,
    to_message,
)
from ledgerlens.explain.render import renderer

BID = "b1"
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CONSENT = ConsentState(BID, frozenset({Purpose.INSIGHTS}))
QUIET = {"quiet_start": time(22, 0), "quiet_end": time(7, 0), "timezone": "Europe/London"}


def _prefs(**kw: object) -> Preferences:
    base: dict[str, object] = {
        "channels": frozenset({Channel.IN_APP, Channel.EMAIL, Channel.PUSH}),
        "email": "owner@example.test",
    }
    return Preferences(BID, **(base | kw))  # type: ignore[arg-type,unused-ignore]


def _insight(kind: InsightKind = InsightKind.DUPLICATE_PAYMENT) -> Insight:
    return make_insight(
        BID, kind, Severity.WARNING, renderer("en"), title="Paid twice?", message="m",
        evidence=[Figure("amount", 100, "EUR")], confidence=0.9, source="rule:x", now=NOON,
        valid_days=3, dedup_key=f"k:{kind}", event_date=date(2026, 12, 2),
    )  # fmt: skip


def _item(**kw: object) -> OutboxItem:
    base: dict[str, object] = {
        "business_id": BID, "kind": "insight", "period_key": "ins_1", "channel": "email",
        "purpose": "insights", "topic": "duplicate_payment", "reference": "ins_1",
        "not_before": NOON, "subject": "s", "text": "t",
    }  # fmt: skip
    return OutboxItem(**(base | kw))  # type: ignore[arg-type,unused-ignore]


def test_route_decides_again_with_current_choices() -> None:
    night = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert route(_item(), _prefs(), CONSENT, NOON).action == "send"
    held = route(_item(), _prefs(**QUIET), CONSENT, night)
    assert (held.action, held.reason, held.until) == (
        "hold", "quiet_hours", datetime(2026, 12, 3, 7, 0, tzinfo=UTC))  # fmt: skip
    none = ConsentState(BID)
    assert route(_item(), _prefs(), none, NOON).reason == "no_consent"
    muted = _prefs(muted_kinds=frozenset({"duplicate_payment"}))
    assert route(_item(), muted, CONSENT, NOON).reason == "muted"
    off = _prefs(channels=frozenset({Channel.IN_APP}))
    assert route(_item(), off, CONSENT, NOON).reason == "channel_off"
    assert route(_item(), _prefs(email=""), CONSENT, NOON).reason == "no_address"
    offer = _item(purpose="offers", topic="product_offer")
    assert route(offer, _prefs(), CONSENT, NOON).reason == "no_consent"  # offers not granted
    weekly = _item(kind="digest_weekly", topic="digest")
    assert route(weekly, _prefs(digest="daily"), CONSENT, NOON).reason == "digest_off"
    assert route(weekly, _prefs(digest="weekly"), CONSENT, NOON).action == "send"


def test_refresh_queues_quiet_hours_items_for_their_end_and_stops_the_rest() -> None:
    night = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    ins = _insight()
    items, held = insight_items([ins], _prefs(**QUIET), CONSENT, night)
    assert {(i.channel, i.not_before) for i in items} == {
        ("email", datetime(2026, 12, 3, 7, tzinfo=UTC)),
        ("push", datetime(2026, 12, 3, 7, tzinfo=UTC)),
    }
    assert {(d.channel, d.reason) for d in held} == {
        ("email", "quiet_hours"),
        ("push", "quiet_hours"),
    }
    assert all(i.reference == ins.insight_id and i.period_key == ins.insight_id for i in items)
    items, held = insight_items([ins], _prefs(email=""), CONSENT, NOON)
    assert [i.channel for i in items] == ["push"] and [d.reason for d in held] == ["no_address"]
    offer = _insight(InsightKind.PRODUCT_OFFER)
    items, _ = insight_items([offer], _prefs(), CONSENT, NOON)
    assert {i.purpose for i in items} == {"offers"}


def test_digest_rows_in_app_is_delivered_interrupting_ones_wait() -> None:
    d = Digest(BID, "weekly", date(2026, 11, 30), date(2026, 12, 7), "en", (), (), ())
    night = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    rows = digest_items(d, "digest_weekly", "2026-W50", _prefs(**QUIET), CONSENT, night)
    by = {r.channel: r for r in rows}
    assert set(by) == {"in_app", "email", "push"}
    assert by["in_app"].status is OutboxStatus.SENT and by["in_app"].sent_at == night
    assert by["email"].status is OutboxStatus.PENDING
    assert by["email"].not_before == datetime(2026, 12, 3, 7, tzinfo=UTC)
    assert len({r.reference for r in rows}) == 1 and len({r.outbox_id for r in rows}) == 3
    assert by["email"].subject == "Your weekly summary (30 November – 7 December)"
    assert by["push"].payload["period"] == "weekly"
    muted = _prefs(muted_kinds=frozenset({"digest"}))  # muting "digest" silences every channel
    assert digest_items(d, "digest_weekly", "W", muted, CONSENT, NOON) == []


def test_the_same_message_for_the_same_period_is_the_same_row() -> None:
    assert outbox_id(BID, "digest_daily", "2026-12-07", "email") == outbox_id(
        BID, "digest_daily", "2026-12-07", "email"
    )
    assert outbox_id(BID, "digest_daily", "2026-12-07", "email") != outbox_id(
        BID, "digest_daily", "2026-12-08", "email"
    )
    msg = to_message(_item(kind="digest_daily", reference="dgs_1"), _prefs())
    assert (msg.kind, msg.insight_id, msg.to) == ("digest_daily", "dgs_1", "owner@example.test")


def test_backoff_doubles_up_to_the_cap() -> None:
    p = RetryPolicy(max_attempts=5, base_s=60, cap_s=300)
    waits = [(p.next_try(n, NOON) - NOON).total_seconds() for n in (1, 2, 3, 4)]
    assert waits == [60, 120, 240, 300]
    assert p.lease(NOON) == NOON + timedelta(seconds=p.lease_s)
