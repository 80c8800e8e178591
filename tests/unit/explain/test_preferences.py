"""Preferences each change what reaches the owner: mute, quiet hours, channel choice, consent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from ledgerlens.consent import (
    Channel,
    ConsentMissing,
    ConsentState,
    Preferences,
    Purpose,
    allowed,
    in_quiet_hours,
    next_allowed,
    require,
)
from ledgerlens.explain.model import Figure, Insight, InsightKind, Severity, make_insight
from ledgerlens.explain.notify import OutgoingMessage, deliver
from ledgerlens.explain.render import renderer

BID = "b1"
CONSENT = ConsentState(BID, frozenset({Purpose.INSIGHTS}))
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)


def _prefs(**kw: object) -> Preferences:
    base: dict[str, object] = {
        "channels": frozenset({Channel.IN_APP, Channel.EMAIL}),
        "email": "owner@example.test",
    }
    return Preferences(BID, **(base | kw))  # type: ignore[arg-type]


def _insight(kind: InsightKind = InsightKind.DUPLICATE_PAYMENT) -> Insight:
    return make_insight(
        BID,
        kind,
        Severity.WARNING,
        renderer("en"),
        title="t",
        message="m",
        evidence=[Figure("amount", 100, "EUR")],
        confidence=0.9,
        source="rule:x",
        now=NOON,
        valid_days=3,
        dedup_key=f"k:{kind}",
        event_date=date(2026, 12, 2),
    )


class Recorder:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> int:
        self.sent.append(message)
        return 1


def test_muted_kind_is_not_sent_but_others_are() -> None:
    prefs = _prefs(muted_kinds=frozenset({"duplicate_payment"}))
    assert allowed(prefs, CONSENT, "duplicate_payment", Channel.EMAIL, NOON).reason == "muted"
    assert allowed(prefs, CONSENT, "duplicate_payment", Channel.IN_APP, NOON).reason == "muted"
    assert allowed(prefs, CONSENT, "tax_due", Channel.EMAIL, NOON).ok
    rec = Recorder()
    out = deliver(
        [_insight(), _insight(InsightKind.TAX_DUE)], prefs, CONSENT, NOON, {Channel.EMAIL: rec}
    )
    assert [(d.channel, d.status, d.reason) for d in out] == [
        ("email", "held", "muted"),
        ("email", "sent", "ok"),
    ]
    assert len(rec.sent) == 1 and rec.sent[0].to == "owner@example.test"


@pytest.mark.parametrize(
    ("start", "end", "now", "quiet"),
    [
        (time(22), time(7), NIGHT, True),  # window across midnight, late evening
        (time(22), time(7), datetime(2026, 12, 2, 6, 59, tzinfo=UTC), True),
        (time(22), time(7), datetime(2026, 12, 2, 7, 0, tzinfo=UTC), False),  # end is open
        (time(22), time(7), NOON, False),
        (time(12), time(14), NOON, True),  # same-day window
    ],
)
def test_quiet_hours_windows(start: time, end: time, now: datetime, quiet: bool) -> None:
    assert in_quiet_hours(_prefs(quiet_start=start, quiet_end=end), now) is quiet


def test_quiet_hours_use_the_owners_timezone_and_hold_interrupting_channels_only() -> None:
    prefs = _prefs(quiet_start=time(22), quiet_end=time(7), timezone="Europe/Berlin")
    at = datetime(2026, 12, 2, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    assert allowed(prefs, CONSENT, "tax_due", Channel.EMAIL, at).reason == "quiet_hours"
    assert allowed(prefs, CONSENT, "tax_due", Channel.IN_APP, at).ok  # the feed is not a ping
    assert allowed(prefs, CONSENT, "tax_due", Channel.EMAIL, NOON).ok
    assert next_allowed(prefs, at) == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 07:00 Berlin
    rec = Recorder()
    out = deliver([_insight()], prefs, CONSENT, at, {Channel.EMAIL: rec})
    assert out[0].reason == "quiet_hours" and rec.sent == []


def test_channel_choice_decides_where_it_goes() -> None:
    email, push = Recorder(), Recorder()
    senders = {Channel.EMAIL: email, Channel.PUSH: push}
    only_push = _prefs(channels=frozenset({Channel.IN_APP, Channel.PUSH}))
    out = deliver([_insight()], only_push, CONSENT, NOON, senders)
    assert [(d.channel, d.status) for d in out] == [("push", "sent")]
    assert len(push.sent) == 1 and email.sent == []
    in_app_only = _prefs(channels=frozenset({Channel.IN_APP}))
    assert deliver([_insight()], in_app_only, CONSENT, NOON, senders) == []
    assert allowed(only_push, CONSENT, "tax_due", Channel.EMAIL, NOON).reason == "channel_off"
    no_address = _prefs(email="")
    assert allowed(no_address, CONSENT, "tax_due", Channel.EMAIL, NOON).reason == "no_address"


def test_no_insights_consent_nothing_is_sent_and_require_raises() -> None:
    none = ConsentState(BID, frozenset({Purpose.OFFERS}))
    assert allowed(_prefs(), none, "tax_due", Channel.IN_APP, NOON).reason == "no_consent"
    with pytest.raises(ConsentMissing):
        require(none, Purpose.INSIGHTS)
    require(CONSENT, "insights")


def test_a_failing_channel_is_logged_without_stopping_the_others() -> None:
    class Broken:
        def send(self, message: OutgoingMessage) -> int:
            raise ConnectionError("down")

    ok = Recorder()
    prefs = _prefs(channels=frozenset({Channel.EMAIL, Channel.PUSH}))
    logged: list[object] = []
    out = deliver(
        [_insight()],
        prefs,
        CONSENT,
        NOON,
        {Channel.EMAIL: Broken(), Channel.PUSH: ok},
        logged.append,
    )
    assert [(d.channel, d.status, d.reason) for d in out] == [
        ("email", "failed", "ConnectionError"),
        ("push", "sent", "ok"),
    ]
    assert logged == out and len(ok.sent) == 1


def test_preferences_refuse_half_a_quiet_window() -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        Preferences(BID, quiet_start=time(22))
