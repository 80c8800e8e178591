"""The dispatcher on SQLite and PostgreSQL, with a real SMTP server and a real webhook receiver:
digests go out at the owner's local send time once per period, quiet hours hold and release at
the right local moment, two dispatchers never send twice, failures back off and are given up
and recorded, and consent withdrawal or a new mute stops what was queued."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from ledgerlens.adapters.db import sql_uow_factory
from ledgerlens.adapters.notifiers import SmtpNotifier, WebhookNotifier
from ledgerlens.consent import Channel, Preferences
from ledgerlens.core.ledger import Business, ConsentGrant, Purpose
from ledgerlens.explain import service as explain_service
from ledgerlens.explain.outbox import OutboxStatus, RetryPolicy
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_dispatch import DispatchDue
from ledgerlens.pipeline_insights import WithdrawConsent

pytest.importorskip("aiosmtpd.controller")

from local_servers import SmtpInbox, WebhookReceiver

BID = "cafe-berlin"
SECRET = b"push-secret"
# Monday 7 December 2026; Berlin is UTC+1 in winter: 07:00 local = 06:00 UTC
MONDAY = datetime(2026, 12, 7, tzinfo=UTC)


def at_utc(hh: int, mm: int = 0, days: int = 0) -> datetime:
    return MONDAY + timedelta(days=days, hours=hh, minutes=mm)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    inbox = SmtpInbox()
    controller, port = inbox.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as r:
        yield r


def _prefs(hook_url: str = "", **kw: Any) -> Preferences:
    base: dict[str, Any] = {
        "channels": frozenset({Channel.IN_APP, Channel.EMAIL, Channel.PUSH}),
        "email": "inhaber@example.test",
        "push_url": hook_url,
        "timezone": "Europe/Berlin",
        "digest": "weekly",
        "language": "de",
    }
    return Preferences(BID, **(base | kw))


def _setup(engine: Engine, prefs: Preferences, consent: bool = True) -> Callable[[], Any]:
    uowf: Callable[[], Any] = sql_uow_factory(engine)
    with uowf() as uow:
        uow.businesses.add(Business(BID, "Café Berlin GmbH", "DE", "EUR"))
        scope = uow.scope(BID)
        if consent:
            scope.consents.grant(ConsentGrant(BID, Purpose.INSIGHTS, at_utc(0, days=-30)))
        scope.insights.save_preferences(prefs)
        uow.commit()
    return uowf


def _services(uowf: Callable[[], Any], port: int, hook: WebhookReceiver | None = None,
              **kw: Any) -> SimpleNamespace:  # fmt: skip
    notifiers: dict[object, object] = {
        Channel.EMAIL: SmtpNotifier("127.0.0.1", port, "insights@ledgerlens.test", retries=0)
    }
    if hook is not None:
        notifiers[Channel.PUSH] = WebhookNotifier(hook.url, SECRET, retries=0, backoff_s=0)
    return SimpleNamespace(uow_factory=uowf, notifiers=notifiers, **kw)


def _rows(uowf: Callable[[], Any]) -> list[Any]:
    with uowf() as uow:
        return list(uow.scope(BID).insights.outbox.list(BID))


def _log(uowf: Callable[[], Any]) -> list[dict[str, Any]]:
    with uowf() as uow:
        return list(uow.scope(BID).insights.notifications())


def test_weekly_digest_goes_out_once_at_the_local_send_time(
    engine: Engine, smtp: tuple[SmtpInbox, int], hook: WebhookReceiver
) -> None:
    inbox, port = smtp
    uowf = _setup(engine, _prefs(hook.url))
    services = _services(uowf, port, hook)

    early = dispatch(DispatchDue(now=at_utc(5, 59)), services)  # 06:59 in Berlin
    assert (early.digests_queued, early.sent) == (0, 0) and _rows(uowf) == []

    first = dispatch(DispatchDue(now=at_utc(6, 1)), services)  # 07:01 in Berlin
    assert first.digests_queued == 3  # in-app (delivered by being stored), e-mail, push
    assert first.sent == 2 and len(inbox.messages) == 1 and len(hook.delivered) == 1
    (_sender, rcpts, msg) = inbox.messages[0]
    assert rcpts == ["inhaber@example.test"] and msg["X-LedgerLens-Kind"] == "digest_weekly"
    assert msg["Subject"] == "Ihre Wochenübersicht (30. November – 7. Dezember)"
    call = hook.delivered[0]
    assert call["body"]["kind"] == "digest_weekly" and call["body"]["digest"]["period"] == "weekly"
    assert call["idempotency_key"] == call["body"]["digest_id"]

    # again the same minute, later that day, the next day: the period is done
    for now in (at_utc(6, 1), at_utc(9), at_utc(6, 1, days=1)):
        again = dispatch(DispatchDue(now=now), services)
        assert (again.digests_queued, again.sent) == (0, 0)
    assert len(inbox.messages) == 1 and len(hook.calls) == 1
    rows = _rows(uowf)
    assert {(r.channel, r.status, r.period_key) for r in rows} == {
        ("in_app", OutboxStatus.SENT, "2026-W50"),
        ("email", OutboxStatus.SENT, "2026-W50"),
        ("push", OutboxStatus.SENT, "2026-W50"),
    }
    # next Monday is the next period
    nxt = dispatch(DispatchDue(now=at_utc(6, 1, days=7)), services)
    assert nxt.digests_queued == 3 and nxt.sent == 2 and len(inbox.messages) == 2


def test_two_dispatchers_at_once_send_each_digest_once(
    engine: Engine, smtp: tuple[SmtpInbox, int], hook: WebhookReceiver
) -> None:
    inbox, port = smtp
    uowf = _setup(engine, _prefs(hook.url, digest="daily"))
    services = _services(uowf, port, hook)
    reports: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run(day: int) -> None:
        try:
            start.wait()
            reports.append(dispatch(DispatchDue(now=at_utc(6, 5, days=day)), services))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    for day in (0, 1):  # two days: two periods, each raced by three dispatchers
        threads = [threading.Thread(target=run, args=(day,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    assert len(inbox.messages) == 2 and len(hook.delivered) == 2
    assert sum(r.sent for r in reports) == 4
    assert {r.period_key for r in _rows(uowf)} == {"2026-12-07", "2026-12-08"}
    assert len(_rows(uowf)) == 6  # 2 periods x 3 channels, however many builders raced


def test_quiet_hours_hold_a_digest_until_they_end_in_the_owner_time_zone(
    engine: Engine, smtp: tuple[SmtpInbox, int]
) -> None:
    inbox, port = smtp
    prefs = _prefs(
        channels=frozenset({Channel.IN_APP, Channel.EMAIL}),
        timezone="America/New_York",  # UTC-5 in December
        digest="daily",
        quiet_start=time(22, 0),
        quiet_end=time(8, 30),
    )
    uowf = _setup(engine, prefs)
    services = _services(uowf, port)
    # 07:00 in New York = 12:00 UTC: due, but inside the quiet hours (until 08:30 local)
    due = dispatch(DispatchDue(now=at_utc(12, 0)), services)
    assert due.digests_queued == 2 and due.sent == 0 and inbox.messages == []
    email = next(r for r in _rows(uowf) if r.channel == "email")
    assert email.status is OutboxStatus.PENDING
    assert email.not_before == at_utc(13, 30)  # 08:30 New York time
    assert dispatch(DispatchDue(now=at_utc(13, 29)), services).sent == 0
    released = dispatch(DispatchDue(now=at_utc(13, 30)), services)
    assert released.sent == 1 and len(inbox.messages) == 1
    assert dispatch(DispatchDue(now=at_utc(13, 45)), services).sent == 0
    assert len(inbox.messages) == 1


def test_a_failing_channel_backs_off_and_is_given_up_and_recorded(
    engine: Engine, smtp: tuple[SmtpInbox, int]
) -> None:
    _, port = smtp
    policy = RetryPolicy(max_attempts=3, base_s=60, cap_s=3600)
    with WebhookReceiver(SECRET, statuses=[500] * 10) as down:
        prefs = _prefs(down.url, channels=frozenset({Channel.IN_APP, Channel.PUSH}))
        uowf = _setup(engine, prefs)
        services = _services(uowf, port, down, retry_policy=policy)
        t0 = at_utc(6, 0)
        assert dispatch(DispatchDue(now=t0), services).retrying == 1
        push = next(r for r in _rows(uowf) if r.channel == "push")
        assert (push.status, push.attempts, push.not_before) == (
            OutboxStatus.PENDING, 1, t0 + timedelta(seconds=60))  # fmt: skip
        assert dispatch(DispatchDue(now=t0 + timedelta(seconds=59)), services).retrying == 0
        t1 = t0 + timedelta(seconds=60)
        assert dispatch(DispatchDue(now=t1), services).retrying == 1
        push = next(r for r in _rows(uowf) if r.channel == "push")
        assert push.not_before == t1 + timedelta(seconds=120)  # doubled
        t2 = t1 + timedelta(seconds=120)
        assert dispatch(DispatchDue(now=t2), services).failed == 1
        assert dispatch(DispatchDue(now=t2 + timedelta(days=1)), services).failed == 0
        assert len(down.calls) == 3 and all(c["verified"] for c in down.calls)
    push = next(r for r in _rows(uowf) if r.channel == "push")
    assert (push.status, push.attempts, push.last_error) == (
        OutboxStatus.FAILED, 3, "DeliveryFailed")  # fmt: skip
    statuses = [(r["channel"], r["status"]) for r in _log(uowf)]
    assert statuses == [("push", "retrying"), ("push", "retrying"), ("push", "failed")]


def test_a_recovered_channel_delivers_on_the_retry(
    engine: Engine, smtp: tuple[SmtpInbox, int]
) -> None:
    _, port = smtp
    with WebhookReceiver(SECRET, statuses=[503]) as flaky:
        prefs = _prefs(flaky.url, channels=frozenset({Channel.PUSH}))
        uowf = _setup(engine, prefs)
        services = _services(uowf, port, flaky)
        assert dispatch(DispatchDue(now=at_utc(6, 0)), services).retrying == 1
        later = dispatch(DispatchDue(now=at_utc(6, 5)), services)
        assert later.sent == 1 and len(flaky.delivered) == 1


def test_consent_withdrawal_drops_what_was_queued_and_builds_nothing_more(
    engine: Engine, smtp: tuple[SmtpInbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    prefs = _prefs(
        channels=frozenset({Channel.IN_APP, Channel.EMAIL}),
        digest="daily",
        quiet_start=time(6, 0),
        quiet_end=time(9, 0),
    )
    uowf = _setup(engine, prefs)
    services = _services(uowf, port)
    assert dispatch(DispatchDue(now=at_utc(6, 10)), services).digests_queued == 2  # held
    deleted = dispatch(WithdrawConsent(BID, Purpose.INSIGHTS, "owner"), services)
    assert deleted["notification_outbox"] == 2 and _rows(uowf) == []

    calls = {"analyze": 0}
    real = explain_service.analyze_business

    def spy(*a: Any, **k: Any) -> Any:
        calls["analyze"] += 1
        return real(*a, **k)

    monkeypatch.setattr(explain_service, "analyze_business", spy)
    for now in (at_utc(8, 0), at_utc(6, 10, days=1)):  # quiet hours over; the next day's digest
        r = dispatch(DispatchDue(now=now), services)
        assert (r.digests_queued, r.sent) == (0, 0)
    assert calls["analyze"] == 0 and inbox.messages == [] and _rows(uowf) == []


def test_withdrawn_consent_is_checked_again_at_send_time(
    engine: Engine, smtp: tuple[SmtpInbox, int]
) -> None:
    """Even without the withdrawal handler's clean-up, a row is not sent without consent."""
    inbox, port = smtp
    prefs = _prefs(channels=frozenset({Channel.EMAIL}), quiet_start=time(6), quiet_end=time(9))
    uowf = _setup(engine, prefs)
    services = _services(uowf, port)
    assert dispatch(DispatchDue(now=at_utc(6, 10)), services).digests_queued == 2
    with uowf() as uow:
        uow.scope(BID).consents.withdraw(Purpose.INSIGHTS, at_utc(6, 20))
        uow.commit()
    r = dispatch(DispatchDue(now=at_utc(8, 0)), services)
    assert r.dropped == 1 and inbox.messages == []
    email = next(x for x in _rows(uowf) if x.channel == "email")
    assert (email.status, email.last_error) == (OutboxStatus.DROPPED, "no_consent")


def test_muting_digests_after_they_were_queued_stops_them(
    engine: Engine, smtp: tuple[SmtpInbox, int]
) -> None:
    inbox, port = smtp
    prefs = _prefs(channels=frozenset({Channel.EMAIL}), quiet_start=time(6), quiet_end=time(9))
    uowf = _setup(engine, prefs)
    services = _services(uowf, port)
    dispatch(DispatchDue(now=at_utc(6, 10)), services)
    with uowf() as uow:
        store = uow.scope(BID).insights
        store.save_preferences(
            _prefs(
                channels=frozenset({Channel.EMAIL}),
                quiet_start=time(6),
                quiet_end=time(9),
                muted_kinds=frozenset({"digest"}),
            )
        )
        uow.commit()
    r = dispatch(DispatchDue(now=at_utc(8, 0)), services)
    assert r.dropped == 1 and inbox.messages == []
    assert [x["reason"] for x in _log(uowf) if x["status"] == "dropped"] == ["muted"]


def test_no_consent_no_digest_is_built(
    engine: Engine, smtp: tuple[SmtpInbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _inbox, port = smtp
    uowf = _setup(engine, _prefs(), consent=False)
    calls = {"analyze": 0}
    real = explain_service.analyze_business

    def spy(*a: Any, **k: Any) -> Any:
        calls["analyze"] += 1
        return real(*a, **k)

    monkeypatch.setattr(explain_service, "analyze_business", spy)
    r = dispatch(DispatchDue(now=at_utc(6, 5)), _services(uowf, port))
    assert (r.digests_queued, r.sent, calls["analyze"]) == (0, 0, 0) and _rows(uowf) == []


@pytest.fixture(scope="module")
def world_business(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from ledgerlens.ml.synth_data import iter_business_data, write_synthetic_world

    out = write_synthetic_world(4, 6, 8101, tmp_path_factory.mktemp("world"), workers=1)
    return max(iter_business_data(out), key=lambda d: len(d.truth.anomaly))


def test_an_insight_held_by_quiet_hours_is_sent_once_when_they_end(
    engine: Engine, smtp: tuple[SmtpInbox, int], world_business: Any
) -> None:
    """The refresh publishes in the owner's night (Sydney); the e-mail waits in the outbox and
    the dispatcher sends it at 07:00 Sydney time, once, however often it runs."""
    from ledgerlens.core.ledger import Annotation, AnnotationKind
    from ledgerlens.pipeline_insights import RefreshInsights

    inbox, port = smtp
    d = world_business
    uowf = sql_uow_factory(engine)
    with uowf() as uow:
        uow.businesses.add(Business(d.business_id, "Test Ltd", d.country, d.base_currency))
        scope = uow.scope(d.business_id)
        for a in d.accounts:
            scope.accounts.add(a)
        scope.transactions.add_new(d.transactions)
        scope.annotations.upsert(
            [
                Annotation(t, d.business_id, AnnotationKind.CATEGORY, c, 1.0, "rule:truth")
                for t, c in d.truth.category.items()
            ]
        )
        scope.consents.grant(ConsentGrant(d.business_id, Purpose.INSIGHTS, datetime.now(UTC)))
        scope.insights.save_preferences(
            Preferences(
                d.business_id,
                channels=frozenset({Channel.IN_APP, Channel.EMAIL}),
                email="owner@example.test",
                timezone="Australia/Sydney",  # UTC+11 in December
                quiet_start=time(21, 0),
                quiet_end=time(7, 0),
                digest="none",
            )
        )
        uow.commit()
    dup = max(
        t.booking_date
        for t in d.transactions
        if d.truth.anomaly.get(t.transaction_id) == "duplicate_payment"
    )
    sydney = ZoneInfo("Australia/Sydney")
    # 23:00 in Sydney two days after the duplicate payment: inside the quiet hours
    night = datetime.combine(dup + timedelta(days=2), time(23), tzinfo=sydney).astimezone(UTC)
    morning = datetime.combine(dup + timedelta(days=3), time(7), tzinfo=sydney).astimezone(UTC)
    services = _services(uowf, port)
    refreshed = dispatch(RefreshInsights(d.business_id, now=night), services)
    assert refreshed.published > 0 and inbox.messages == []
    assert {x.reason for x in refreshed.deliveries} == {"quiet_hours"}
    with uowf() as uow:
        rows = uow.scope(d.business_id).insights.outbox.list(d.business_id)
    assert len(rows) == refreshed.published
    assert {r.not_before for r in rows} == {morning}
    assert dispatch(DispatchDue(morning - timedelta(minutes=1)), services).sent == 0
    sent = dispatch(DispatchDue(morning), services)
    assert sent.sent == refreshed.published == len(inbox.messages)
    assert dispatch(DispatchDue(morning + timedelta(hours=1)), services).sent == 0
    again = dispatch(RefreshInsights(d.business_id, now=morning + timedelta(hours=1)), services)
    assert again.published == 0 and len(inbox.messages) == refreshed.published
    subjects = {m["X-LedgerLens-Insight"] for _, _, m in inbox.messages}
    assert subjects == {r.reference for r in rows}


def test_withdrawing_offers_drops_only_the_offer_notifications(engine: Engine) -> None:
    from ledgerlens.explain.outbox import OutboxItem

    uowf = _setup(engine, _prefs())
    now = at_utc(12)

    def row(ref: str, purpose: str, topic: str) -> OutboxItem:
        return OutboxItem(BID, "insight", ref, "email", purpose, topic, ref, now, "s", "t")

    with uowf() as uow:
        ob = uow.scope(BID).insights.outbox
        assert ob.enqueue([row("i1", "insights", "tax_due"), row("i2", "offers", "product_offer")],
                          now) == 2  # fmt: skip
        assert ob.enqueue([row("i1", "insights", "tax_due")], now) == 0  # same key: no new row
        uow.commit()
    deleted = dispatch(WithdrawConsent(BID, Purpose.OFFERS, "owner"), _services(uowf, 1))
    assert deleted["notification_outbox"] == 1
    assert [(r.reference, r.purpose) for r in _rows(uowf)] == [("i1", "insights")]


def test_one_business_outbox_neither_sees_nor_touches_another_business_rows(
    engine: Engine,
) -> None:
    from ledgerlens.explain.outbox import OutboxItem

    uowf = _setup(engine, _prefs())
    other = "shop-munich"
    now = at_utc(12)
    with uowf() as uow:
        uow.businesses.add(Business(other, "Laden München GmbH", "DE", "EUR"))
        mine = OutboxItem(BID, "insight", "i1", "email", "insights", "tax_due", "i1", now, "s", "t")
        theirs = OutboxItem(other, "insight", "j1", "email", "insights", "tax_due", "j1", now,
                            "s", "t")  # fmt: skip
        assert uow.scope(BID).insights.outbox.enqueue([mine], now) == 1
        assert uow.scope(other).insights.outbox.enqueue([theirs], now) == 1
        with pytest.raises(ValueError):  # an item of another business is refused
            uow.scope(BID).insights.outbox.enqueue([theirs], now)
        uow.commit()
    with uowf() as uow:
        ob = uow.scope(BID).insights.outbox
        (their_id,) = uow.scope(other).insights.outbox.due(now)
        (my_id,) = ob.due(now)
        assert my_id != their_id
        with pytest.raises(ValueError):
            ob.list(other)
        assert ob.claim(their_id, now, now + timedelta(minutes=5)) is None  # not claimable
        ob.finish(their_id, OutboxStatus.SENT, now)  # a no-op on another business's row
        uow.commit()
    with uowf() as uow:
        (row,) = uow.scope(other).insights.outbox.list(other)
        assert row.status is OutboxStatus.PENDING and row.sent_at is None
