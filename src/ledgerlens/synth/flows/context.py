"""The state one business's simulation shares across flows, and the calendar arithmetic they use.

Every flow appends ``SimTxn`` rows to ``ctx.rows`` in generation order; ``world`` later sorts
them by (account, day, time). Flows draw randomness only from ``ctx.rng`` (one numpy Generator per
business, seeded from (world seed, business index)), so results do not depend on which worker
process ran the business or in which order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from ledgerlens.synth.archetypes import Archetype
from ledgerlens.synth.calendars import BankCalendar
from ledgerlens.synth.cultures import Culture
from ledgerlens.synth.fx import FxTable
from ledgerlens.synth.model import FutureItem, SimAccount, SimTxn

__all__ = ["Ctx", "Invoice", "Month"]


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int  # 1..12
    first: int  # day index of the 1st (may be negative for none: months start inside range)
    length: int  # days in month

    def day(self, dom: int) -> int:
        """Day index of day-of-month ``dom`` (clamped to the month's length)."""
        return self.first + min(dom, self.length) - 1


@dataclass(slots=True)
class Invoice:
    customer: str
    number: str
    issue_day: int
    due_day: int
    amount_minor: int
    currency: str
    account: int
    paid_day: int | None  # booking day of the payment, None = never paid


@dataclass(slots=True)
class Ctx:
    rng: np.random.Generator
    index: int
    business_id: str
    name: str
    arch: Archetype
    culture: Culture
    cal: BankCalendar
    fx: FxTable
    start: date
    n_days: int
    hist_days: int
    base: str
    accounts: list[SimAccount]
    acc_card: int
    acc_savings: int
    acc_fx: int
    foreign_ccy: str
    city: str
    dow: np.ndarray
    months: list[Month]
    month_of_day: np.ndarray  # index into months per day
    activity: np.ndarray  # demand multiplier per day (season x trend x shocks x noise)
    revenue_month: float  # typical monthly revenue, base-currency minor units
    staff: int
    rows: list[SimTxn] = field(default_factory=list)
    vat_sales: np.ndarray | None = None  # VAT-able gross sales per day (minor)
    vat_purchases: np.ndarray | None = None  # VAT-able gross purchases per day (minor)
    cards: list[tuple[str, str, str]] = field(default_factory=list)  # card_id, last4, employee
    employees: list[tuple[str, str, int, str]] = field(default_factory=list)  # id, name, net, iban
    invoices: list[Invoice] = field(default_factory=list)
    future_items: list[FutureItem] = field(default_factory=list)
    payroll_by_month: np.ndarray | None = None
    preset_opening: dict[int, int] = field(default_factory=dict)  # account -> opening balance
    shock_day: int = -1  # day of the future shock that makes a gap happen, if one was added
    causes_begin: int = -1  # unforeseeable gap: the day the last of its causes begins
    owner: tuple[str, str] = ("", "")  # name, personal IBAN
    foreign_receipts: int = 0  # foreign-currency receipts the bank converted on the base account
    n_series: int = 0
    n_pairs: int = 0

    # -- ids ----------------------------------------------------------------------------
    def series(self) -> str:
        self.n_series += 1
        return f"r_{self.business_id}_{self.n_series:03d}"

    def pair(self) -> str:
        self.n_pairs += 1
        return f"p_{self.business_id}_{self.n_pairs:04d}"

    # -- calendar -----------------------------------------------------------------------
    def open_fwd(self, day: int) -> int:
        """Banking day on or after ``day``; -1 when it falls beyond the simulated range."""
        if day < 0:
            day = 0
        if day >= self.n_days:
            return -1
        d = int(self.cal.next_open[day])
        return d if d < self.n_days else -1

    def open_back(self, day: int) -> int:
        if day >= self.n_days:
            return -1
        if day < 0:
            return -1
        d = int(self.cal.prev_open[day])
        return d if d >= 0 else -1

    def open_days(self, days: np.ndarray) -> np.ndarray:
        """Vectorized forward roll; days that roll beyond the range come back as -1."""
        days = np.clip(days, 0, self.n_days - 1)
        out = self.cal.next_open[days]
        return np.where(out < self.n_days, out, -1)

    def monthly(self, dom: int, back: bool = False) -> list[tuple[int, int]]:
        """(month index, banking day) for day-of-month ``dom`` in every simulated month."""
        out = []
        for mi, m in enumerate(self.months):
            d = m.day(dom)
            if d < 0 or d >= self.n_days:
                continue
            b = self.open_back(d) if back else self.open_fwd(d)
            if b >= 0:
                out.append((mi, b))
        return out

    def index_of(self, d: date) -> int:
        return (d - self.start).days

    def tod(self, lo: int = 420, hi: int = 1320) -> int:
        return int(self.rng.integers(lo, hi))

    def month_revenue(self, mi: int) -> float:
        """Expected revenue (minor) of month ``mi`` from the activity curve."""
        m = self.months[mi]
        a = max(m.first, 0)
        b = min(m.first + m.length, self.n_days)
        if b <= a:
            return self.revenue_month
        return float(self.revenue_month * self.activity[a:b].mean())

    def add_vat(self, day: int, gross_minor: int, sale: bool) -> None:
        arr = self.vat_sales if sale else self.vat_purchases
        if arr is not None and 0 <= day < self.n_days:
            arr[day] += gross_minor
