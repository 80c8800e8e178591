"""Lending offers: amounts from real performance, within every cap, priced by the grid."""

from __future__ import annotations

from typing import Any

import pytest

from ledgerlens.decide.offers import PRODUCTS, decide_offer, decide_offers, monthly_payment
from ledgerlens.decide.rules import DecisionRules


def test_credit_line_cites_card_takings(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_offer("credit_line", make_signals(), make_risk("B"), decision_rules)
    o = d.outputs
    assert o["offered"] is True
    # risk cap: 100 % of 50,000 a month; debt-service room 35 % of 50,000 = 17,500 a month
    assert o["amount_minor"] == 5_000_000 and o["bound_by"] == "risk_cap"
    assert (o["term_months"], o["rate_bps"], o["fee_bps"]) == (24, 750, 100)
    assert o["monthly_payment_minor"] == 31_250  # 50,000 * 7.5 % / 12, interest only
    assert "your card takings average 30000.00 EUR a month" in d.reasons
    assert {"ELIG_CREDIT_OK", "CAP_CREDIT_LINE_AB", "PRICE_CREDIT_LINE_AB", "OFFER_MADE"} <= set(
        d.reason_codes
    )
    assert "rules:risk_caps@2026.12.1" in d.versions and "rules:pricing@2026.12.1" in d.versions


def test_overdraft_sized_to_the_forecast_gap(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    s = make_signals(forecast_min_balance_minor=-1_000_000, forecast_shortfall_probability=0.6)
    d = decide_offer("overdraft", s, make_risk("B"), decision_rules)
    # need = 10,000 gap + 20 % = 12,000; cap 50 % of 50,000 = 25,000 -> 12,000
    assert d.outputs["amount_minor"] == 1_200_000 and d.outputs["bound_by"] == "need"
    assert "NEED_FORECAST_GAP" in d.reason_codes
    assert "-10000.00 EUR" in d.reasons[1]


def test_invoice_financing_on_invoice_receipts(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_offer("invoice_financing", make_signals(), make_risk("C", 0.15), decision_rules)
    # 75 % of 15,000 receipts (band C) = 11,250, rounded down to a 500 step
    assert d.outputs["amount_minor"] == 1_100_000
    none = decide_offer(
        "invoice_financing", make_signals(invoice_inflow_minor=0), make_risk("B"), decision_rules
    )
    assert none.outputs["offered"] is False and "OFFER_NO_INVOICES" in none.reason_codes


def test_seasonal_line_needs_a_season(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    flat = decide_offer("seasonal_line", make_signals(), make_risk("B"), decision_rules)
    assert "OFFER_NOT_SEASONAL" in flat.reason_codes
    s = make_signals(seasonality_ratio=0.3, low_months=(1, 2, 11))
    d = decide_offer("seasonal_line", s, make_risk("B"), decision_rules)
    # dip = 50,000 * 0.7 * 3 months = 105,000; cap 120 % = 60,000
    assert d.outputs["amount_minor"] == 6_000_000 and d.outputs["term_months"] == 6


def test_term_loan_bounded_by_debt_service(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    s = make_signals(debt_service_minor=1_500_000, monthly_outflow_minor=3_000_000)  # room 2,500
    d = decide_offer("term_loan", s, make_risk("A", 0.02), decision_rules)
    o = d.outputs
    assert o["bound_by"] == "debt_service_room"
    assert o["monthly_payment_minor"] <= 250_000
    assert o["amount_minor"] <= o["limits_minor"]["risk_cap"]
    # hand annuity: 6.5 % / 12 over 60 months → 0.019566 per unit
    assert monthly_payment(10_000_000, 650, 60, True) == pytest.approx(195_661, abs=2)


def test_band_e_gets_no_credit(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    for d in decide_offers(make_signals(), make_risk("E", 0.5), decision_rules):
        assert d.outputs["offered"] is False
        assert "ELIG_RISK_BAND_E" in d.reason_codes and "OFFER_NOT_ELIGIBLE" in d.reason_codes


def test_too_small_is_declined(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    s = make_signals(
        monthly_inflow_minor=150_000, monthly_outflow_minor=100_000, card_takings_minor=100_000
    )
    d = decide_offer("overdraft", s, make_risk("B"), decision_rules)
    assert d.outputs["offered"] is False and "OFFER_TOO_SMALL" in d.reason_codes


def test_all_products_within_every_cap(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    s = make_signals(
        seasonality_ratio=0.2,
        low_months=(1, 2),
        forecast_min_balance_minor=-9_000_000,
        monthly_inflow_minor=900_000_000,
    )
    out = decide_offers(s, make_risk("A", 0.02), decision_rules)
    assert [d.subject for d in out] == list(PRODUCTS)
    for d in out:
        o = d.outputs
        if o["offered"]:
            assert o["amount_minor"] <= min(o["limits_minor"].values())
            assert o["amount_minor"] <= 25_000_000  # the EUR regulatory ceiling
            assert d.reasons and d.reason_codes
