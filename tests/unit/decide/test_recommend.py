"""Recommendations: consent, eligibility, propensity, ranking, groups, caps, dismissals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledgerlens.decide.recommend import Catalog, PastRecommendation, load_catalog, recommend
from ledgerlens.decide.rules import DecisionRules

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _shown(decisions: list[Any]) -> list[str]:
    return [
        d.subject
        for d in sorted(
            (d for d in decisions if d.outputs["shown"]), key=lambda d: d.outputs["rank"]
        )
    ]


@pytest.fixture
def exporter(make_signals: Any) -> Any:
    """Idle cash, foreign receipts without a currency account, seven staff without cards."""
    return make_signals(
        foreign_inflow_share=0.3,
        has_currency_account=False,
        average_balance_minor=30_000_000,
        balance_minor=30_000_000,
        employees=7,
        has_payroll=True,
        has_insurance=True,
    )


def test_no_consent_no_scoring(
    decision_rules: DecisionRules, catalog: Catalog, exporter: Any, make_risk: Any
) -> None:
    assert recommend(exporter, make_risk(), decision_rules, catalog, consented=False) == []


def test_ranked_by_propensity_and_capped(
    decision_rules: DecisionRules, catalog: Catalog, exporter: Any, make_risk: Any
) -> None:
    out = recommend(exporter, make_risk(), decision_rules, catalog, consented=True, now=NOW)
    assert len(out) == len(catalog.products)  # every candidate is a decision
    # fx 0.9, savings 0.9 (idle 7.5 months), expense cards 0.6; payroll 0.45 is below threshold
    assert _shown(out) == ["fx_account", "savings_sweep", "expense_cards"]
    codes = {d.subject: d.reason_codes[-1] for d in out}
    assert codes["payroll_service"] == "REC_LOW_PROPENSITY"
    assert codes["insurance"] == "REC_NO_NEED"
    assert all(d.reason_codes and d.versions for d in out)
    assert "catalog:products@2026.12.1" in out[0].versions


def test_frequency_cap_counts_recent_shows(
    decision_rules: DecisionRules, catalog: Catalog, exporter: Any, make_risk: Any
) -> None:
    recent = [
        PastRecommendation("credit_line", NOW - timedelta(days=3)),
        PastRecommendation("insurance", NOW - timedelta(days=10)),
    ]
    out = recommend(
        exporter, make_risk(), decision_rules, catalog, consented=True, history=recent, now=NOW
    )
    assert _shown(out) == ["fx_account"]  # 3 a month, 2 already used
    assert {d.subject for d in out if "REC_FREQUENCY_CAP" in d.reason_codes} == {
        "savings_sweep",
        "expense_cards",
    }


def test_never_again_after_a_dismissal(
    decision_rules: DecisionRules, catalog: Catalog, exporter: Any, make_risk: Any
) -> None:
    old = [PastRecommendation("fx_account", NOW - timedelta(days=400), dismissed=True)]
    out = recommend(
        exporter, make_risk(), decision_rules, catalog, consented=True, history=old, now=NOW
    )
    assert "fx_account" not in _shown(out)
    fx = next(d for d in out if d.subject == "fx_account")
    assert "REC_DISMISSED_BEFORE" in fx.reason_codes


def test_not_twice_within_the_spacing(
    decision_rules: DecisionRules, catalog: Catalog, exporter: Any, make_risk: Any
) -> None:
    hist = [
        PastRecommendation("savings_sweep", NOW - timedelta(days=40)),
        PastRecommendation("fx_account", NOW - timedelta(days=20)),
    ]
    out = recommend(
        exporter, make_risk(), decision_rules, catalog, consented=True, history=hist, now=NOW
    )
    assert "fx_account" not in _shown(out) and "savings_sweep" in _shown(out)


def test_one_short_term_credit_product(
    decision_rules: DecisionRules, catalog: Catalog, make_signals: Any, make_risk: Any
) -> None:
    s = make_signals(
        seasonality_ratio=0.3,
        low_months=(1, 2),
        forecast_shortfall_probability=0.7,
        invoice_inflow_minor=0,
        has_insurance=True,
    )
    out = recommend(s, make_risk("B"), decision_rules, catalog, consented=True, now=NOW)
    assert "seasonal_line" in _shown(out) and "overdraft" not in _shown(out)
    assert "REC_GROUP_TAKEN" in next(d for d in out if d.subject == "overdraft").reason_codes


def test_risk_rules_block_credit(
    decision_rules: DecisionRules, catalog: Catalog, make_signals: Any, make_risk: Any
) -> None:
    s = make_signals(forecast_shortfall_probability=0.7, has_insurance=True)
    out = recommend(s, make_risk("E", 0.6), decision_rules, catalog, consented=True, now=NOW)
    od = next(d for d in out if d.subject == "overdraft")
    assert not od.outputs["shown"] and "ELIG_RISK_BAND_E" in od.reason_codes


def test_catalog_refuses_unknown_operator(tmp_path: Any) -> None:
    import json

    p = tmp_path / "c.json"
    p.write_text(
        json.dumps(
            {
                "version": "1",
                "settings": {},
                "products": [{"code": "x", "requires": [["a", "~", 1]], "boosts": []}],
            }
        )
    )
    with pytest.raises(ValueError, match="operator"):
        load_catalog(p)
