"""Cash-flow features of one business, the inputs of the risk score.

A lender reads a business's health from its bank account: how thin and how jumpy the balance is,
whether it dips below zero, whether revenue grows or shrinks and hangs on one customer, whether
customers pay late or stop paying, whether payments bounce, how much goes to servicing debt, and
how old and how big the business is. Each feature is a plain number with a unit in its name so
the reason codes can quote it back ("balance below zero on 12 % of days").

Pure: transactions in, one ``RiskFeatures`` out; numpy only. Annotations are optional: when the
enrichment stage has run, its categories (``financing.loan_repayment``, ``transfer.*``) replace
the keyword fallbacks, so the same code scores a bare CSV file and an enriched ledger.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from ledgerlens.core.ledger import Transaction

__all__ = ["FEATURES", "MONOTONE", "RiskFeatures", "build_features", "feature_matrix"]

# name -> monotone direction demanded by economics (+1: more never lowers risk, -1: more never
# raises it, 0: let the data decide). Order is the model's column order.
MONOTONE: dict[str, int] = {
    "days_below_zero_share": 1,
    "min_balance_months": -1,
    "months_of_cash": -1,
    "balance_volatility_months": 0,
    "inflow_hhi": 1,
    "revenue_growth_monthly": -1,
    "recent_revenue_change": -1,
    "seasonality_cv": 0,
    "late_payer_share": 1,
    "top_customer_silence": 1,
    "returned_items_per_month": 1,
    "debt_service_ratio": 1,
    "net_margin": -1,
    "business_age_months": -1,
    "log_monthly_revenue": 0,
}
FEATURES: tuple[str, ...] = tuple(MONOTONE)

# keyword fallbacks when no categories are given (lower-case substrings, searched in C)
_LOAN_WORDS = (
    " loan",
    "kredit",
    "darlehen",
    "tilgung",
    "annuit",
    "pret ",
    "prêt",
    "echeance",
    "lening",
    "aflossing",
    "mortgage",
    "loan payment",
)
_RETURNED_WORDS = (
    "rücklast",
    "rucklast",
    "returned",
    "unpaid",
    "retour",
    "rejet",
    "impay",
    "storno",
    " nsf ",
    "insufficient funds",
    "bounced",
    "sanction interest",
)
_MIN_PAYMENTS = 4  # payments from one customer before its rhythm means anything
_MIN_GAP_DAYS = 3.0  # daily card settlements are not customers with payment terms
_LATE_CV = 0.4  # gap variation above which a regular payer counts as paying late


@dataclass(frozen=True, slots=True)
class RiskFeatures:
    """One business's features (``values`` in ``FEATURES`` order) and the window they cover."""

    business_id: str
    as_of: date
    values: tuple[float, ...]
    transactions: int
    currency: str

    def as_dict(self) -> dict[str, float]:
        return dict(zip(FEATURES, self.values, strict=True))


def _month_index(d: date, start: date) -> int:
    return (d.year - start.year) * 12 + d.month - start.month


def _internal_pairs(day: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Lines that look like own-account moves: the same amount goes out and comes in ±3 days.

    A cheap stand-in for ``enrich.transfers`` when no annotations are given (a sweep to savings
    is not a cost, a card settlement is not revenue). Vectorized: one sort, two searchsorted.
    """
    key = np.abs(amount).astype(np.int64) * 100_000 + day
    out = np.zeros(amount.size, bool)
    for side, other in ((amount < 0, amount > 0), (amount > 0, amount < 0)):
        pool = np.sort(key[other])
        if pool.size == 0:
            continue
        k = key[side]
        hit = np.searchsorted(pool, k + 3, "right") > np.searchsorted(pool, k - 3, "left")
        out[np.flatnonzero(side)[hit]] = True
    return out


def _lines_matching(texts: list[str], words: Sequence[str]) -> set[int]:
    """Indexes of ``texts`` containing any of ``words`` (one C-level scan per word)."""
    blob = "\n".join(texts).lower()
    starts: list[int] = []
    pos = 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + 1
    hits: set[int] = set()
    for w in words:
        at = blob.find(w)
        while at >= 0:
            hits.add(bisect_right(starts, at) - 1)
            at = blob.find(w, at + 1)
    return hits


def _loan_lines(names: Sequence[str], descriptions: Sequence[str]) -> set[int]:
    """Lines paid to or from a lender, by keyword on the counterparty (or the text without one).

    Lender names repeat every month, so each distinct text is checked once.
    """
    keys = [n or d for n, d in zip(names, descriptions, strict=True)]
    distinct = list(set(keys))
    padded = [f" {k} " for k in distinct]
    hits = {distinct[i] for i in _lines_matching(padded, _LOAN_WORDS)}
    if not hits:
        return set()
    return {i for i, k in enumerate(keys) if k in hits}


def _rhythm(days: list[int], as_of_day: int) -> tuple[float, float]:
    """(irregularity, silence) of one regular payer: gap CV, days since last payment / median gap.

    A customer who pays on terms pays at a steady rhythm; one who pays 20–55 days late at random
    shows it as uneven gaps (coefficient of variation above ``_LATE_CV``).
    """
    gaps = np.diff(np.asarray(sorted(days), dtype=np.float64))
    gaps = gaps[gaps > 0]
    if gaps.size < _MIN_PAYMENTS - 1:
        return 0.0, 0.0
    med = float(np.median(gaps))
    if med < _MIN_GAP_DAYS:
        return 0.0, 0.0
    return float(gaps.std() / gaps.mean()), (as_of_day - max(days)) / med


def build_features(
    transactions: Sequence[Transaction],
    *,
    categories: Mapping[str, str] | None = None,
    as_of: date | None = None,
) -> RiskFeatures:
    """Features of ONE business from its history up to ``as_of`` (default: its last booking).

    Money flows are read in the business's main currency (that of the busiest account); lines in
    other currencies only count through their conversions into it.
    """
    if not transactions:
        raise ValueError("no transactions to score")
    bid = transactions[0].business_id
    txs = (
        list(transactions)
        if as_of is None
        else [t for t in transactions if t.booking_date <= as_of]
    )
    if not txs:
        raise ValueError(f"{bid}: no transactions on or before {as_of}")
    # one pass over the objects, then columns (attribute access is the cost on big ledgers)
    cols = [
        (
            t.booking_date,
            t.amount_minor,
            t.account_id,
            t.currency,
            t.balance_after_minor,
            t.counterparty_name,
            t.description,
        )
        for t in txs
    ]
    dates, amounts, accounts, currencies, balances, names, descs = (
        list(c) for c in zip(*cols, strict=True)
    )
    # the primary account is the one customers pay into (a card account only gets settlements)
    per_account = Counter(a for a, m in zip(accounts, amounts, strict=True) if m > 0) or Counter(
        accounts
    )
    primary = per_account.most_common(1)[0][0]
    currency = currencies[accounts.index(primary)]
    if any(c != currency for c in currencies):
        keep = [i for i, c in enumerate(currencies) if c == currency]
        txs = [txs[i] for i in keep]
        dates, amounts, accounts, balances, names, descs = (
            [col[i] for i in keep] for col in (dates, amounts, accounts, balances, names, descs)
        )
    n = len(txs)
    # dates, computed once per distinct day (a business books ~1-10 lines a day)
    ordinal = {d: d.toordinal() for d in set(dates)}
    start = min(ordinal)
    end = as_of or max(ordinal)
    s_ord = start.toordinal()
    month_of = {d: (d.year - start.year) * 12 + d.month - start.month for d in ordinal}
    day = np.fromiter(map(ordinal.__getitem__, dates), np.int64, n) - s_ord
    month = np.fromiter(map(month_of.__getitem__, dates), np.int64, n)
    amount = np.asarray(amounts, dtype=np.float64)
    n_days = (end - start).days + 1
    n_months = _month_index(end, start) + 1
    if categories:  # annotations present (an empty mapping means the stage has not run)
        cat = [categories.get(t.transaction_id, "") for t in txs]
        internal = np.fromiter((c.startswith("transfer.") for c in cat), bool, n)
        loan_idx = {i for i, c in enumerate(cat) if c.startswith("financing.")}
        loan_idx |= {i for i in _loan_lines(names, descs) if not cat[i]}
    else:
        internal = _internal_pairs(day, amount)
        loan_idx = _loan_lines(names, descs)
    returned = len(_lines_matching(descs, _RETURNED_WORDS))
    is_loan = np.zeros(n, bool)
    is_loan[list(loan_idx)] = True
    flow = ~internal
    inflow = flow & (amount > 0) & ~is_loan  # revenue: loan proceeds are not earned
    inflow_m = np.bincount(month[inflow], amount[inflow], minlength=n_months)[:n_months]
    outflow_m = -np.bincount(
        month[flow & (amount < 0)], amount[flow & (amount < 0)], minlength=n_months
    )[:n_months]
    debt = -float(amount[flow & (amount < 0) & is_loan].sum())
    by_customer: dict[str, list[int]] = defaultdict(list)
    customer_sum: Counter[str] = Counter()
    day_l = day.tolist()
    name_key: dict[str, str] = {}
    for i in np.flatnonzero(inflow).tolist():
        name = names[i]
        if name:
            key = name_key.get(name)
            if key is None:
                key = name_key[name] = name.strip().upper()
        else:
            key = " ".join(descs[i].upper().split()[:3])
        by_customer[key].append(day_l[i])
        customer_sum[key] += amounts[i]

    # the balance: end-of-day balance of the primary account (as reported by the bank); lines
    # keep the bank's order within a day, so the last line of a day carries its closing balance
    reported = [
        i
        for i, (a, b) in enumerate(zip(accounts, balances, strict=True))
        if b is not None and a == primary
    ]
    have_balance = bool(reported)
    if have_balance:
        rev = np.asarray(reported[::-1])
        days_seen, first = np.unique(day[rev], return_index=True)
        last = rev[first]
        bal = np.full(n_days, np.nan)
        bal[days_seen] = [balances[i] for i in last.tolist()]
        bal = bal[days_seen[0] :]
        idx = np.where(~np.isnan(bal), np.arange(bal.size), 0)
        bal = bal[np.maximum.accumulate(idx)]  # carry the last known balance forward
    else:
        bal = np.zeros(1)

    full = slice(0, n_months - 1) if n_months > 1 else slice(0, 1)  # last month may be partial
    out_month = max(float(outflow_m[full].mean()), 1.0)
    in_months = inflow_m[full]
    revenue = float(in_months.mean())
    total_in = float(inflow_m.sum())
    if in_months.size >= 3 and revenue > 0:
        x = np.arange(in_months.size, dtype=np.float64)
        growth = float(np.polyfit(x, in_months, 1)[0]) / revenue
        resid = in_months - np.polyval(np.polyfit(x, in_months, 1), x)
        seasonality = float(resid.std()) / revenue
    else:
        growth, seasonality = 0.0, 0.0
    if in_months.size >= 6 and in_months[-6:-3].sum() > 0:
        recent = float(in_months[-3:].sum() / in_months[-6:-3].sum() - 1.0)
    else:
        recent = 0.0
    shares = np.asarray(list(customer_sum.values()), dtype=np.float64)
    hhi = float(((shares / shares.sum()) ** 2).sum()) if shares.size and shares.sum() > 0 else 1.0

    as_of_day = (end - start).days
    regular = late = 0
    silence = 0.0
    top = customer_sum.most_common(1)[0][0] if customer_sum else ""
    for key, days in by_customer.items():
        if len(days) < _MIN_PAYMENTS:
            continue
        irregularity, quiet = _rhythm(days, as_of_day)
        if quiet == 0.0 and irregularity == 0.0:
            continue
        regular += 1
        late += irregularity > _LATE_CV
        if key == top:
            silence = min(quiet, 10.0)
    late_share = late / regular if regular else 0.0

    tail = bal[-90:]
    values = (
        float((bal < 0).mean()) if have_balance else 0.0,
        float(tail.min()) / out_month,
        float(bal.mean()) / out_month,
        float(bal.std()) / out_month,
        hhi,
        growth,
        recent,
        seasonality,
        late_share,
        silence,
        returned / max(n_days / 30.4375, 1.0),
        debt / total_in if total_in > 0 else 0.0,
        (total_in - float(outflow_m.sum())) / total_in if total_in > 0 else -1.0,
        float(n_days / 30.4375),
        math.log1p(max(revenue, 0.0) / 100.0),  # minor units → major, then log
    )
    return RiskFeatures(
        bid, end, tuple(float(np.clip(v, -1e6, 1e6)) for v in values), len(txs), currency
    )


def feature_matrix(rows: Sequence[RiskFeatures]) -> np.ndarray:
    """Stack features into the (n, len(FEATURES)) float64 matrix the model takes."""
    return np.asarray([r.values for r in rows], dtype=np.float64).reshape(-1, len(FEATURES))
