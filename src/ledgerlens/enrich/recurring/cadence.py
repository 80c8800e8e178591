"""Cadence: which rhythm a set of dates follows, how well, and when it comes next.

Banks book a payment due on a weekend or holiday on the next (sometimes the previous) banking
day, so gaps are matched within a tolerance (a monthly gap is 25–35 days, a weekly one 5–9) and a
missed occurrence counts as a gap of two periods, not as noise. Monthly-or-longer series must
also keep their day of the month (±3 days): this is what separates a contract paid on the 1st
from a supplier paid by hand "about every 30 days", whose day drifts.
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from ledgerlens.enrich.recurring.model import Cadence

__all__ = ["CADENCES", "CadenceFit", "fit_cadence", "is_business_day", "month_length", "next_date"]

# cadence -> (period in days, tolerance in days, months per step or 0)
CADENCES: dict[Cadence, tuple[float, float, int]] = {
    Cadence.WEEKLY: (7.0, 2.0, 0),
    Cadence.BIWEEKLY: (14.0, 3.0, 0),
    Cadence.FOUR_WEEKLY: (28.0, 2.0, 0),
    Cadence.MONTHLY: (30.44, 5.0, 1),
    Cadence.QUARTERLY: (91.31, 10.0, 3),
    Cadence.SEMIANNUAL: (182.62, 12.0, 6),
    Cadence.YEARLY: (365.25, 15.0, 12),
}
_MAX_MISSED_STEPS = 3  # a gap of up to 4 periods is "missed occurrences", beyond that a break


@dataclass(frozen=True, slots=True)
class CadenceFit:
    cadence: Cadence
    period_days: float
    regular_share: float  # share of gaps that are exactly one period (within tolerance)
    coverage: float  # occurrences seen / occurrences expected between first and last
    missed: int  # occurrences expected but not seen
    off_schedule: int  # gaps that fit no multiple of the period
    anchor_day: int  # day of month (monthly and longer), else weekday 0..6
    anchor_share: float  # share of lines within ±3 days of the anchor day


def _score_gaps(gaps: list[int], period: float, tol: float) -> tuple[int, int, int]:
    """(gaps of exactly one period, occurrences missed, gaps off every multiple)."""
    single = missed = off = 0
    for g in gaps:
        k = max(round(g / period), 1)
        if k > 1 + _MAX_MISSED_STEPS or abs(g - k * period) > tol + (k - 1) * tol / 2:
            off += 1
        elif k == 1:
            single += 1
        else:
            missed += k - 1
    return single, missed, off


@lru_cache(maxsize=1024)
def month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _anchor(dates: list[date], cadence: Cadence) -> tuple[int, float]:
    if CADENCES[cadence][2] == 0:
        wd = [d.weekday() for d in dates]
        best = max(range(7), key=wd.count)
        return best, wd.count(best) / len(wd)
    doms = [d.day for d in dates]
    best = max(set(doms), key=lambda x: (doms.count(x), -x))
    near = 0
    for d in dates:
        last = month_length(d.year, d.month)
        diff = abs(d.day - min(best, last))
        near += min(diff, last - diff) <= 3
    return best, near / len(dates)


def fit_cadence(days: list[int], dates: list[date]) -> CadenceFit | None:
    """Best cadence for sorted distinct day ordinals (at least 3), or None when none fits."""
    gaps = [b - a for a, b in itertools.pairwise(days)]
    if len(gaps) < 2:
        return None
    ordered = sorted(gaps)
    median_gap = ordered[len(ordered) // 2]
    mean_gap = sum(gaps) / len(gaps)
    best: tuple[float, CadenceFit] | None = None
    for cadence, (period, tol, _) in CADENCES.items():
        if not median_gap / 1.6 <= period <= median_gap * 1.6:
            continue
        if cadence is Cadence.FOUR_WEEKLY and not 27 <= median_gap <= 29:
            continue
        if cadence is Cadence.MONTHLY and mean_gap < 29.2 and ordered[-1] <= 30:
            continue  # always 28 days: four-weekly, not monthly
        n_single, missed, off = _score_gaps(gaps, period, tol)
        if n_single == 0:
            continue
        score = n_single - 0.5 * missed - 1.5 * off
        if best is not None and score <= best[0]:
            continue
        seen = len(days)
        anchor, share = _anchor(dates, cadence)
        fit = CadenceFit(cadence, period, n_single / len(gaps), seen / (seen + missed), missed,
                         off, anchor, share)  # fmt: skip
        best = (score, fit)
    return best[1] if best else None


@lru_cache(maxsize=16)
def _holidays(country: str) -> object | None:
    if not country:
        return None
    try:
        import holidays

        return holidays.country_holidays(country)
    except (ImportError, NotImplementedError, KeyError):
        return None


def is_business_day(day: date, country: str = "") -> bool:
    if day.weekday() >= 5:
        return False
    cal = _holidays(country)
    return cal is None or day not in cal  # type: ignore[operator]


def _roll(day: date, country: str, backward: bool) -> date:
    step = timedelta(days=-1 if backward else 1)
    for _ in range(10):
        if is_business_day(day, country):
            return day
        day += step
    return day


def _add_months(day: date, months: int, anchor: int) -> date:
    t = day.year * 12 + day.month - 1 + months
    y, m = divmod(t, 12)
    return date(y, m + 1, min(anchor, calendar.monthrange(y, m + 1)[1]))


def next_date(fit: CadenceFit, last: date, as_of: date, country: str, backward: bool) -> date:
    """The next expected booking day after ``max(last, as_of)``, on a banking day."""
    _, _, months = CADENCES[fit.cadence]
    if months:
        # the nominal month of the last line: a roll across a month end belongs to the month before
        nominal = date(last.year, last.month, 1)
        if last.day < fit.anchor_day - 15:
            nominal = _add_months(nominal, -1, 1)
        k = 1
        while True:
            nxt = _roll(_add_months(nominal, months * k, fit.anchor_day), country, backward)
            if nxt > last and nxt > as_of:
                return nxt
            k += 1
    nxt = last
    while nxt <= last or nxt <= as_of:
        nxt += timedelta(days=round(fit.period_days))
    return _roll(nxt, country, backward)
