"""Decide's FX tips become one FX-tip insight per currency, figures carried over exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from ledgerlens.decide.fx_tips import FxTip
from ledgerlens.explain.decisions import fx_tip_inputs
from ledgerlens.explain.events import fx_tip
from ledgerlens.explain.render import renderer


def test_best_tip_per_currency_with_its_volume_cost_and_saving() -> None:
    ev = {
        "receipts_yearly_minor": 9_000_000,
        "payments_yearly_minor": 1_000_000,
        "conversion_cost_yearly_minor": 150_000,
        "period_days": 182,
    }
    tips = [
        FxTip("batched_conversions", "USD", 20_000, "EUR", "m", ev),
        FxTip("currency_account", "USD", 110_000, "EUR", "m", ev),
        FxTip("natural_hedging", "GBP", 30_000, "EUR", "m", ev),
    ]
    inputs = {i.currency: i for i in fx_tip_inputs(tips)}
    usd = inputs["USD"]
    assert usd.advice == "fx_account" and usd.saving_minor == 110_000
    assert usd.volume_minor == 10_000_000 * 182 // 365 and usd.margin_pct == 1.5
    assert usd.months == 6 and inputs["GBP"].advice == "fx_hedge"
    ins = fx_tip("b1", usd, renderer("en"), datetime(2026, 12, 1, tzinfo=UTC))
    assert ins is not None
    assert ins.title == "You could save about €1,100.00 on currency exchange"
    assert "€49,863.01 of USD payments" in ins.message and "about 1.5 %" in ins.message
    assert ins.figure("yearly saving").amount_minor == 110_000
