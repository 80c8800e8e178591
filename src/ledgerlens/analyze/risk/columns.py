"""Column helpers of the risk features: codes of strings, object arrays, the primary account.

The columns themselves are ``analyze.ledger_columns.LedgerColumns`` (shared with other
per-business analyses); object arrays of strings make fancy indexing and ``==`` run in C.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np

from ledgerlens.analyze.ledger_columns import LedgerColumns, take

__all__ = ["LedgerColumns", "codes_of", "object_array", "primary_account", "take"]


def codes_of(values: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """(code per value, distinct values) with codes in order of first appearance."""
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    codes = np.frombuffer(array("q", map(index.__getitem__, values)), np.int64)
    return codes, list(index)


def object_array(values: list[str]) -> np.ndarray:
    """A list of strings as a 1-d object array (pointers: fancy indexing and ``==`` in C)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


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
