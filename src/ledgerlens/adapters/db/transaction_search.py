"""Searching one business's transactions for the API: filters and keyset pagination.

The repositories list transactions in canonical (import) order for batch work; an app wants the
newest first, a page at a time, filtered by account, dates, text and amount. Keyset pagination
on ``(booking_date, seq)`` — ``seq`` is the arrival order — keeps every page an index range
scan, however deep the client pages, and never skips or repeats a row when new rows arrive.

Amount bounds are decimals in each transaction's own currency: they are converted to minor
units per currency exponent (JPY 0, EUR 2, BHD 3), rounding towards the inside of the range,
so ``min_amount=-10.005`` never compares a float and never admits a value outside the bound.

Each row comes with its current category: the ``category`` annotation's value as the enrich
stage stored it ("" when it abstained or has not run), read in the same query through a LEFT
JOIN on the annotation's primary key ``(transaction_id, kind)``, so it costs no extra round trip
and never multiplies rows. ``category`` filters on that value (exact leaf code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, false, func, or_, select

from ledgerlens.adapters.db.bulk import TX_FIELDS
from ledgerlens.adapters.db.engine import SQLITE_BEGIN_OPTION
from ledgerlens.adapters.db.enrichment_tables import annotations_table
from ledgerlens.adapters.db.tables import accounts, businesses, transactions
from ledgerlens.core.ledger import AnnotationKind, Transaction
from ledgerlens.core.money import currency_exponent

__all__ = ["SearchHit", "SqlTransactionSearch", "TransactionFilter"]

_T = transactions.c
_CAT = annotations_table.alias("category")
# the join's ON carries the kind, so a line without a category annotation still comes back
_WITH_CATEGORY = transactions.outerjoin(
    _CAT,
    and_(
        _CAT.c.transaction_id == _T.transaction_id,
        _CAT.c.kind == str(AnnotationKind.CATEGORY),
    ),
)
_COLUMNS = [
    func.coalesce(_T.statement_id, "").label(name) if name == "statement_id" else _T[name]
    for name in TX_FIELDS
]


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """What a client may filter on; ``since``/``until`` are inclusive booking dates."""

    account_id: str | None = None
    since: date | None = None
    until: date | None = None
    text: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    category: str | None = None  # a taxonomy leaf code, matched exactly


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One match: the transaction, its ``seq`` (the cursor's key) and its current category
    ("" when the categorizer abstained or has not run yet)."""

    transaction: Transaction
    seq: int
    category: str


def _minor_bound(amount: Decimal, currency: str, rounding: str) -> int:
    scaled = amount.scaleb(currency_exponent(currency))
    return int(scaled.to_integral_value(rounding=rounding))


class SqlTransactionSearch:
    """Read-only queries over ``transactions``, each filtered by one ``business_id``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def search(
        self,
        business_id: str,
        flt: TransactionFilter,
        limit: int,
        after: tuple[date, int] | None = None,
    ) -> list[SearchHit] | None:
        """Up to ``limit`` matches, newest first, each with its ``seq`` and category.

        ``after`` is the ``(booking_date, seq)`` of the last row of the previous page. None when
        the business does not exist (checked on the same connection: one round trip fewer).
        """
        with self._engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
            known = conn.execute(
                select(businesses.c.business_id).where(businesses.c.business_id == business_id)
            ).first()
            if known is None:
                return None
            conditions: list[ColumnElement[bool]] = [_T.business_id == business_id]
            if flt.account_id is not None:
                conditions.append(_T.account_id == flt.account_id)
            if flt.since is not None:
                conditions.append(_T.booking_date >= flt.since)
            if flt.until is not None:
                conditions.append(_T.booking_date <= flt.until)
            if flt.text:
                needle = flt.text.lower()
                conditions.append(
                    or_(
                        func.lower(_T.description).contains(needle, autoescape=True),
                        func.lower(_T.counterparty_name).contains(needle, autoescape=True),
                    )
                )
            if flt.min_amount is not None or flt.max_amount is not None:
                currencies = conn.execute(
                    select(accounts.c.currency)
                    .where(accounts.c.business_id == business_id)
                    .distinct()
                ).scalars()
                conditions.append(self._amount_condition(sorted(currencies), flt))
            if flt.category is not None:
                conditions.append(_CAT.c.value == flt.category)
            if after is not None:
                last_date, last_seq = after
                conditions.append(
                    or_(
                        _T.booking_date < last_date,
                        and_(_T.booking_date == last_date, _T.seq < last_seq),
                    )
                )
            stmt = (
                select(*_COLUMNS, _T.seq, func.coalesce(_CAT.c.value, ""))
                .select_from(_WITH_CATEGORY)
                .where(*conditions)
                .order_by(_T.booking_date.desc(), _T.seq.desc())
                .limit(limit)
            )
            return [
                SearchHit(Transaction(*row[:-2]), int(row[-2]), str(row[-1]))
                for row in conn.execute(stmt)
            ]

    @staticmethod
    def _amount_condition(currencies: list[str], flt: TransactionFilter) -> ColumnElement[bool]:
        per_currency: list[Any] = []
        for ccy in currencies:
            parts: list[ColumnElement[bool]] = [_T.currency == ccy]
            if flt.min_amount is not None:
                parts.append(_T.amount_minor >= _minor_bound(flt.min_amount, ccy, ROUND_CEILING))
            if flt.max_amount is not None:
                parts.append(_T.amount_minor <= _minor_bound(flt.max_amount, ccy, ROUND_FLOOR))
            per_currency.append(and_(*parts))
        return or_(*per_currency) if per_currency else false()
