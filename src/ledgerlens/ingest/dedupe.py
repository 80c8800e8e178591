"""Keys that make re-imports idempotent.

A transaction is the same one again when its key matches: the file's own transaction id when it has
one (canonical CSV), else the bank's reference with date and amount, else a fingerprint of date,
amount and normalized text. Identical lines on one day (two coffees of the same price) are told
apart by their occurrence number within the statement, so an overlapping re-export (listing the
same day's lines in the same order) maps each line to the same key; genuine twins stay two.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

from ledgerlens.ingest.model import ParsedStatement, ParsedTransaction

__all__ = ["normalize_text", "statement_key", "transaction_keys"]

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Case-, spacing- and punctuation-insensitive form, so re-exports that re-wrap text match."""
    return _NON_WORD.sub("", text.casefold())


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:32]


def transaction_keys(transactions: Iterable[ParsedTransaction]) -> list[str]:
    """One dedup key per transaction, in order (occurrence numbers counted within this batch)."""
    seen: Counter[tuple[object, ...]] = Counter()
    keys: list[str] = []
    for t in transactions:
        if t.transaction_id:
            keys.append("id:" + t.transaction_id)
            continue
        base: tuple[object, ...]
        if t.bank_reference:
            base = ("ref", t.bank_reference, t.booking_date, t.amount_minor)
        else:
            base = (
                "fp",
                t.booking_date,
                t.amount_minor,
                normalize_text(t.description),
                normalize_text(t.counterparty_name),
                t.counterparty_iban.replace(" ", "").upper(),
            )
        n = seen[base]
        seen[base] = n + 1
        keys.append(f"{base[0]}:{_digest(*base, n)}")
    return keys


def statement_key(statement: ParsedStatement, count: int, sum_minor: int) -> str:
    """A statement is the same one again when its reference, period, balances and totals match."""
    return _digest(
        statement.statement_ref,
        statement.period_start,
        statement.period_end,
        statement.opening_minor,
        statement.closing_minor,
        count,
        sum_minor,
    )
