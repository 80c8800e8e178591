"""The forecaster end to end on a small synthetic world with an unseen seed.

The world is written to files and read back through the production canonical CSV parser, the
known items come from its truth files, and the targets asserted are the ones this small world
reliably reaches (the full-size figures are in docs/EVALUATION.md, from ``ledgerlens backtest``).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from ledgerlens.analyze.cashflow import (
    ItemKind,
    MovePayment,
    ScheduleTransfer,
    forecast,
    what_if,
)
from ledgerlens.ml.forecast_eval import evaluate_cases
from ledgerlens.ml.forecast_world import BacktestCase, iter_cases, load_world_truth

SEED = 5151  # never used to tune or calibrate the forecaster
N_BUSINESSES = 32

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ledgerlens.ml.synth_data import write_synthetic_world

    return write_synthetic_world(N_BUSINESSES, 18, SEED, tmp_path_factory.mktemp("fc-world"))


@pytest.fixture(scope="module")
def cases(world: Path) -> list[BacktestCase]:
    return list(iter_cases(world, mode="truth", truth=load_world_truth(world)))


def test_backtest_beats_seasonal_naive_with_honest_intervals(cases: list[BacktestCase]) -> None:
    res = evaluate_cases(cases, methods=("naive", "seasonal_naive"))
    ours = res["methods"]["ledgerlens"]
    assert res["cases"] == N_BUSINESSES * 4
    # issue #5 targets this world reaches (deterministic: seeded world, seeded simulation)
    assert ours["relative_mase"] <= 0.70, ours
    assert 0.75 <= ours["coverage_80"] <= 0.85, ours
    short = res["shortfall"]
    assert short["short_weeks_2_8"] > 0
    assert short["ece"] <= 0.05, short
    assert short["precision_at_0.5"] >= 0.70, short
    # recall >= 0.85 is reached only where the gap is visible in advance: some of the world's
    # gaps come from an unannounced shock (see docs/forecast.md, Limits)
    assert short["recall_foreseeable"] >= 0.80, short
    assert short["recall_at_0.5"] >= 0.6, short


def _gap_case(cases: list[BacktestCase]) -> tuple[BacktestCase, str]:
    """A foreseeable-gap business at the history end and the known payment that opens it."""
    for c in cases:
        if c.gap_kind != "foreseeable" or not c.weeks_truth:
            continue
        known = [
            i
            for i in c.inp.items
            if i.kind is ItemKind.SCHEDULED
            and i.category == "opex.equipment"
            and i.amount_minor < 0
        ]
        if known:
            return c, max(known, key=lambda i: -i.amount_minor).item_id
    pytest.skip("no foreseeable gap opened by a known payment in this world")


def test_moving_the_payment_that_causes_the_gap_past_it_removes_it(cases) -> None:
    case, item_id = _gap_case(cases)
    base = forecast(case.inp, align="origin")
    gap_weeks = [k for k, w in enumerate(base.weeks) if w.shortfall_probability >= 0.5]
    assert gap_weeks, "the known payment should already show as a gap"
    first = gap_weeks[0]
    payment = next(i for i in case.inp.items if i.item_id == item_id)
    assert payment.due_date <= base.weeks[first].week_end
    later = case.origin + timedelta(days=case.inp.horizon_days + 30)
    res = what_if(case.inp, [MovePayment(item_id, later)], align="origin", base=base)
    assert res.scenario.weeks[first].shortfall_probability < 0.5
    assert res.weeks[first].change <= -0.3


def test_a_scheduled_transfer_shifts_both_accounts_by_exactly_its_amount(cases) -> None:
    case = next((c for c in cases if len(c.inp.accounts) >= 2 and c.weeks_truth), None)
    if case is None:
        pytest.skip("no multi-account business")
    src, dst = case.inp.accounts[1], case.inp.accounts[0]
    inp = dataclasses.replace(
        case.inp, accounts=tuple(dataclasses.replace(a, fx_to_base=1.0) for a in case.inp.accounts)
    )
    on = case.origin + timedelta(days=10)
    amount = 12_345_67
    res = what_if(inp, [ScheduleTransfer(src.account_id, dst.account_id, on, amount)])
    for before, after in zip(res.base.accounts, res.scenario.accounts, strict=True):
        sign = {dst.account_id: 1, src.account_id: -1}.get(after.account_id, 0)
        for b, a in zip(before.bands, after.bands, strict=True):
            want = sign * amount if b.day >= on else 0
            assert a.p10_minor - b.p10_minor == want
            assert a.p50_minor - b.p50_minor == want
            assert a.p90_minor - b.p90_minor == want
    assert res.scenario.consolidated == res.base.consolidated


def test_origins_ahead_see_the_hidden_lines_up_to_them_and_no_further(world: Path) -> None:
    truth = load_world_truth(world)
    end = truth.history_end
    ahead = list(
        iter_cases(
            world, mode="truth", truth=truth, origins_back_days=(0,), origins_ahead_days=(7, 35)
        )
    )
    assert len(ahead) == N_BUSINESSES * 3
    for case in ahead:
        k = (case.origin - end).days // 7
        # each account's opening is the truth balance at the origin: the hidden lines up to the
        # origin are in, nothing after it
        for acc in case.inp.accounts:
            assert acc.opening_minor == truth.daily[case.business_id][acc.account_id][case.origin]
            assert acc.start + timedelta(days=len(acc.residual_minor) - 1) == case.origin
        weekly = truth.weekly[case.business_id]
        assert [w for w, _ in case.weeks_truth] == [w for w, _, _ in weekly[k:]]
        assert all(w > case.origin for w, _ in case.weeks_truth)


def test_an_unforeseeable_gap_counts_as_foreseeable_once_its_causes_have_begun(
    world: Path,
) -> None:
    from ledgerlens.ml.forecast_world import gap_kind_at

    truth = load_world_truth(world)
    assert truth.causes_begin, "this world has no unforeseeable gap"
    for bid, hit in truth.causes_begin.items():
        assert truth.gap_kind[bid] == "unforeseeable"
        assert gap_kind_at(truth, bid, hit - timedelta(days=1)) == "unforeseeable"
        assert gap_kind_at(truth, bid, hit) == "foreseeable"
    calm = next(b for b, k in truth.gap_kind.items() if k == "none")
    assert gap_kind_at(truth, calm, truth.history_end + timedelta(days=35)) == "none"
