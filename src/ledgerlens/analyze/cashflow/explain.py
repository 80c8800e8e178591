"""Why the balance dips: the drivers of a gap, what the forecast rests on, and chart data.

A warning without a reason is not actionable. The drivers are ranked by how much they pull the
balance down by the gap day: the known outflows due before it (a VAT payment, the rent), the
inflows expected only after it or unlikely to come (a late payer's invoice), last year's
seasonal dip and a falling trend. The chart is data, never pixels: the app draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ledgerlens.analyze.cashflow.kernels import KernelParams, fit_residual
from ledgerlens.analyze.cashflow.model import Driver, Forecast, ForecastInput, WeekRisk

__all__ = ["ChartPoint", "GapExplanation", "chart_data", "explain_gap", "history_basis"]


@dataclass(frozen=True, slots=True)
class ChartPoint:
    start: date
    inflow_minor: int
    outflow_minor: int
    p10_minor: int
    p50_minor: int
    p90_minor: int


@dataclass(frozen=True, slots=True)
class GapExplanation:
    week: WeekRisk
    drivers: tuple[Driver, ...]
    history: str
    history_days: int


def history_basis(history_days: int) -> str:
    """The plain sentence the app shows: what the forecast rests on."""
    months = history_days / 30.44
    if months >= 1.5:
        return f"based on the past {round(months)} months of transactions"
    return f"based on the past {history_days} days of transactions (little history: wide range)"


def _gap_week(fc: Forecast, threshold: float) -> WeekRisk | None:
    for w in fc.weeks:
        if w.shortfall_probability >= threshold:
            return w
    return None


def explain_gap(
    inp: ForecastInput,
    fc: Forecast,
    *,
    threshold: float = 0.5,
    week: WeekRisk | None = None,
    top: int = 5,
    params: KernelParams | None = None,
) -> GapExplanation | None:
    """Drivers of the first week at risk (or of ``week``); None when no week reaches it."""
    week = week or _gap_week(fc, threshold)
    if week is None:
        return None
    gap_day = week.expected_min_day
    operating = {a.account_id for a in inp.accounts if a.operating} or {inp.accounts[0].account_id}
    drivers: list[Driver] = []
    for it in inp.items:
        if it.account_id not in operating:
            continue
        expected = round(it.amount_minor * it.probability)
        if it.amount_minor < 0 and it.due_date <= gap_day:
            drivers.append(
                Driver(
                    "outflow",
                    it.label or it.item_id,
                    expected,
                    it.due_date,
                    it.item_id,
                    {"kind": str(it.kind), "category": it.category},
                )
            )
        elif it.amount_minor > 0 and (it.due_date > gap_day or it.probability < 0.9):
            missing = it.amount_minor if it.due_date > gap_day else it.amount_minor - expected
            drivers.append(
                Driver(
                    "missing_inflow",
                    it.label or it.item_id,
                    -missing,
                    it.due_date,
                    it.item_id,
                    {"probability": it.probability, "kind": str(it.kind)},
                )
            )
    # the residual's seasonal and trend parts up to the gap day, from the same fit
    k = (
        [a.operating for a in inp.accounts].index(True)
        if any(a.operating for a in inp.accounts)
        else 0
    )
    acc = inp.accounts[k]
    p = params or KernelParams()
    days = (gap_day - inp.as_of).days
    if days > 0:
        fit = fit_residual(np.asarray(acc.residual_minor, float)[None, :], inp.as_of, days, p)
        level = float(np.mean(np.asarray(acc.residual_minor, float)[-p.level_days :]))
        pattern = float(fit.mean[0].sum() - level * days)
        if pattern < 0:
            drivers.append(
                Driver(
                    "seasonal",
                    "seasonal and calendar pattern (last year, weekdays)",
                    round(pattern),
                    gap_day,
                    "",
                    {"days": days},
                )
            )
        if level < 0:
            drivers.append(
                Driver(
                    "run_rate",
                    "day-to-day flows run negative",
                    round(level * days),
                    gap_day,
                    "",
                    {"per_day_minor": round(level)},
                )
            )
    drivers.sort(key=lambda d: d.amount_minor)
    return GapExplanation(
        week, tuple(drivers[:top]), history_basis(fc.history_days), fc.history_days
    )


def chart_data(fc: Forecast, by: str = "week") -> list[ChartPoint]:
    """Expected inflows and outflows per day or week, and the consolidated balance band."""
    step = 7 if by == "week" else 1
    out: list[ChartPoint] = []
    for lo in range(0, fc.horizon_days, step):
        hi = min(lo + step, fc.horizon_days)
        band = fc.consolidated[hi - 1]
        out.append(
            ChartPoint(
                fc.as_of + timedelta(days=lo + 1),
                int(sum(fc.inflow_mean_minor[lo:hi])),
                int(sum(fc.outflow_mean_minor[lo:hi])),
                band.p10_minor,
                band.p50_minor,
                band.p90_minor,
            )
        )
    return out
