"""From a business's booked lines to a ``ForecastInput``: opening balances and residual history.

The opening balance is the latest balance the bank told us (``balance_after`` of the last line
on or before ``as_of``, else a statement's closing balance), never a sum we reconstructed,
because a forecast that starts from the wrong balance is wrong every day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from ledgerlens.analyze.cashflow.model import AccountSeries, ForecastInput, KnownItem

if TYPE_CHECKING:
    from ledgerlens.core.ledger import Account, Statement, Transaction

__all__ = ["build_input", "opening_balances", "pick_operating"]

MAX_HISTORY_DAYS = 548  # 18 months: enough for a yearly pattern, bounded work per business


def pick_operating(accounts: Sequence[Account], base_currency: str) -> str:
    """The account that pays the bills: the first current account in the base currency."""
    for a in accounts:
        if str(a.account_type) == "current" and a.currency == base_currency:
            return a.account_id
    for a in accounts:
        if str(a.account_type) == "current":
            return a.account_id
    return accounts[0].account_id


def opening_balances(
    accounts: Sequence[Account],
    transactions: Sequence[Transaction],
    as_of: date,
    statements: Sequence[Statement] = (),
) -> dict[str, tuple[int, date | None]]:
    """Latest known balance per account at the end of ``as_of`` and the day it was known.

    Lines after the last known balance are added to it (a statement without running balances),
    so the result is still the end-of-``as_of`` balance.
    """
    best: dict[str, tuple[date, int]] = {}
    for st in statements:
        if st.closing_minor is not None and st.period_end is not None and st.period_end <= as_of:
            cur = best.get(st.account_id)
            if cur is None or st.period_end >= cur[0]:
                best[st.account_id] = (st.period_end, st.closing_minor)
    # later lines of the same day come later in file order: keep the last one seen per day
    for t in transactions:
        if t.balance_after_minor is None or t.booking_date > as_of:
            continue
        cur = best.get(t.account_id)
        if cur is None or t.booking_date >= cur[0]:
            best[t.account_id] = (t.booking_date, t.balance_after_minor)
    out: dict[str, tuple[int, date | None]] = {}
    for a in accounts:
        known = best.get(a.account_id)
        if known is None:
            total = sum(
                t.amount_minor
                for t in transactions
                if t.account_id == a.account_id and t.booking_date <= as_of
            )
            out[a.account_id] = (total, None)
            continue
        day, bal = known
        later = sum(
            t.amount_minor
            for t in transactions
            if t.account_id == a.account_id and day < t.booking_date <= as_of
        )
        out[a.account_id] = (bal + later, day)
    return out


def build_input(
    business_id: str,
    base_currency: str,
    accounts: Sequence[Account],
    transactions: Sequence[Transaction],
    as_of: date,
    *,
    items: Sequence[KnownItem] = (),
    explained_ids: set[str] | frozenset[str] = frozenset(),
    run_rates: Mapping[str, list[tuple[int, float, str]]] | None = None,
    fx_to_base: Mapping[str, float] | None = None,
    statements: Sequence[Statement] = (),
    buffer_minor: int = 0,
    horizon_days: int = 91,
    operating_account_id: str | None = None,
    history_source: str = "transactions",
) -> ForecastInput:
    """Daily residual flows per account (explained lines removed) plus openings and items."""
    if not accounts:
        raise ValueError(f"business {business_id} has no accounts to forecast")
    fx_to_base = fx_to_base or {}
    run_rates = run_rates or {}
    acc_ix = {a.account_id: k for k, a in enumerate(accounts)}
    hist = [t for t in transactions if t.booking_date <= as_of and t.account_id in acc_ix]
    first = min((t.booking_date for t in hist), default=as_of)
    first = max(first, as_of - timedelta(days=MAX_HISTORY_DAYS - 1))
    n = (as_of - first).days + 1
    flows = np.zeros((len(accounts), n))
    if hist:
        ords = np.fromiter((t.booking_date.toordinal() for t in hist), np.int64, len(hist))
        amts = np.fromiter(
            (0 if t.transaction_id in explained_ids else t.amount_minor for t in hist),
            np.float64,
            len(hist),
        )
        accs = np.fromiter((acc_ix[t.account_id] for t in hist), np.int64, len(hist))
        day = ords - first.toordinal()
        ok = day >= 0
        np.add.at(flows, (accs[ok], day[ok]), amts[ok])
    openings = opening_balances(accounts, transactions, as_of, statements)
    operating = operating_account_id or pick_operating(accounts, base_currency)
    series = tuple(
        AccountSeries(
            account_id=a.account_id,
            currency=a.currency,
            start=first,
            residual_minor=flows[k],
            opening_minor=openings[a.account_id][0],
            fx_to_base=1.0 if a.currency == base_currency else fx_to_base.get(a.currency, 1.0),
            operating=a.account_id == operating,
            run_rate_items=tuple(run_rates.get(a.account_id, ())),
        )
        for k, a in enumerate(accounts)
    )
    return ForecastInput(
        business_id=business_id,
        base_currency=base_currency,
        as_of=as_of,
        accounts=series,
        items=tuple(i for i in items if i.account_id in acc_ix),
        buffer_minor=buffer_minor,
        horizon_days=horizon_days,
        history_source=history_source,
    )
