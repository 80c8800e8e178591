"""The vectorized ``build_features`` equals the per-line implementation it replaced.

The shipped model (``risk@2026.12.1``) was trained on features from the loop-over-objects code
kept below verbatim as ``reference_features``; the numpy rewrite (issue #7, p99 ≤ 5 ms) must give
the same numbers, or the model would need retraining. Checked on a small synthetic world read
back from its canonical CSV files (with and without categories, cut at past dates, shuffled
order, six-month windows) and on hand-built ledgers with the awkward cases: several accounts
tied for primary, foreign-currency lines, no bank balances, keywords in upper-case umlauts,
empty counterparty names.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from ledgerlens.analyze.risk.features import FEATURES, build_features
from ledgerlens.core.ledger import Transaction
from ledgerlens.ml.synth_data import BusinessData, iter_business_data, write_synthetic_world

from .risk_builders import Ledger, steady_business

TOLERANCE = 1e-9  # relative (absolute below 1): float sums in another order, nothing more

# ---- the reference: features.py before vectorization (commit 229f5ad), unchanged -------------

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


def reference_features(
    transactions: Sequence[Transaction],
    *,
    categories: Mapping[str, str] | None = None,
    as_of: date | None = None,
) -> tuple[str, date, tuple[float, ...], int, str]:
    """The features as computed before vectorization (the reference, verbatim)."""
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
    return bid, end, tuple(float(np.clip(v, -1e6, 1e6)) for v in values), len(txs), currency


# ---- the comparison -------------------------------------------------------------------------


def assert_same(txs: Sequence[Transaction], **kw: object) -> None:
    bid, end, ref, lines, currency = reference_features(txs, **kw)  # type: ignore[arg-type]
    got = build_features(txs, **kw)  # type: ignore[arg-type]
    assert (got.business_id, got.as_of, got.transactions, got.currency) == (
        bid,
        end,
        lines,
        currency,
    )
    for name, a, b in zip(FEATURES, got.values, ref, strict=True):
        assert a == pytest.approx(b, rel=TOLERANCE, abs=TOLERANCE), name


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> list[BusinessData]:
    folder = write_synthetic_world(10, 12, 5151, tmp_path_factory.mktemp("risk_ref"), workers=1)
    return list(iter_business_data(Path(folder)))


def test_same_features_on_a_synthetic_world(world: list[BusinessData]) -> None:
    rng = random.Random(5151)
    for b in world:
        txs = list(b.transactions)
        last = max(t.booking_date for t in txs)
        assert_same(txs)
        assert_same(txs, categories=dict(b.truth.category))
        for days in (45, 200):
            assert_same(txs, as_of=last - timedelta(days=days))
        assert_same([t for t in txs if t.booking_date >= last - timedelta(days=182)])
        rng.shuffle(txs)  # the bank's order within a day carries the closing balance
        assert_same(txs)


def test_same_features_on_awkward_ledgers() -> None:
    # two accounts with equal inflow counts: the tie goes to the one seen first
    led = steady_business(months=8)
    led.add(5, 40_000, account="acc2", name="CUSTOMER 0")
    assert_same(led.lines)
    # foreign-currency lines on the same business are left out, not mixed in
    usd = [
        replace(t, transaction_id=f"usd{i}", currency="USD", account_id="acc3")
        for i, t in enumerate(led.lines[:20])
    ]
    assert_same([*led.lines, *usd])
    # no balances from the bank, no counterparty names, keywords in capitals and umlauts
    bare = Ledger()
    for m in range(10):
        bare.add(m * 30 + 1, 300_000, text=f"GUTSCHRIFT KUNDE {m % 3} RE {m}")
        bare.add(m * 30 + 9, -80_000, text="TILGUNG DARLEHEN 4711")
        bare.add(m * 30 + 12, 20_000, text="RÜCKLASTSCHRIFT LASTSCHRIFT")
        bare.add(m * 30 + 20, -150_000, name="  Landlord Ltd ", text="Miete")
    assert_same([replace(t, balance_after_minor=None) for t in bare.lines])
    assert_same(bare.lines, categories={bare.lines[1].transaction_id: "financing.loan_repayment"})
    # one line only, and a date after the last line
    assert_same(bare.lines[:1])
    assert_same(bare.lines, as_of=date(2027, 3, 1))
