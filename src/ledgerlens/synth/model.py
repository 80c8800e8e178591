"""The synthetic world's value types: businesses, accounts, booked lines and their truth.

A simulated line is a ``SimTxn`` (a NamedTuple, because a world holds millions of them and
tuples are the cheapest Python record to build, pickle between processes and sort). Dates are
day indexes from the world's ``start`` (day 0) so that the simulation works in integers and
numpy; writers turn them into ``datetime.date`` once, through ``World.day_dates``.

Everything booked after ``World.history_end`` is hidden future truth: the canonical CSV and the
statement files show the history only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from functools import cached_property, partial
from typing import NamedTuple

import numpy as np

from ledgerlens.core.ledger import AccountType
from ledgerlens.synth.fx import FxTable

__all__ = [
    "FutureItem",
    "SimAccount",
    "SimBusiness",
    "SimTxn",
    "World",
]


class SimTxn(NamedTuple):
    """One booked line plus its ground truth (category, pair, series, anomaly)."""

    day: int  # booking day index (business day)
    tod: int  # minute of the day: orders lines within a day, printed by some banks
    account: int  # index into SimBusiness.accounts
    amount_minor: int  # signed, in the account's currency
    description: str
    counterparty_name: str
    counterparty_iban: str
    mcc: str
    card_id: str  # masked, "**** 1234"
    employee_id: str
    kind: str  # rail kind (see cultures.RAIL_KINDS): decides bank codes in every format
    category: str  # taxonomy leaf code
    pair: str = ""  # transfer pair id shared by both legs
    series: str = ""  # recurring series id
    anomaly: str = ""  # injected anomaly kind
    value_day: int = -1  # -1 = same as day


@dataclass(frozen=True, slots=True)
class SimAccount:
    """An account as the bank prints it (IBAN or US routing/account number, sort code…)."""

    account_id: str
    account_type: AccountType
    currency: str
    identifier: str  # IBAN (EU/UK) or account number (US)
    bank_name: str
    bic: str
    name: str
    sort_code: str = ""  # UK only, "12-34-56"
    account_number: str = ""  # UK 8 digits / US account number


@dataclass(frozen=True, slots=True)
class FutureItem:
    """Something known at history end that moves money inside the hidden 13 weeks."""

    business_id: str
    account_id: str
    kind: str  # open_invoice | scheduled_payment
    due_date: date
    amount_minor: int  # signed, account currency
    currency: str
    counterparty_name: str
    reference: str
    category: str
    series: str = ""


@dataclass(slots=True)
class SimBusiness:
    """One simulated business with its booked lines (history + hidden future) and truth."""

    index: int
    business_id: str
    name: str
    archetype: str
    country: str
    base_currency: str
    split: str
    accounts: list[SimAccount]
    opening_minor: list[int]  # per account, balance before day 0
    txns: list[SimTxn]  # ordered by (account, day, tod, generation order)
    balances_after: list[int]  # per line, in the line's account currency
    daily_balances: np.ndarray  # shape (n_accounts, n_days): end-of-day balances, minor units
    future_items: list[FutureItem] = field(default_factory=list)
    cash_gap: bool = False  # primary account goes below zero in the hidden future
    gap_foreseeable: bool = False
    gap_causes_begin: date | None = None  # unforeseeable gap: when the last cause has begun
    distress: bool = False  # default/distress outcome within 12 months of history end
    distress_score: float = 0.0
    products: list[tuple[str, str]] = field(default_factory=list)  # (product, reason)
    employees: list[tuple[str, str]] = field(default_factory=list)  # (employee_id, name)

    @property
    def transaction_ids(self) -> list[str]:
        """ "t_<business>_<n>", n counting lines in order from 1 (derived, not stored)."""
        bid = self.business_id
        return [f"t_{bid}_{k:06d}" for k in range(1, len(self.txns) + 1)]

    @property
    def bank_references(self) -> list[str]:
        """The bank's unique reference per line (AcctSvcrRef, MT940 //reference)."""
        head = f"{self.index % 100000:05d}{self.country}"
        return [f"{head}{k:07d}" for k in range(1, len(self.txns) + 1)]

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle the lines column-wise: unpickling a million small NamedTuples (a Python call
        each) is what made handing businesses between processes slow; columns stay in C."""
        state = [getattr(self, f.name) for f in fields(self)]
        state[_TXNS] = _pack(self.txns)
        return (_rebuild_business, (state,))


def _pack(txns: list[SimTxn]) -> tuple[int, list[tuple[object, ...]]]:
    return len(txns), list(zip(*txns, strict=True))


def _unpack(packed: tuple[int, list[tuple[object, ...]]]) -> list[SimTxn]:
    n, cols = packed
    if n == 0:
        return []
    return list(map(partial(tuple.__new__, SimTxn), zip(*cols, strict=True)))


def _rebuild_business(state: list[object]) -> SimBusiness:
    state[_TXNS] = _unpack(state[_TXNS])  # type: ignore[arg-type]
    return SimBusiness(*state)  # type: ignore[arg-type]


_TXNS = [f.name for f in fields(SimBusiness)].index("txns")


@dataclass
class World:
    """A generated world: its calendar, seed and businesses."""

    seed: int
    start: date
    history_end: date
    future_end: date
    businesses: list[SimBusiness]
    fx_rate_date: date  # last ECB date used; later days reuse that rate
    fx: FxTable | None = None  # the rates the world was simulated with (for checks)

    @property
    def n_days(self) -> int:
        return (self.future_end - self.start).days + 1

    @property
    def history_days(self) -> int:
        """Number of days in the visible history (day indexes 0 .. history_days-1)."""
        return (self.history_end - self.start).days + 1

    @cached_property
    def day_dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.n_days)]

    @cached_property
    def day_iso(self) -> list[str]:
        return [d.isoformat() for d in self.day_dates]
