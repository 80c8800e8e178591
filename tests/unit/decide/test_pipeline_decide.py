"""DecideForBusiness: every limit, offer and recommendation decision lands in the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from tests.fakes import InMemoryStore, in_memory_uow_factory

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Account, Business, ConsentGrant, Purpose, Transaction
from ledgerlens.decide.audit_chain import InMemoryAuditLog
from ledgerlens.decide.model import DecisionKind
from ledgerlens.ingest.service import StatementImporter
from ledgerlens.pipeline import Services, dispatch
from ledgerlens.pipeline_decide import DecideForBusiness, DismissRecommendation

START = date(2025, 6, 1)
DAYS = 548  # 18 months to 2026-11-30


def _history(bid: str) -> list[Transaction]:
    """A café: card takings every day, rent, supplier and payroll; a healthy buffer."""
    out: list[Transaction] = []
    bal = 8_000_000
    n = 0

    def add(day: int, amount: int, text: str, cp: str = "", emp: str = "") -> None:
        nonlocal bal, n
        bal += amount
        n += 1
        out.append(
            Transaction(
                f"t{n}",
                bid,
                "a1",
                START + timedelta(days=day),
                None,
                amount,
                "EUR",
                text,
                counterparty_name=cp,
                employee_id=emp,
                balance_after_minor=bal,
            )
        )

    for d in range(DAYS):
        add(d, 150_000 + 20_000 * (d % 7 == 5), "SUMUP PAYOUT", "SUMUP")
        if d % 7 == 2:
            add(d, -250_000, "METRO CASH CARRY", "METRO")
        if (START + timedelta(days=d)).day == 1:
            add(d, -300_000, "RENT", "LANDLORD")
            for e in range(6):
                add(d, -250_000, f"SALARY E{e}", f"Employee {e}", f"e{e}")
    return out


@pytest.fixture
def services() -> Services:
    store = InMemoryStore()
    factory = in_memory_uow_factory(store)
    with factory() as uow:
        uow.businesses.add(Business("b1", "Café Test", "DE", "EUR"))
        scope = uow.scope("b1")
        scope.accounts.add(Account("a1", "b1", "DE89370400440532013000", "EUR"))
        scope.transactions.add_new(_history("b1"))
        uow.commit()
    return Services(
        importer=StatementImporter(factory), uow_factory=factory, audit_log=InMemoryAuditLog()
    )


def _consent(services: Services) -> None:
    assert services.uow_factory is not None
    with services.uow_factory() as uow:
        uow.scope("b1").consents.grant(ConsentGrant("b1", Purpose.OFFERS, datetime.now(UTC)))
        uow.commit()


def test_without_consent_only_limits(services: Services) -> None:
    report = dispatch(DecideForBusiness("b1"), services)
    assert not report.consented
    assert [d.subject for d in report.decisions.all] == ["card_limit", "payment_limit"]
    assert len(report.audited) == 2
    assert services.audit_log.verify_chain().ok


def test_every_decision_audited_with_reason_codes(services: Services) -> None:
    _consent(services)
    report = dispatch(DecideForBusiness("b1"), services)
    decisions = report.decisions.all
    kinds = {str(d.kind) for d in decisions}
    assert {"limit", "offer", "recommendation"} <= kinds
    entries = services.audit_log.entries("b1")
    assert len(entries) == len(decisions) == len(report.audited)  # 100 % audited
    assert all(e.reason_codes and e.versions for e in entries if e.kind != "feedback")
    assert [e.subject for e in entries] == [d.subject for d in decisions]
    signals = report.decisions.signals
    assert signals.employees == 6 and signals.card_takings_minor > 4_000_000
    assert services.audit_log.verify_chain().ok


def test_previous_limit_and_dismissal_come_from_the_log(services: Services) -> None:
    _consent(services)
    first = dispatch(DecideForBusiness("b1"), services)
    card = next(d for d in first.decisions.limits if d.subject == "card_limit")
    shown = [d.subject for d in first.decisions.recommendations if d.outputs["shown"]]
    assert shown, "the café should be shown something (payroll service, expense cards…)"
    dispatch(DismissRecommendation("b1", shown[0]), services)
    second = dispatch(DecideForBusiness("b1"), services)
    card2 = next(d for d in second.decisions.limits if d.subject == "card_limit")
    assert card2.outputs["previous_minor"] == card.outputs["limit_minor"]
    assert card2.outputs["change"] == "held"
    again = next(d for d in second.decisions.recommendations if d.subject == shown[0])
    assert not again.outputs["shown"] and "REC_DISMISSED_BEFORE" in again.reason_codes
    assert services.audit_log.verify_chain().ok
    assert any(e.kind == DecisionKind.FEEDBACK for e in services.audit_log.entries("b1"))


def test_unknown_business_and_missing_log(services: Services) -> None:
    with pytest.raises(NotFound):
        dispatch(DecideForBusiness("nope"), services)
    bare = Services(importer=services.importer, uow_factory=services.uow_factory)
    with pytest.raises(TypeError, match="audit_log"):
        dispatch(DecideForBusiness("b1"), bare)


def test_a_risk_model_verdict_is_adopted_and_banded_by_the_rules(services: Services) -> None:
    from ledgerlens.analyze.risk import Reason
    from ledgerlens.analyze.risk import RiskAssessment as ModelAssessment
    from ledgerlens.decide.service import adopt_assessment

    def scorer(signals, transactions, categories):  # type: ignore[no-untyped-def]
        a = ModelAssessment("b1", date(2026, 11, 30), 0.12, "B",
                            (Reason("days_below_zero", 3.0, 0.4, "3 days below zero"),),
                            "model:risk@2026.12.9", 0.9, {})  # fmt: skip
        return adopt_assessment(a)

    bare = Services(importer=services.importer, uow_factory=services.uow_factory,
                    audit_log=services.audit_log, risk_scorer=scorer)  # fmt: skip
    report = dispatch(DecideForBusiness("b1"), bare)
    risk = report.decisions.risk
    assert (risk.risk_band, risk.reasons) == ("C", ("3 days below zero",))  # 12 % is band C
    assert all("model:risk@2026.12.9" in d.versions for d in report.decisions.limits)


def test_the_last_reviews_probability_comes_from_the_log(services: Services) -> None:
    """0.095 (B) then 0.105 (C): the second review reads 0.095 back from the audit log, so the
    one-point rise is treated as noise and the card limit keeps band B's target."""
    from ledgerlens.analyze.risk import RiskAssessment as ModelAssessment
    from ledgerlens.decide.service import adopt_assessment

    def scorer_at(p: float):  # type: ignore[no-untyped-def]
        def scorer(signals, transactions, categories):  # type: ignore[no-untyped-def]
            a = ModelAssessment("b1", date(2026, 11, 30), p, "B", (), "model:risk@t", 0.9, {})
            return adopt_assessment(a)

        return scorer

    def review(p: float):  # type: ignore[no-untyped-def]
        bare = Services(importer=services.importer, uow_factory=services.uow_factory,
                        audit_log=services.audit_log, risk_scorer=scorer_at(p))  # fmt: skip
        report = dispatch(DecideForBusiness("b1"), bare)
        return next(d for d in report.decisions.limits if d.subject == "card_limit")

    first = review(0.095)
    assert first.inputs["previous_probability_of_distress"] is None
    second = review(0.105)
    assert second.inputs["previous_probability_of_distress"] == pytest.approx(0.095)
    assert "RISK_BAND_C" in second.reason_codes and "LIMIT_BAND_WITHIN_NOISE" in second.reason_codes
    assert second.outputs["target_band"] == "B"
    assert second.outputs["limit_minor"] == first.outputs["limit_minor"]
    assert services.audit_log.verify_chain().ok
