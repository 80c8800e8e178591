"""Consent end to end on SQLite and PostgreSQL: no consent, no processing; withdrawal stops the
processing at once and deletes what was derived; export then erasure leaves 0 rows.

The pipeline is watched by spies on the analysis entry points (``analyze_business`` and the
forecast it runs): "0 further processing" is a call count, not an assumption.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ledgerlens.adapters.db import create_engine_for, sql_uow_factory, upgrade_database
from ledgerlens.adapters.db.audit import SqlAuditLog
from ledgerlens.core.ledger import Annotation, AnnotationKind, Business, ConsentGrant, Purpose
from ledgerlens.enrich.corrections import make_correction
from ledgerlens.explain import service as explain_service
from ledgerlens.ml.synth_data import BusinessData, iter_business_data, write_synthetic_world
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_insights import (
    EraseBusiness,
    ExportBusiness,
    GrantConsent,
    RefreshInsights,
    WithdrawConsent,
    audit_takes_consent,
)


def _now_after_last_anomaly(data: BusinessData) -> datetime:
    """Two days after the business's latest true anomaly: those insights are still current."""
    day = max(t.booking_date for t in data.transactions if t.transaction_id in data.truth.anomaly)
    return datetime.combine(day + timedelta(days=2), time(7, 0), tzinfo=UTC)


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> BusinessData:
    out = write_synthetic_world(4, 6, 8101, tmp_path_factory.mktemp("world"), workers=1)
    # the one with the most anomalies: it surely yields insights
    return max(iter_business_data(out), key=lambda d: len(d.truth.anomaly))


@pytest.fixture
def services(db_url: str, business: BusinessData) -> Iterator[SimpleNamespace]:
    upgrade_database(db_url)
    eng = create_engine_for(db_url)
    uowf = sql_uow_factory(eng)
    with uowf() as uow:
        uow.businesses.add(
            Business(business.business_id, "Test Ltd", business.country, business.base_currency)
        )
        scope = uow.scope(business.business_id)
        for a in business.accounts:
            scope.accounts.add(a)
        scope.transactions.add_new(business.transactions)
        scope.annotations.upsert(
            [
                Annotation(t, business.business_id, AnnotationKind.CATEGORY, c, 1.0, "rule:truth")
                for t, c in business.truth.category.items()
            ]
        )
        uow.commit()
    yield SimpleNamespace(uow_factory=uowf, notifiers={}, audit_log=SqlAuditLog(eng))
    eng.dispose()


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"analyze": 0, "forecast": 0}

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def inner(*a: Any, **k: Any) -> Any:
            calls[name] += 1
            return fn(*a, **k)

        return inner

    monkeypatch.setattr(
        explain_service, "analyze_business", wrap("analyze", explain_service.analyze_business)
    )
    monkeypatch.setattr(explain_service, "forecast", wrap("forecast", explain_service.forecast))
    return calls


def _count(services: SimpleNamespace, bid: str) -> int:
    with services.uow_factory() as uow:
        return int(uow.scope(bid).insights.count())


def test_no_consent_means_no_processing(
    services: SimpleNamespace, business: BusinessData, spy: dict[str, int]
) -> None:
    res = dispatch(
        RefreshInsights(business.business_id, now=_now_after_last_anomaly(business)), services
    )
    assert not res.processed and res.reason == "no_consent"
    assert spy == {"analyze": 0, "forecast": 0}
    assert _count(services, business.business_id) == 0


def test_withdrawal_stops_processing_and_deletes_insights(
    services: SimpleNamespace, business: BusinessData, spy: dict[str, int]
) -> None:
    bid = business.business_id
    dispatch(GrantConsent(bid, Purpose.INSIGHTS, "owner-1"), services)
    res = dispatch(RefreshInsights(bid, now=_now_after_last_anomaly(business)), services)
    assert res.processed and res.published > 0
    assert spy["analyze"] == 1 and spy["forecast"] == 1
    assert _count(services, bid) == res.published

    deleted = dispatch(WithdrawConsent(bid, Purpose.INSIGHTS, "owner-1"), services)
    assert deleted["insights"] == res.published
    assert _count(services, bid) == 0
    again = dispatch(RefreshInsights(bid, now=_now_after_last_anomaly(business)), services)
    assert not again.processed
    assert spy == {"analyze": 1, "forecast": 1}  # 0 further processing after withdrawal
    assert _count(services, bid) == 0
    with services.uow_factory() as uow:
        events = uow.scope(bid).insights.consent_events()
    assert [(e["purpose"], e["action"]) for e in events] == [
        ("insights", "grant"),
        ("insights", "withdraw"),
    ]
    assert json.loads(events[1]["details"])["insights"] == res.published
    audit = services.audit_log.entries(bid, kind="consent")  # issue 7's hash-chained log
    expected = ["grant", "withdraw"] if audit_takes_consent() else []
    assert [json.loads(e.outputs_json)["action"] for e in audit] == expected
    assert services.audit_log.verify_chain(bid).ok


def test_withdrawing_model_improvement_drops_training_examples(
    services: SimpleNamespace, business: BusinessData
) -> None:
    bid = business.business_id
    tx = business.transactions[0]
    with services.uow_factory() as uow:
        scope = uow.scope(bid)
        scope.consents.grant(ConsentGrant(bid, Purpose.MODEL_IMPROVEMENT, datetime.now(UTC)))
        scope.corrections.add(
            make_correction("cor_1", tx, "opex.other", consented=True, iban_secret=b"k")
        )
        uow.commit()
        assert len(scope.corrections.training_examples()) == 1
    dispatch(WithdrawConsent(bid, Purpose.MODEL_IMPROVEMENT), services)
    with services.uow_factory() as uow:
        scope = uow.scope(bid)
        assert scope.corrections.training_examples() == []
        assert len(scope.corrections.list()) == 1  # still decides this business's categories
        dispatch_grant_again = Purpose.MODEL_IMPROVEMENT in scope.consents.active()
    assert not dispatch_grant_again


def test_export_then_erasure_leaves_no_row(
    services: SimpleNamespace, business: BusinessData, tmp_path: Path
) -> None:
    bid = business.business_id
    dispatch(GrantConsent(bid, Purpose.INSIGHTS), services)
    res = dispatch(RefreshInsights(bid, now=_now_after_last_anomaly(business)), services)
    archive = dispatch(ExportBusiness(bid, tmp_path), services)
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        data = json.loads(z.read(f"{bid}/data.json"))
    assert {f"{bid}/transactions.csv", f"{bid}/insights.csv", f"{bid}/accounts.csv"} <= names
    assert len(data["transactions"]) == len(business.transactions)
    assert len(data["insights"]) == res.published
    assert len(data["consent_events"]) == 1
    remaining = dispatch(EraseBusiness(bid), services)
    assert remaining == 0
    with services.uow_factory() as uow:
        assert uow.businesses.get(bid) is None
        assert uow.scope(bid).insights.remaining_rows() == 0


def test_same_consent_behaviour_on_every_backend(
    uow_factory: Callable[[], Any], business: BusinessData, spy: dict[str, int], tmp_path: Path
) -> None:
    """SQLite, PostgreSQL and the in-memory twin (tests/fakes_insights.py) agree."""
    bid = business.business_id
    with uow_factory() as uow:
        uow.businesses.add(Business(bid, "T", business.country, business.base_currency))
        scope = uow.scope(bid)
        for a in business.accounts:
            scope.accounts.add(a)
        scope.transactions.add_new(business.transactions)
        uow.commit()
    services = SimpleNamespace(uow_factory=uow_factory)
    now = _now_after_last_anomaly(business)
    assert not dispatch(RefreshInsights(bid, now=now), services).processed
    dispatch(GrantConsent(bid, Purpose.INSIGHTS), services)
    first = dispatch(RefreshInsights(bid, now=now), services)
    again = dispatch(RefreshInsights(bid, now=now), services)
    assert first.published > 0 and again.published == 0  # one insight per event
    assert again.updated == first.published
    assert spy["analyze"] == 2
    dispatch(WithdrawConsent(bid, Purpose.INSIGHTS), services)
    assert not dispatch(RefreshInsights(bid, now=now), services).processed
    assert spy["analyze"] == 2
    with uow_factory() as uow:
        assert uow.scope(bid).insights.count() == 0
    dispatch(ExportBusiness(bid, tmp_path), services)
    assert dispatch(EraseBusiness(bid), services) == 0


def test_refresh_respects_mute_channels_and_quiet_hours(
    services: SimpleNamespace, business: BusinessData
) -> None:
    """Preferences stored per business steer the pipeline: muted kinds are not stored, e-mail
    goes out only on the chosen channel and outside the quiet hours; every delivery is logged."""
    from ledgerlens.consent import Channel, Preferences
    from ledgerlens.explain.notify import OutgoingMessage

    class Outbox:
        def __init__(self) -> None:
            self.sent: list[OutgoingMessage] = []

        def send(self, message: OutgoingMessage) -> int:
            self.sent.append(message)
            return 1

    bid = business.business_id
    dup = max(
        t.booking_date
        for t in business.transactions
        if business.truth.anomaly.get(t.transaction_id) == "duplicate_payment"
    )
    now = datetime.combine(dup + timedelta(days=2), time(7), tzinfo=UTC)
    outbox = Outbox()
    services.notifiers = {Channel.EMAIL: outbox}
    dispatch(GrantConsent(bid, Purpose.INSIGHTS), services)
    with services.uow_factory() as uow:
        uow.scope(bid).insights.save_preferences(
            Preferences(
                bid,
                muted_kinds=frozenset({"unusual_transaction"}),
                channels=frozenset({Channel.IN_APP, Channel.EMAIL}),
                email="o@example.test",
                quiet_start=(now.time().replace(hour=(now.hour - 1) % 24)),
                quiet_end=now.time().replace(hour=(now.hour + 1) % 24),
            )
        )
        uow.commit()
    quiet = dispatch(RefreshInsights(bid, now=now), services)
    with services.uow_factory() as uow:
        store = uow.scope(bid).insights
        kinds = {str(i.kind) for i in store.list()}
        log = store.notifications()
        prefs = store.preferences()
    assert quiet.published > 0 and "duplicate_payment" in kinds
    assert "unusual_transaction" not in kinds  # muted: not even in the feed
    assert outbox.sent == [] and {r["reason"] for r in log} == {"quiet_hours"}
    assert len(log) == quiet.published and prefs.email == "o@example.test"
    # outside the quiet hours a new event is e-mailed (the known ones are not sent again)
    with services.uow_factory() as uow:
        uow.scope(bid).insights.forget(Purpose.INSIGHTS)
        uow.commit()
    later = now.replace(hour=(now.hour + 3) % 24)
    loud = dispatch(RefreshInsights(bid, now=later), services)
    assert loud.published > 0 and len(outbox.sent) == loud.published
    assert all(m.to == "o@example.test" for m in outbox.sent)


def test_refresh_turns_decides_fx_tips_into_an_insight(tmp_path: Path) -> None:
    """With ECB rates wired (``services.fx_rates``), bank-converted flows become an FX tip."""
    from fakes import in_memory_uow_factory
    from ledgerlens.enrich.transfers import EcbRates
    from ledgerlens.ml.synth_data import iter_business_data, write_synthetic_world

    world = write_synthetic_world(12, 8, 811, tmp_path / "w", workers=1)
    d = next(b for b in iter_business_data(world) if b.business_id == "s811b00004")
    uowf = in_memory_uow_factory()
    with uowf() as uow:
        uow.businesses.add(Business(d.business_id, "T", d.country, d.base_currency))
        scope = uow.scope(d.business_id)
        for a in d.accounts:
            scope.accounts.add(a)
        scope.transactions.add_new(d.transactions)
        scope.consents.grant(ConsentGrant(d.business_id, Purpose.INSIGHTS, datetime.now(UTC)))
        uow.commit()
    end = max(t.booking_date for t in d.transactions)
    now = datetime.combine(end + timedelta(days=1), time(7), tzinfo=UTC)
    services = SimpleNamespace(uow_factory=uowf, fx_rates=EcbRates.load())
    dispatch(RefreshInsights(d.business_id, now=now), services)
    with uowf() as uow:
        tips = [i for i in uow.scope(d.business_id).insights.list() if str(i.kind) == "fx_tip"]
    assert len(tips) == 1 and tips[0].source.startswith("rule:fx_tips@")
    assert tips[0].figure("yearly saving").amount_minor > 0
