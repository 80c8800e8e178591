"""FX tips: conversion cost against the ECB mid rate and the yearly savings, by hand."""

from __future__ import annotations

from datetime import date, timedelta

from ledgerlens.core.ledger import Account, AccountType, Transaction
from ledgerlens.decide.fx_tips import fx_flows, fx_tips, tip_decision

START = date(2026, 1, 1)


class FixedRates:
    """ECB mid: 1 USD = 0.90 EUR every day (the fixing of the same day)."""

    def rate(self, sell: str, buy: str, on: date) -> tuple[float, date] | None:
        if (sell, buy) == ("USD", "EUR"):
            return 0.90, on
        return None


def _tx(n: int, day: int, amount_minor: int, text: str) -> Transaction:
    return Transaction(
        f"t{n}", "b1", "a1", START + timedelta(days=day), None, amount_minor, "EUR", text
    )


def _lines() -> list[Transaction]:
    """Half a year (182 days): 12 USD receipts of 1,000.00 credited at 0.8865 (1.5 % under mid),
    6 USD supplier payments of 500.00 debited at 0.9135 (1.5 % over mid), 12 fee lines of 2.00."""
    out = []
    for k in range(12):
        out.append(_tx(k, k * 15, 88_650, "AMAZON PAYOUT ORIG USD 1000.00 RATE 0.8865"))
        out.append(_tx(100 + k, k * 15, -200, "NON-EUR TRANS FEE 2.00"))
    for k in range(6):
        out.append(_tx(200 + k, k * 30 + 1, -45_675, "ACME INC ORIG USD 500.00 RATE 0.9135"))
    out.append(_tx(999, 181, -1_000, "BANK CHARGES"))  # sets the period to 182 days
    return out


def test_flow_costs_match_hand_calculation() -> None:
    (f,) = fx_flows(_lines(), FixedRates())
    assert (f.currency, f.account_currency, f.period_days) == ("USD", "EUR", 182)
    assert f.receipts_minor == 12 * 88_650
    assert f.receipts_cost_minor == 12 * (90_000 - 88_650)  # 162.00 EUR
    assert f.payments_minor == 6 * 45_675
    assert f.payments_cost_minor == 6 * (45_675 - 45_000)  # 40.50 EUR
    assert f.fee_minor == 12 * 200 and f.conversions == 18


def test_yearly_savings_match_hand_calculation() -> None:
    accounts = [Account("a1", "b1", "DE00", "EUR", AccountType.CURRENT)]
    tips = {t.kind: t for t in fx_tips(_lines(), accounts, FixedRates(), min_saving_major=0)}
    # cost a year: (16,200 + 4,050 + 2,400) * 365 // 182 = 45,424 minor (45,424.7 floored)
    # volume a year: (1,063,800 + 274,050) * 365 // 182 = 2,683,050; at 30 bps = 8,049
    # currency account: 45,424 - 8,049 - 12,000 (fee 120.00) = 25,375
    assert tips["currency_account"].yearly_saving_minor == 25_375
    # natural hedging: matched 274,050 * 365 // 182 = 549,605 a year; saved rates:
    # receipts 16,200/1,063,800 + payments 4,050/274,050 = 0.0152284 + 0.0147783
    assert tips["natural_hedging"].yearly_saving_minor == round(
        549_605 * (16_200 / 1_063_800 + 4_050 / 274_050)
    )
    # batching: 36 conversions a year, fees 4,813 a year; monthly: 4,813 - 4,813*12//36 = 3,209
    assert tips["batched_conversions"].yearly_saving_minor == 4_813 - 4_813 * 12 // 36
    # 32.09 EUR a year is under the default 50.00 threshold: not worth a tip
    default = {t.kind for t in fx_tips(_lines(), accounts, FixedRates())}
    assert default == {"currency_account", "natural_hedging"}
    assert tips["currency_account"].evidence["ecb_rate_dates"].startswith("2026-01-01")
    assert "a year" in tips["currency_account"].message


def test_holding_the_currency_already_means_no_account_tip() -> None:
    accounts = [
        Account("a1", "b1", "DE00", "EUR"),
        Account("a2", "b1", "DE01", "USD", AccountType.CURRENCY),
    ]
    kinds = {t.kind for t in fx_tips(_lines(), accounts, FixedRates())}
    assert "currency_account" not in kinds and "natural_hedging" in kinds


def test_domestic_business_gets_no_tips() -> None:
    lines = [_tx(1, 0, 10_000, "CUSTOMER"), _tx(2, 100, -5_000, "SUPPLIER")]
    assert fx_tips(lines, [Account("a1", "b1", "x", "EUR")], FixedRates()) == []


def test_tip_is_an_auditable_decision() -> None:
    accounts = [Account("a1", "b1", "DE00", "EUR")]
    tip = fx_tips(_lines(), accounts, FixedRates())[0]
    d = tip_decision("b1", tip)
    assert d.outputs["yearly_saving_minor"] == tip.yearly_saving_minor
    assert d.reason_codes[0].startswith("FX_TIP_") and d.source.startswith("rule:fx_tips@")
