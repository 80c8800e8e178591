"""One business's ledger as columns: one pass over the ``Transaction`` objects, then arrays.

Reading attributes off 4 000 objects is the one unavoidable Python-speed step of the risk
features (a list comprehension per attribute, ~45 µs each); everything after runs on int64 /
float64 arrays and on object arrays of strings, whose fancy indexing and ``==`` run in C.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ledgerlens.core.ledger import Transaction

__all__ = ["LedgerColumns", "codes_of", "object_array", "primary_account", "take"]


def codes_of(values: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """(code per value, distinct values) with codes in order of first appearance."""
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    codes = np.frombuffer(array("q", map(index.__getitem__, values)), np.int64)
    return codes, list(index)


def take(values: list[str], idx: np.ndarray) -> list[str]:
    """The items of ``values`` at ``idx``, as a list."""
    return list(map(values.__getitem__, idx.tolist()))


def object_array(values: list[str]) -> np.ndarray:
    """A list of strings as a 1-d object array (pointers: fancy indexing and ``==`` in C)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _balances(values: list[int | None]) -> np.ndarray:
    """Balances as float64, NaN where the bank gave none (ints via ``array``: 2x numpy's path)."""
    if None not in values:
        try:
            return np.frombuffer(array("q", values), np.int64).astype(np.float64)  # type: ignore[arg-type]
        except OverflowError:
            pass
    return np.array(values, dtype=np.float64)


@dataclass(slots=True)
class LedgerColumns:
    """The ledger as columns: one attribute pass over the objects, everything else on arrays."""

    ordinal: np.ndarray  # booking date as a proleptic ordinal (int64)
    amount: np.ndarray  # minor units (int64)
    balance: np.ndarray  # balance after the line (float64, NaN when the bank gave none)
    account: list[str]  # nearly always one value: a set tells, no array needed
    currency: list[str]
    name: list[str]
    text: list[str]
    tid: list[str]  # only filled when categories are given

    @classmethod
    def of(cls, txs: Sequence[Transaction], *, with_ids: bool) -> LedgerColumns:
        return cls(
            np.frombuffer(array("q", [t.booking_date.toordinal() for t in txs]), np.int64),
            np.frombuffer(array("q", [t.amount_minor for t in txs]), np.int64),
            _balances([t.balance_after_minor for t in txs]),
            [t.account_id for t in txs],
            [t.currency for t in txs],
            [t.counterparty_name for t in txs],
            [t.description for t in txs],
            [t.transaction_id for t in txs] if with_ids else [],
        )

    def take(self, keep: np.ndarray) -> LedgerColumns:
        idx = np.flatnonzero(keep)
        return LedgerColumns(
            *(col[idx] for col in (self.ordinal, self.amount, self.balance)),
            *(take(col, idx) for col in (self.account, self.currency, self.name, self.text)),
            take(self.tid, idx) if self.tid else [],
        )


def primary_account(lines: LedgerColumns) -> tuple[np.ndarray, str]:
    """(mask of the primary account's lines, its currency).

    The primary account is the one customers pay into (a card account only gets settlements):
    most lines with money in; ties go to the account seen first among those lines, then the
    busiest account overall when nothing came in.
    """
    accounts = set(lines.account)
    if len(accounts) == 1:
        return np.ones(len(lines.account), bool), lines.currency[0]
    pool = lines.amount > 0
    if not pool.any():
        pool = np.ones(pool.size, bool)
    best: tuple[int, int] | None = None  # (-count, first line) of the best account so far
    mine = pool
    column = object_array(lines.account)
    for acc in accounts:
        here = column == acc
        counted = here & pool
        rank = (-int(counted.sum()), int(np.argmax(counted)) if counted.any() else pool.size)
        if best is None or rank < best:
            best, mine = rank, here
    return mine, lines.currency[int(np.argmax(mine))]
