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
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from ledgerlens.analyze.ledger_columns import LedgerColumns
from ledgerlens.analyze.risk.columns import (
    codes_of,
    object_array,
    primary_account,
    take,
)
from ledgerlens.analyze.risk.keywords import KeywordSet
from ledgerlens.core.ledger import Transaction

__all__ = [
    "FEATURES",
    "MONOTONE",
    "RiskFeatures",
    "build_features",
    "feature_matrix",
    "features_of_columns",
]

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

# keyword fallbacks when no categories are given (lower-case substrings; see keywords.py)
_LOAN_WORDS = KeywordSet(
    (
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
)
_RETURNED_WORDS = KeywordSet(
    (
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
)
_MIN_PAYMENTS = 4  # payments from one customer before its rhythm means anything
_MIN_GAP_DAYS = 3.0  # daily card settlements are not customers with payment terms
_LATE_CV = 0.4  # gap variation above which a regular payer counts as paying late
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()  # day 0 of numpy's datetime64


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
    is not a cost, a card settlement is not revenue). Vectorized: a sort and a searchsorted a side.
    """
    key = np.abs(amount).astype(np.int64) * 100_000 + day
    out = np.zeros(amount.size, bool)
    for side, other in ((amount < 0, amount > 0), (amount > 0, amount < 0)):
        pool = np.sort(key[other])
        if pool.size == 0:
            continue
        k = key[side]
        first = np.searchsorted(pool, k - 3, "left")  # the first candidate at or after k - 3
        hit = (first < pool.size) & (pool[np.minimum(first, pool.size - 1)] <= k + 3)
        out[np.flatnonzero(side)[hit]] = True
    return out


def _loan_lines(names: list[str], texts: list[str]) -> np.ndarray:
    """Lines paid to or from a lender, by keyword on the counterparty (or the text without one).

    Lender names repeat every month, so each distinct name is checked once; lines without a
    name are checked on their text.
    """
    distinct = list(set(names))
    lenders = [
        n
        for n, hit in zip(distinct, _LOAN_WORDS.lines_containing(distinct, pad=" "), strict=True)
        if hit and n
    ]
    if lenders:
        out = np.fromiter(map(set(lenders).__contains__, names), bool, len(names))
    else:
        out = np.zeros(len(names), bool)
    unnamed = np.flatnonzero(np.fromiter(map(operator.not_, names), bool, len(names)))
    if unnamed.size:
        out[unnamed] = _LOAN_WORDS.lines_containing(take(texts, unnamed), pad=" ")
    return out


def _customer_key(name: str, text: str) -> str:
    """Who paid: the counterparty name, or the first three words of the text without one."""
    return name.strip().upper() if name else " ".join(text.split(None, 3)[:3]).upper()


def _rhythm(customer: np.ndarray, day: np.ndarray, as_of_day: int, top: int) -> tuple[float, float]:
    """(late-payer share, silence of the top customer) over the regular payers.

    A regular payer has at least ``_MIN_PAYMENTS`` payments and a median gap of at least
    ``_MIN_GAP_DAYS``. One who pays on terms pays at a steady rhythm; one who pays 20–55 days
    late at random shows it as uneven gaps (coefficient of variation above ``_LATE_CV``). The
    silence is the days since the top customer's last payment in median gaps (at most 10).
    All customers at once: sort by (customer, day), gaps within each customer, per-customer
    moments by ``bincount`` and medians by position in the sorted gaps.
    """
    k = int(customer.max()) + 1
    many = np.bincount(customer, minlength=k) >= _MIN_PAYMENTS
    order = np.lexsort((day, customer))
    c, d = customer[order], day[order].astype(np.float64)
    last = np.zeros(k)
    ends = np.append(np.flatnonzero(c[1:] != c[:-1]), c.size - 1)
    last[c[ends]] = d[ends]  # sorted by day within a customer: its last line is its latest day
    same = c[1:] == c[:-1]
    gap, gc = np.diff(d)[same], c[1:][same]
    positive = gap > 0
    gap, gc = gap[positive], gc[positive]
    m = np.bincount(gc, minlength=k)
    enough = many & (m >= _MIN_PAYMENTS - 1)
    if not enough.any():
        return 0.0, 0.0
    srt = np.lexsort((gap, gc))
    g = gap[srt]
    first = np.concatenate(([0], np.cumsum(m)[:-1]))
    ok = np.flatnonzero(enough)
    lo, hi = first[ok] + (m[ok] - 1) // 2, first[ok] + m[ok] // 2
    median = np.zeros(k)
    median[ok] = (g[lo] + g[hi]) / 2.0
    mean = np.bincount(gc, gap, minlength=k) / np.maximum(m, 1)
    var = np.bincount(gc, (gap - mean[gc]) ** 2, minlength=k) / np.maximum(m, 1)
    rated = enough & (median >= _MIN_GAP_DAYS)
    safe = np.where(rated, median, 1.0)
    cv = np.where(rated, np.sqrt(var) / np.where(rated, mean, 1.0), 0.0)
    quiet = np.where(rated, (as_of_day - last) / safe, 0.0)
    regular = rated & ~((cv == 0.0) & (quiet == 0.0))
    n_regular = int(regular.sum())
    late = int((regular & (cv > _LATE_CV)).sum()) / n_regular if n_regular else 0.0
    silence = min(float(quiet[top]), 10.0) if regular[top] else 0.0
    return late, silence


def build_features(
    transactions: Sequence[Transaction],
    *,
    categories: Mapping[str, str] | None = None,
    as_of: date | None = None,
) -> RiskFeatures:
    """Features of ONE business from its history up to ``as_of`` (default: its last booking).

    Money flows are read in the business's main currency (that of the busiest account); lines in
    other currencies only count through their conversions into it. One pass reads the objects
    into columns; the rest runs on arrays (``features_of_columns``).
    """
    if not transactions:
        raise ValueError("no transactions to score")
    lines = LedgerColumns.of(transactions, with_ids=bool(categories))
    return features_of_columns(lines, categories=categories, as_of=as_of)


def features_of_columns(
    lines: LedgerColumns,
    *,
    categories: Mapping[str, str] | None = None,
    as_of: date | None = None,
) -> RiskFeatures:
    """``build_features`` on a business's lines already read into columns (the caller holds
    them for other analyses too): the same numbers, without the ~1 ms object pass."""
    bid = lines.business_id
    if not len(lines):
        raise ValueError("no transactions to score")
    if categories and not lines.tid:
        raise ValueError("categories need the columns' transaction ids (with_ids=True)")
    if as_of is not None:
        keep = lines.ordinal <= as_of.toordinal()
        if not keep.any():
            raise ValueError(f"{bid}: no transactions on or before {as_of}")
        if not keep.all():
            lines = lines.take(keep)
    primary, currency = primary_account(lines)
    if len(set(lines.currency)) > 1:
        same = object_array(lines.currency) == currency
        lines, primary = lines.take(same), primary[same]
    n = lines.amount.size
    s_ord, e_ord = int(lines.ordinal.min()), int(lines.ordinal.max())
    start = date.fromordinal(s_ord)
    end = as_of or date.fromordinal(e_ord)
    day = lines.ordinal - s_ord
    n_days = (end - start).days + 1
    n_months = _month_index(end, start) + 1
    # month of each day of the window (a few hundred days), then looked up per line
    epoch = np.int64(s_ord - _EPOCH_ORDINAL)
    span = (np.arange(e_ord - s_ord + 1, dtype=np.int64) + epoch).astype("datetime64[D]")
    span_month = span.astype("datetime64[M]").astype(np.int64)
    month = (span_month - span_month[0])[day]
    amount = lines.amount.astype(np.float64)
    if categories:  # annotations present (an empty mapping means the stage has not run)
        cat_codes, cats = codes_of([categories.get(t, "") for t in lines.tid])
        internal = np.asarray([c.startswith("transfer.") for c in cats], bool)[cat_codes]
        financing = np.asarray([c.startswith("financing.") for c in cats], bool)[cat_codes]
        is_loan = financing | (_loan_lines(lines.name, lines.text) & (cat_codes == _index(cats)))
    else:
        internal = _internal_pairs(day, lines.amount)
        is_loan = _loan_lines(lines.name, lines.text)
    returned = int(_RETURNED_WORDS.lines_containing(lines.text).sum())
    flow = ~internal
    out = flow & (amount < 0)
    inflow = flow & (amount > 0) & ~is_loan  # revenue: loan proceeds are not earned
    inflow_m = np.bincount(month[inflow], amount[inflow], minlength=n_months)[:n_months]
    outflow_m = -np.bincount(month[out], amount[out], minlength=n_months)[:n_months]
    debt = -float(amount[out & is_loan].sum())

    # customers: who paid each revenue line, as codes in order of first payment
    paid = np.flatnonzero(inflow)
    payers = take(lines.name, paid)
    keys = {name: _customer_key(name, "") for name in set(payers) if name}
    keys[""] = ""
    payer_keys = [keys[name] for name in payers]
    anonymous = [i for i, name in enumerate(payers) if not name]
    for i, text in zip(anonymous, take(lines.text, paid[anonymous]), strict=True):
        payer_keys[i] = _customer_key("", text)  # no name: the text's first words say who
    customer, _ = codes_of(payer_keys)
    shares = np.bincount(customer, amount[paid]) if paid.size else np.zeros(0)
    hhi = float(((shares / shares.sum()) ** 2).sum()) if shares.size and shares.sum() > 0 else 1.0
    as_of_day = (end - start).days
    if paid.size:
        late_share, silence = _rhythm(customer, day[paid], as_of_day, int(np.argmax(shares)))
    else:
        late_share, silence = 0.0, 0.0

    # the balance: end-of-day balance of the primary account (as reported by the bank); lines
    # keep the bank's order within a day, so the last line of a day carries its closing balance
    reported = np.flatnonzero(primary & ~np.isnan(lines.balance))
    have_balance = bool(reported.size)
    if have_balance:
        closing = np.full(n_days, -1)
        np.maximum.at(closing, day[reported], reported)  # the day's last reported line
        days_seen = np.flatnonzero(closing >= 0)
        bal = np.full(n_days, np.nan)
        bal[days_seen] = lines.balance[closing[days_seen]]
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
        slope, intercept = _line_fit(x, in_months)
        growth = slope / revenue
        seasonality = float((in_months - (slope * x + intercept)).std()) / revenue
    else:
        growth, seasonality = 0.0, 0.0
    if in_months.size >= 6 and in_months[-6:-3].sum() > 0:
        recent = float(in_months[-3:].sum() / in_months[-6:-3].sum() - 1.0)
    else:
        recent = 0.0

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
    clipped = tuple(min(max(float(v), -1e6), 1e6) for v in values)  # np.clip: 5 µs a call
    return RiskFeatures(bid, end, clipped, n, currency)


def _index(values: list[str], value: str = "") -> int:
    """Code of ``value`` among ``values`` (-1 when absent, which no code equals)."""
    return values.index(value) if value in values else -1


def _line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept (what ``np.polyfit(x, y, 1)`` returns, without its
    SVD and warnings machinery: ~20 µs a call on a scoring path of a few hundred)."""
    xm, ym = float(x.mean()), float(y.mean())
    dx = x - xm
    slope = float((dx * (y - ym)).sum() / (dx * dx).sum())
    return slope, ym - slope * xm


def feature_matrix(rows: Sequence[RiskFeatures]) -> np.ndarray:
    """Stack features into the (n, len(FEATURES)) float64 matrix the model takes."""
    return np.asarray([r.values for r in rows], dtype=np.float64).reshape(-1, len(FEATURES))
