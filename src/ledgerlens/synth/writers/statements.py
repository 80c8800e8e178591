"""Monthly statement slices of a business's history, shared by the CAMT.053 and MT940 writers.

A slice is one account in one calendar month: its opening balance (end of the previous day),
its lines in booking order and its closing balance, so that opening + Σ amounts = closing by
construction — the property every importer checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from ledgerlens.synth.model import SimAccount, SimBusiness, SimTxn, World

__all__ = ["StatementSlice", "iter_statements"]


@dataclass(frozen=True, slots=True)
class StatementSlice:
    account_index: int
    account: SimAccount
    year: int
    month: int
    first: date
    last: date
    seq: int  # statement number for the account (1-based, monthly)
    opening_minor: int
    closing_minor: int
    lines: list[tuple[SimTxn, str, str, int]]  # (txn, transaction id, bank reference, balance)


def iter_statements(world: World, b: SimBusiness) -> Iterator[StatementSlice]:
    """Every (account, month) of the visible history, empty months included."""
    h, dates = world.history_days, world.day_dates
    by_account: dict[int, list[tuple[SimTxn, str, str, int]]] = {}
    for r, tid, ref, bal in zip(
        b.txns, b.transaction_ids, b.bank_references, b.balances_after, strict=True
    ):
        if r.day < h:
            by_account.setdefault(r.account, []).append((r, tid, ref, bal))
    months: list[tuple[int, int, int, int]] = []  # (year, month, first day, last day)
    d = 0
    while d < h:
        y, m = dates[d].year, dates[d].month
        e = d
        while e + 1 < h and dates[e + 1].month == m:
            e += 1
        months.append((y, m, d, e))
        d = e + 1
    for k, acc in enumerate(b.accounts):
        lines = by_account.get(k, [])
        balance = b.opening_minor[k]
        i = 0
        for seq, (y, m, d0, d1) in enumerate(months, start=1):
            j = i
            while j < len(lines) and lines[j][0].day <= d1:
                j += 1
            chunk = lines[i:j]
            closing = chunk[-1][3] if chunk else balance
            yield StatementSlice(k, acc, y, m, dates[d0], dates[d1], seq, balance, closing, chunk)
            balance, i = closing, j
