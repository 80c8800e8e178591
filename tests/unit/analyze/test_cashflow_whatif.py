"""What-ifs, explanations and known items on hand-built inputs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ledgerlens.analyze.cashflow import (
    AccountSeries,
    AddOneOff,
    Calibration,
    DrawFinancing,
    ForecastInput,
    ItemKind,
    KnownItem,
    LoseCustomer,
    MovePayment,
    OpenInvoice,
    ScheduleTransfer,
    chart_data,
    estimate_customer_delays,
    explain_gap,
    forecast,
    history_basis,
    invoice_items,
    what_if,
)

AS_OF = date(2026, 11, 30)
IDENTITY = Calibration()


def _acc(
    account_id: str, opening: int, operating: bool, noise: float = 300.0, seed: int = 1
) -> AccountSeries:
    flow = np.random.default_rng(seed).normal(0.0, noise, 365)
    return AccountSeries(
        account_id, "EUR", AS_OF - timedelta(days=364), flow, opening, operating=operating
    )


def _gap_input() -> ForecastInput:
    """A 30k payment on day 20 opens a gap on a 20k operating balance; savings hold 50k."""
    items = (
        KnownItem(
            "machine",
            "cur",
            AS_OF + timedelta(days=20),
            -30_000_00,
            ItemKind.SCHEDULED,
            label="machine purchase",
        ),
        KnownItem(
            "rent", "cur", AS_OF + timedelta(days=5), -2_000_00, ItemKind.SCHEDULED, label="rent"
        ),
        KnownItem(
            "inv-9",
            "cur",
            AS_OF + timedelta(days=40),
            8_000_00,
            ItemKind.INVOICE,
            label="invoice 9",
            counterparty="Acme",
            probability=0.97,
            jitter_days=7,
        ),
    )
    accounts = (_acc("cur", 20_000_00, True), _acc("sav", 50_000_00, False, seed=2))
    return ForecastInput("b1", "EUR", AS_OF, accounts, items)


def test_moving_the_payment_that_causes_the_gap_past_it_removes_the_gap() -> None:
    inp = _gap_input()
    res = what_if(inp, [MovePayment("machine", AS_OF + timedelta(days=120))], calibration=IDENTITY)
    before = [w.shortfall_probability for w in res.base.weeks]
    after = [w.shortfall_probability for w in res.scenario.weeks]
    assert max(before) > 0.9
    assert max(after) < 0.05
    assert all(w.change <= 0 for w in res.weeks)


def test_a_scheduled_transfer_shifts_both_accounts_by_exactly_its_amount() -> None:
    inp = _gap_input()
    on = AS_OF + timedelta(days=15)
    res = what_if(inp, [ScheduleTransfer("sav", "cur", on, 25_000_00)], calibration=IDENTITY)
    for acc_b, acc_a in zip(res.base.accounts, res.scenario.accounts, strict=True):
        sign = 1 if acc_a.account_id == "cur" else -1
        for b, a in zip(acc_b.bands, acc_a.bands, strict=True):
            shift = sign * 25_000_00 if b.day >= on else 0
            assert (
                a.p10_minor - b.p10_minor,
                a.p50_minor - b.p50_minor,
                a.p90_minor - b.p90_minor,
            ) == (shift, shift, shift)
    assert res.scenario.consolidated == res.base.consolidated  # own transfers cancel
    assert max(w.shortfall_probability for w in res.scenario.weeks) < 0.05


def test_financing_draw_and_one_off_items_move_the_balance() -> None:
    inp = _gap_input()
    on = AS_OF + timedelta(days=10)
    res = what_if(
        inp,
        [DrawFinancing("cur", on, 15_000_00, ((AS_OF + timedelta(days=60), 15_000_00),))],
        calibration=IDENTITY,
    )
    day30 = 29
    assert (
        res.scenario.accounts[0].bands[day30].p50_minor
        - res.base.accounts[0].bands[day30].p50_minor
        == 15_000_00
    )
    assert res.scenario.accounts[0].bands[70].p50_minor == res.base.accounts[0].bands[70].p50_minor
    res2 = what_if(inp, [AddOneOff("cur", on, -1_000_00, "repair")], calibration=IDENTITY)
    assert (
        res2.scenario.accounts[0].bands[30].p50_minor
        == res2.base.accounts[0].bands[30].p50_minor - 1_000_00
    )


def test_losing_a_customer_removes_their_inflows() -> None:
    inp = _gap_input()
    res = what_if(inp, [LoseCustomer("Acme")], calibration=IDENTITY)
    diff = res.base.accounts[0].bands[-1].p50_minor - res.scenario.accounts[0].bands[-1].p50_minor
    assert 0.95 * 8_000_00 <= diff <= 8_000_00  # 3 % of base paths already lacked it
    assert sum(w.change for w in res.weeks) >= 0


def test_unknown_item_or_account_is_refused() -> None:
    inp = _gap_input()
    with pytest.raises(KeyError):
        what_if(inp, [MovePayment("nope", AS_OF)], calibration=IDENTITY)
    with pytest.raises(KeyError):
        what_if(inp, [AddOneOff("ghost", AS_OF + timedelta(days=1), 5)], calibration=IDENTITY)


def test_the_gap_is_explained_by_the_payment_that_causes_it() -> None:
    inp = _gap_input()
    fc = forecast(inp, calibration=IDENTITY, align="origin")
    ex = explain_gap(inp, fc)
    assert ex is not None
    assert ex.drivers[0].item_id == "machine" and ex.drivers[0].amount_minor == -30_000_00
    assert any(d.kind == "missing_inflow" and d.item_id == "inv-9" for d in ex.drivers)
    assert ex.history == "based on the past 12 months of transactions"
    quiet = forecast(
        ForecastInput("b2", "EUR", AS_OF, (_acc("cur", 90_000_00, True),)), calibration=IDENTITY
    )
    assert (
        explain_gap(ForecastInput("b2", "EUR", AS_OF, (_acc("cur", 90_000_00, True),)), quiet)
        is None
    )


def test_chart_data_sums_the_days_into_weeks() -> None:
    inp = _gap_input()
    fc = forecast(inp, calibration=IDENTITY)
    weeks = chart_data(fc, "week")
    days = chart_data(fc, "day")
    assert len(weeks) == 13 and len(days) == 91
    assert sum(p.outflow_minor for p in weeks) == sum(p.outflow_minor for p in days)
    assert weeks[2].outflow_minor <= -30_000_00  # the machine payment's week
    assert weeks[0].p10_minor <= weeks[0].p50_minor <= weeks[0].p90_minor
    assert history_basis(20).startswith("based on the past 20 days")


def test_late_customers_pay_later_and_long_overdue_invoices_may_never_come() -> None:
    invoices = [
        OpenInvoice("cur", "Punctual", AS_OF + timedelta(days=10), 1_000, "A1"),
        OpenInvoice("cur", "Late", AS_OF + timedelta(days=10), 1_000, "B1"),
        OpenInvoice("cur", "Stopped", AS_OF - timedelta(days=80), 1_000, "C1"),
    ]
    paid = [
        ("Punctual", date(2026, 9, 1), date(2026, 9, 1)),
        ("Late", date(2026, 9, 1), date(2026, 10, 6)),
        ("Late", date(2026, 10, 1), date(2026, 11, 4)),
    ]
    delays = estimate_customer_delays(paid, invoices, AS_OF)
    items = {i.counterparty: i for i in invoice_items(invoices, AS_OF, delays)}
    assert items["Punctual"].due_date == AS_OF + timedelta(days=10)
    assert items["Late"].due_date >= AS_OF + timedelta(days=10 + 34)
    assert items["Stopped"].probability < 0.7
    assert items["Stopped"].due_date > AS_OF
