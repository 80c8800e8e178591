"""Banking days and each country's tax calendar, as the banks and tax offices apply them.

A transfer is booked on a banking day, so every simulated payment date is rolled to one: forward
for a collection or a receipt, backward for a payment that must *arrive* by a deadline (UK PAYE
and VAT, NL VAT). The tax calendars encode the real statutory rules (documented per function) so
that models learn the rhythm of each country's tax payments, and tests check it independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

__all__ = [
    "BankCalendar",
    "TaxDue",
    "bank_calendar",
    "corporate_tax_schedule",
    "other_tax_schedule",
    "payroll_tax_schedule",
    "vat_schedule",
]


@dataclass(frozen=True, slots=True)
class TaxDue:
    """One tax payment obligation: the deadline and the period whose base it pays."""

    due: date
    period_start: date
    period_end: date


class BankCalendar:
    """Banking days of one country over a day-index range starting at ``start``.

    ``next_open[i]`` is the first banking day index >= i and ``prev_open[i]`` the last one <= i,
    as numpy arrays so that a whole flow's dates roll in one vectorized lookup.
    """

    def __init__(self, country: str, start: date, n_days: int) -> None:
        import holidays  # heavy-ish; only when a world is generated

        self.start = start
        self.n_days = n_days
        pad = 15  # look beyond both ends so rolls never fall off the range
        years = range(start.year - 1, (start + timedelta(days=n_days + pad)).year + 1)
        hol = holidays.country_holidays(country, years=list(years))
        total = n_days + 2 * pad
        first = start - timedelta(days=pad)
        open_ = np.zeros(total, dtype=bool)
        for i in range(total):
            d = first + timedelta(days=i)
            open_[i] = d.weekday() < 5 and d not in hol
        idx = np.arange(total)
        nxt = np.where(open_, idx, total + 10)
        nxt = np.minimum.accumulate(nxt[::-1])[::-1]
        prv = np.where(open_, idx, -10)
        prv = np.maximum.accumulate(prv)
        self._open = open_[pad : pad + n_days]
        self.next_open = (nxt[pad : pad + n_days] - pad).astype(np.int64)
        self.prev_open = (prv[pad : pad + n_days] - pad).astype(np.int64)
        self.is_open = self._open

    def index(self, d: date) -> int:
        return (d - self.start).days

    def roll_forward(self, d: date) -> date:
        i = self.index(d)
        if 0 <= i < self.n_days:
            return self.start + timedelta(days=int(self.next_open[i]))
        while d.weekday() >= 5:
            d += timedelta(days=1)
        return d

    def roll_back(self, d: date) -> date:
        i = self.index(d)
        if 0 <= i < self.n_days:
            return self.start + timedelta(days=int(self.prev_open[i]))
        while d.weekday() >= 5:
            d -= timedelta(days=1)
        return d


@lru_cache(maxsize=32)
def bank_calendar(country: str, start: date, n_days: int) -> BankCalendar:
    """Cached per process: every business of a country shares one calendar."""
    return BankCalendar(country, start, n_days)


def _month_end(y: int, m: int) -> date:
    if m == 12:
        return date(y, 12, 31)
    return date(y, m + 1, 1) - timedelta(days=1)


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    t = y * 12 + (m - 1) + k
    return t // 12, t % 12 + 1


def _months(first: date, last: date, back: int = 3) -> list[tuple[int, int]]:
    y, m = _add_months(first.year, first.month, -back)
    out = []
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = _add_months(y, m, 1)
    return out


def _in(d: date, first: date, last: date) -> bool:
    return first <= d <= last


def vat_schedule(country: str, first: date, last: date, variant: int = 0) -> list[TaxDue]:
    """VAT / sales-tax deadlines falling in [first, last].

    - GB: quarterly returns; payment due 1 calendar month + 7 days after the quarter end (MTD).
      ``variant`` 0/1/2 picks the HMRC stagger (quarters ending Mar/Jun/Sep/Dec, Apr/Jul/Oct/Jan,
      May/Aug/Nov/Feb).
    - DE: monthly UStVA due on the 10th of the next month; ``variant`` 1 = Dauerfristverlängerung
      (one month later).
    - NL: quarterly aangifte, payment due by the last day of the month after the quarter.
    - FR: monthly CA3, due on a day between the 15th and 24th of the next month fixed per
      business (``variant`` = 0..9 → day 15..24).
    - US: state sales tax, monthly, due on the 20th of the next month (e.g. Texas, Colorado).
    """
    out: list[TaxDue] = []
    for y, m in _months(first, last, back=4):
        pstart = date(y, m, 1)
        if country == "GB":
            if (m - 3 - variant) % 3 != 0:
                continue
            qs_y, qs_m = _add_months(y, m, -2)
            pstart = date(qs_y, qs_m, 1)
            dy, dm = _add_months(y, m, 1)
            due = date(dy, dm, 7)
        elif country == "DE":
            dy, dm = _add_months(y, m, 2 if variant == 1 else 1)
            due = date(dy, dm, 10)
        elif country == "NL":
            if m % 3 != 0:
                continue
            qs_y, qs_m = _add_months(y, m, -2)
            pstart = date(qs_y, qs_m, 1)
            dy, dm = _add_months(y, m, 1)
            due = _month_end(dy, dm)
        elif country == "FR":
            dy, dm = _add_months(y, m, 1)
            due = date(dy, dm, 15 + variant % 10)
        else:  # US
            dy, dm = _add_months(y, m, 1)
            due = date(dy, dm, 20)
        if _in(due, first, last):
            out.append(TaxDue(due, pstart, _month_end(y, m)))
    return out


def payroll_tax_schedule(country: str, first: date, last: date) -> list[TaxDue]:
    """Employer payroll-tax deadlines (withheld income tax + social contributions).

    GB PAYE/NIC: 22nd of the next month (electronic). DE Lohnsteuer: 10th of the next month.
    NL loonheffingen: last day of the next month. FR URSSAF (under 50 staff): 15th of the next
    month. US federal deposits (monthly depositor, Form 941): 15th of the next month.
    """
    day = {"GB": 22, "DE": 10, "FR": 15, "US": 15}
    out: list[TaxDue] = []
    for y, m in _months(first, last):
        dy, dm = _add_months(y, m, 1)
        due = _month_end(dy, dm) if country == "NL" else date(dy, dm, day[country])
        if _in(due, first, last):
            out.append(TaxDue(due, date(y, m, 1), _month_end(y, m)))
    return out


def corporate_tax_schedule(country: str, first: date, last: date) -> list[TaxDue]:
    """Corporate income tax payments.

    GB: one payment 9 months and 1 day after a 31 December year end (1 October).
    DE: quarterly Körperschaftsteuer prepayments on 10 Mar/Jun/Sep/Dec.
    NL: provisional assessment paid in monthly instalments at each month end.
    FR: quarterly acomptes d'IS on 15 Mar/Jun/Sep/Dec.
    US: estimated tax on 15 Apr/Jun/Sep/Dec (Form 1120-W).
    """
    out: list[TaxDue] = []
    for y, m in _months(first, last, back=0):
        due: date | None = None
        if country == "GB" and m == 10:
            due = date(y, 10, 1)
            out_period = (date(y - 1, 1, 1), date(y - 1, 12, 31))
        elif country == "DE" and m in (3, 6, 9, 12):
            due = date(y, m, 10)
        elif country == "NL":
            due = _month_end(y, m)
        elif (country == "FR" and m in (3, 6, 9, 12)) or (country == "US" and m in (4, 6, 9, 12)):
            due = date(y, m, 15)
        if due is None or not _in(due, first, last):
            continue
        if country != "GB":
            out_period = (date(y, 1, 1), date(y, 12, 31))
        out.append(TaxDue(due, *out_period))
    return out


def other_tax_schedule(country: str, first: date, last: date) -> list[TaxDue]:
    """Local business taxes that are neither VAT nor profit tax (``tax.other``).

    GB business rates: 10 monthly instalments April–January on the 1st. DE Gewerbesteuer
    prepayments 15 Feb/May/Aug/Nov. FR CFE on 15 December. NL/US: none modelled.
    """
    out: list[TaxDue] = []
    for y, m in _months(first, last, back=0):
        due: date | None = None
        if country == "GB" and m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1):
            due = date(y, m, 1)
        elif country == "DE" and m in (2, 5, 8, 11):
            due = date(y, m, 15)
        elif country == "FR" and m == 12:
            due = date(y, 12, 15)
        if due is not None and _in(due, first, last):
            out.append(TaxDue(due, date(y, m, 1), _month_end(y, m)))
    return out
