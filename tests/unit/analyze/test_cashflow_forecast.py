"""The forecast kernel on hand-built inputs whose answer is known exactly."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ledgerlens.analyze.cashflow import (
    AccountSeries,
    Calibration,
    ForecastInput,
    ItemKind,
    KernelParams,
    KnownItem,
    forecast,
    week_windows,
)
from ledgerlens.analyze.cashflow.kernels import fit_residual

AS_OF = date(2026, 11, 30)  # a Monday
IDENTITY = Calibration()


def _account(
    flow: np.ndarray, opening: int, account_id: str = "a1", operating: bool = True
) -> AccountSeries:
    return AccountSeries(
        account_id=account_id,
        currency="EUR",
        start=AS_OF - timedelta(days=len(flow) - 1),
        residual_minor=flow,
        opening_minor=opening,
        operating=operating,
    )


def _input(accounts: list[AccountSeries], items: tuple[KnownItem, ...] = (), **kw) -> ForecastInput:
    return ForecastInput("b1", "EUR", AS_OF, tuple(accounts), items, **kw)


def test_constant_flow_gives_an_exact_straight_line_and_a_collapsed_band() -> None:
    inp = _input([_account(np.full(400, -100.0), 50_000)])
    fc = forecast(inp, calibration=IDENTITY)
    assert [b.p50_minor for b in fc.consolidated[:3]] == [49_900, 49_800, 49_700]
    assert fc.consolidated[-1].p50_minor == 50_000 - 100 * 91
    assert all(b.p10_minor == b.p50_minor == b.p90_minor for b in fc.consolidated)
    assert fc.consolidated[0].day == AS_OF + timedelta(days=1)


def test_a_scheduled_payment_lowers_every_later_day_by_its_amount() -> None:
    pay = KnownItem("rent", "a1", AS_OF + timedelta(days=10), -5_000, ItemKind.SCHEDULED)
    base = forecast(_input([_account(np.zeros(200), 10_000)]), calibration=IDENTITY)
    with_pay = forecast(_input([_account(np.zeros(200), 10_000)], (pay,)), calibration=IDENTITY)
    diff = [
        a.p50_minor - b.p50_minor
        for a, b in zip(with_pay.consolidated, base.consolidated, strict=True)
    ]
    assert diff[:9] == [0] * 9
    assert set(diff[9:]) == {-5_000}


def test_weekday_pattern_is_learned() -> None:
    start = AS_OF - timedelta(days=363)
    flow = np.array(
        [700.0 if (start + timedelta(days=i)).weekday() == 0 else 0.0 for i in range(364)]
    )
    fit = fit_residual(flow[None, :], AS_OF, 14, KernelParams())
    mondays = [h for h in range(14) if (AS_OF + timedelta(days=h + 1)).weekday() == 0]
    others = [h for h in range(14) if h not in mondays]
    assert fit.mean[0, mondays].min() > 500
    assert abs(fit.mean[0, others]).max() < 150


def test_noise_widens_the_band_with_the_horizon_and_covers_the_mean() -> None:
    rng = np.random.default_rng(3)
    flow = rng.normal(0, 1_000, 365)
    fc = forecast(_input([_account(flow, 100_000)]), calibration=IDENTITY)
    w1 = fc.consolidated[6].p90_minor - fc.consolidated[6].p10_minor
    w13 = fc.consolidated[-1].p90_minor - fc.consolidated[-1].p10_minor
    assert 0 < w1 < w13
    assert (
        fc.consolidated[-1].p10_minor
        < 100_000 + flow[-91:].mean() * 91
        < fc.consolidated[-1].p90_minor
    )


def test_weekly_shortfall_probability_follows_the_balance() -> None:
    # a certain payment drives the balance to -2000 on day 17 (week 3 of origin-aligned weeks)
    pay = KnownItem("tax", "a1", AS_OF + timedelta(days=17), -12_000, ItemKind.TAX)
    inp = _input([_account(np.zeros(200), 10_000)], (pay,))
    fc = forecast(inp, calibration=IDENTITY, align="origin")
    probs = [w.shortfall_probability for w in fc.weeks]
    assert probs[:2] == [0.0, 0.0]
    assert probs[2:] == [1.0] * 11
    assert fc.weeks[2].expected_min_balance_minor == -2_000
    assert fc.weeks[2].expected_min_day == AS_OF + timedelta(days=17)
    # a buffer moves the threshold
    fc_buf = forecast(
        _input([_account(np.zeros(200), 10_000)], (pay,), buffer_minor=20_000),
        calibration=IDENTITY,
        align="origin",
    )
    assert all(w.shortfall_probability == 1.0 for w in fc_buf.weeks)


def test_uncertain_invoice_gives_an_intermediate_probability() -> None:
    pay = KnownItem("vat", "a1", AS_OF + timedelta(days=20), -15_000, ItemKind.TAX)
    inv = KnownItem(
        "inv", "a1", AS_OF + timedelta(days=5), 10_000, ItemKind.INVOICE, probability=0.6
    )
    fc = forecast(
        _input([_account(np.zeros(200), 8_000)], (pay, inv)), calibration=IDENTITY, align="origin"
    )
    p = fc.weeks[3].raw_probability  # days 22-28, after the VAT payment
    assert 0.3 < p < 0.5  # short exactly when the invoice fails (40 %)


def test_same_input_same_forecast() -> None:
    rng = np.random.default_rng(9)
    inp = _input([_account(rng.normal(-50, 500, 300), 40_000)])
    a, b = forecast(inp, calibration=IDENTITY), forecast(inp, calibration=IDENTITY)
    assert a.consolidated == b.consolidated and a.weeks == b.weeks


def test_monday_weeks_start_on_mondays_and_cover_the_horizon() -> None:
    as_of = date(2026, 12, 2)  # a Wednesday
    wins = week_windows(as_of, 91, "monday")
    assert all(ws.weekday() == 0 for _, _, ws, _ in wins)
    assert wins[0][0] == 0 and wins[0][2] == date(2026, 11, 30)  # partial first week
    assert wins[-1][1] == 90
    covered = sorted({i for lo, hi, _, _ in wins for i in range(lo, hi + 1)})
    assert covered == list(range(91))


def test_calibration_is_monotone_and_round_trips(tmp_path) -> None:
    pytest.importorskip("sklearn")
    from ledgerlens.analyze.cashflow.shortfall import fit_calibration

    rng = np.random.default_rng(0)
    raw = rng.random(2_000)
    outcome = (rng.random(2_000) < raw**2).astype(float)  # over-confident raw scores
    cal = fit_calibration(raw, outcome, "test", tmp_path / "cal.json")
    grid = cal.apply(np.linspace(0, 1, 50))
    assert np.all(np.diff(grid) >= 0)
    assert abs(float(cal.apply(0.5)) - 0.25) < 0.08
    again = Calibration.from_json((tmp_path / "cal.json").read_text())
    assert np.allclose(again.apply(grid), cal.apply(grid))
