"""Per-business engineered features: what "unusual for this business" is measured against.

A grocery bill is large or small only next to this business's other grocery bills, so every
feature here is relative to the business's own history, computed over one business's
transactions at a time (never pooled across tenants):

* **payee history** — a canonical payee key (``enrich.counterparties``), how many earlier lines
  went to that payee, and the robust z-score of this amount against the payee's median and MAD
  of log amounts (a spike stays visible because median and MAD ignore it);
* **category history** — the same robust z against the category (enrichment's, or the MCC's);
* **scale** — the amount as a share of a typical month's outflows and as a rank among outflows;
* **time and place** — weekday of the sale, hour when the bank prints it (German and Dutch card
  lines do), the place printed on a card line and whether this card was ever used there;
* **card-testing bursts** — several tiny charges on one card at one merchant on one day;
* **duplicates** — the same payee, amount and reference text within a few days;
* **internal legs** — a line mirrored by an equal and opposite one on another own account.

Columns are numpy arrays in input order so rules and the model vectorize; the payee key and
place are kept only as integer codes plus a small vocabulary, never logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ledgerlens.analyze.anomalies.columns import STATUTORY_PREFIXES, Columns, read_columns
from ledgerlens.core.ledger import Transaction

__all__ = [
    "DEFAULT_CONFIG",
    "MODEL_FEATURES",
    "AnomalyConfig",
    "AnomalyFeatures",
    "build_features",
    "features_from_columns",
    "group_median",
    "is_night",
    "model_matrix",
]

_MAD_TO_SIGMA = 1.4826
_MON = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
# booking dates and times printed in the text: a re-sent payment differs only in these
_DATE_TIME = re.compile(
    rf"\b\d{{1,2}}(?:{_MON})\d{{2,4}}\b|\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class AnomalyConfig:
    """Thresholds of the features and rules; the defaults are the documented, evaluated ones."""

    warmup_days: int = 30  # before this, every payee is "new": we cannot know better
    duplicate_window_days: int = 5  # calendar days: 0–2 banking days across a weekend
    small_charge_major: float = 5.0  # a card-testing charge is at most this (major units)
    burst_min_charges: int = 4
    min_log_spread: float = 0.15  # floor of the robust sigma in log space (≈ ±15 %)
    spike_min_ratio: float = 2.5
    spike_min_z: float = 3.0
    spike_min_history: int = 4
    spike_max_spread: float = 0.4  # only payees whose amounts are usually stable can "spike"
    spike_min_excess_major: float = 20.0  # a 3× bank fee of 1.60 is not worth an alert
    spike_min_excess_share: float = 0.0005  # … nor is anything under 0.05 % of a month
    new_payee_min_share: float = 0.1  # of a typical month's outflows
    new_payee_min_rank: float = 0.97  # among this business's outflows
    place_min_history: int = 10


DEFAULT_CONFIG = AnomalyConfig()


@dataclass(frozen=True, slots=True)
class AnomalyFeatures:
    """Engineered columns of one business's transactions (arrays in input order)."""

    transaction_ids: tuple[str, ...]
    currency: tuple[str, ...]
    amount_minor: np.ndarray  # int64, signed
    exponent: np.ndarray  # int8, minor digits of each line's currency
    out: np.ndarray  # bool, money out
    abs_log: np.ndarray  # log1p(|amount| in major units)
    day: np.ndarray  # int64 ordinal of the sale (value date for cards, else booking date)
    weekday: np.ndarray  # int8, Monday = 0
    hour: np.ndarray  # int8, -1 when the bank printed no time
    age_days: np.ndarray  # days since the first line of this business
    is_card: np.ndarray  # bool
    internal: np.ndarray  # bool, one leg of a move between own accounts
    statutory: np.ndarray  # bool, taxes and financing (by category): they vary by law, not habit
    mcc: np.ndarray  # int16, -1 when absent
    payee: np.ndarray  # int32 code into ``payee_keys``
    payee_keys: tuple[str, ...]
    payee_prior: np.ndarray  # earlier lines to the same payee in the same direction
    payee_count: np.ndarray  # all lines to the same payee in the same direction
    payee_median_minor: np.ndarray  # float, the payee's typical amount (major·10^exp)
    payee_high: np.ndarray  # lines of this payee at ≥ spike_min_ratio × its median
    payee_spread: np.ndarray  # robust sigma of the payee's log amounts (0.1 ≈ ±10 %)
    payee_regular: np.ndarray  # bool: the payee is paid on a steady cadence (a recurring bill)
    payee_z: np.ndarray  # robust z of abs_log against the payee's lines
    category: tuple[str, ...]  # per line; "" when unknown
    category_z: np.ndarray
    month_share: np.ndarray  # |amount| / median monthly outflow
    out_rank: np.ndarray  # rank of |amount| among outflows, 0..1 (0 for inflows)
    card: np.ndarray  # int32 code, -1 when no card
    card_ids: tuple[str, ...]
    employee: np.ndarray  # int32 code, -1 when none
    employee_ids: tuple[str, ...]
    place: np.ndarray  # int32 code, -1 when unknown
    new_place: np.ndarray  # bool: a card used for the first time at this place
    burst_size: np.ndarray  # int32: small charges in this line's (card, day, payee) group
    burst_first: np.ndarray  # int32: index of the first line of that burst, -1 if none
    duplicate_of: np.ndarray  # int32: index of the earlier identical payment, -1 if none
    mcc_prior: np.ndarray  # earlier lines of this business with the same MCC (any card)
    card_known_hours: np.ndarray  # lines of this line's card with a printed hour
    card_night_uses: np.ndarray  # … of which at night (22:00–05:59)

    @property
    def n(self) -> int:
        return len(self.transaction_ids)


def group_median(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row, the median of ``values`` over the rows sharing its code (vectorized)."""
    if len(values) == 0:
        return np.zeros(0)
    order = np.lexsort((values, codes))
    c, v = codes[order], values[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    lens = np.diff(np.r_[starts, len(c)])
    med = (v[starts + (lens - 1) // 2] + v[starts + lens // 2]) / 2.0
    out = np.empty(len(values))
    out[order] = np.repeat(med, lens)
    return out


def _rank_in_group(codes: np.ndarray, day: np.ndarray) -> np.ndarray:
    """How many rows of the same code come earlier (by day, then input order)."""
    n = len(codes)
    order = np.lexsort((np.arange(n), day, codes))
    c = codes[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    lens = np.diff(np.r_[starts, n])
    pos = np.arange(n) - np.repeat(starts, lens)
    out = np.empty(n, dtype=np.int64)
    out[order] = pos
    out_count = np.empty(n, dtype=np.int64)
    out_count[order] = np.repeat(lens, lens)
    return np.stack([out, out_count])


def _regular(codes: np.ndarray, day: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Rows whose group is paid on a steady cadence: gaps vary by ≤ 3 days or 15 %."""
    n = len(codes)
    if n < 2:
        return np.zeros(n, dtype=bool)
    order = np.lexsort((day, codes))
    c, d = codes[order], day[order]
    gap = np.diff(d).astype(float)
    same = c[1:] == c[:-1]
    g_codes, g_gap = c[1:][same], gap[same]
    if len(g_gap) == 0:
        return np.zeros(n, dtype=bool)
    med = group_median(g_codes, g_gap)
    mad = group_median(g_codes, np.abs(g_gap - med))
    steady_codes = np.unique(g_codes[(mad <= np.maximum(3.0, 0.15 * med)) & (med >= 5)])
    return np.isin(codes, steady_codes) & (count >= 4)


def _robust_z(codes: np.ndarray, x: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    med = group_median(codes, x)
    mad = group_median(codes, np.abs(x - med))
    return (x - med) / np.maximum(_MAD_TO_SIGMA * mad, floor), med


def _internal_legs(amount: np.ndarray, day: np.ndarray, account: np.ndarray) -> np.ndarray:
    """Lines mirrored by an equal, opposite amount on another own account within 4 days."""
    n = len(amount)
    internal = np.zeros(n, dtype=bool)
    if n == 0 or len(np.unique(account)) < 2:
        return internal
    by_amount: dict[int, list[int]] = {}
    for i in np.flatnonzero(amount > 0).tolist():
        by_amount.setdefault(int(amount[i]), []).append(i)
    for i in np.flatnonzero(amount < 0).tolist():
        for j in by_amount.get(-int(amount[i]), ()):
            if account[j] != account[i] and abs(int(day[j]) - int(day[i])) <= 4:
                internal[i] = internal[j] = True
                break
    return internal


def _bursts(f_card: np.ndarray, small: np.ndarray, day: np.ndarray, payee: np.ndarray,
            min_charges: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    n = len(day)
    size = np.zeros(n, dtype=np.int32)
    first = np.full(n, -1, dtype=np.int32)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i in np.flatnonzero(small & (f_card >= 0)).tolist():
        groups.setdefault((int(f_card[i]), int(day[i]), int(payee[i])), []).append(i)
    for members in groups.values():
        size[members] = len(members)
        if len(members) >= min_charges:
            first[members] = members[0]
    return size, first


def _reference(description: str) -> str:
    """The description without printed dates and times; invoice numbers are kept."""
    return " ".join(_DATE_TIME.sub(" ", description).split())


def _duplicates(tx: Sequence[Transaction], out: np.ndarray, payee: np.ndarray,
                amount: np.ndarray, day: np.ndarray, window: int) -> np.ndarray:  # fmt: skip
    """Index of an earlier line with the same payee, amount and reference text (else -1)."""
    n = len(tx)
    dup = np.full(n, -1, dtype=np.int32)
    idx = np.flatnonzero(out)
    if len(idx) < 2:
        return dup
    order = idx[np.lexsort((idx, day[idx], amount[idx], payee[idx]))]
    same = (payee[order[1:]] == payee[order[:-1]]) & (amount[order[1:]] == amount[order[:-1]])
    close = (day[order[1:]] - day[order[:-1]]) <= window
    for k in np.flatnonzero(same & close).tolist():
        a, b = int(order[k]), int(order[k + 1])
        if _reference(tx[a].description) == _reference(tx[b].description):
            dup[b] = a if dup[a] < 0 else dup[a]
    return dup


def is_night(hour: np.ndarray) -> np.ndarray:
    """A printed hour between 22:00 and 05:59."""
    return (hour >= 0) & ((hour >= 22) | (hour < 6))


def _card_hours(card: np.ndarray, hour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per line, its card's lines with a printed hour, and those of them at night."""
    code = card.astype(np.int64) + 1  # -1 (no card) is a group of its own
    known = hour >= 0
    size = int(code.max()) + 1 if len(code) else 0
    k = np.bincount(code[known], minlength=size)
    night = np.bincount(code[is_night(hour)], minlength=size)
    return k[code].astype(np.int64), night[code].astype(np.int64)


def build_features(
    transactions: Sequence[Transaction],
    categories: Mapping[str, str] | None = None,
    config: AnomalyConfig | None = None,
) -> AnomalyFeatures:
    """Engineered columns for ONE business's lines (pure; categories optional, else MCC's)."""
    txs = list(transactions)
    cats = categories or {}
    return features_from_columns(txs, read_columns(txs, cats), bool(cats), config)


def features_from_columns(
    txs: Sequence[Transaction], cols: Columns, has_categories: bool,
    config: AnomalyConfig | None = None,
) -> AnomalyFeatures:  # fmt: skip
    """``build_features`` over columns already read (the scoring context keeps them)."""
    config = config or DEFAULT_CONFIG
    n = len(txs)
    amount, exponent, day, hour, mcc = cols.amount, cols.exponent, cols.day, cols.hour, cols.mcc
    payee, card, emp, place, account = cols.payee, cols.card, cols.emp, cols.place, cols.account
    category, payees, cards, emps, places = (
        cols.category,
        cols.payees,
        cols.cards,
        cols.emps,
        cols.places,
    )
    out = amount < 0
    major = np.abs(amount) / np.power(10.0, exponent)
    abs_log = np.log1p(major)
    weekday = ((day + 6) % 7).astype(np.int8)
    first_day = int(day.min()) if n else 0
    internal = _internal_legs(amount, day, account)
    if has_categories:
        internal |= np.fromiter((c.startswith("transfer.") for c in category), bool, count=n)

    # payee history, per direction and channel (a refund from a supplier is not a payment to
    # it; stamps bought by card at the post office are not the carrier's monthly invoice)
    pd_code = payee.astype(np.int64) * 4 + out * 2 + (card >= 0)
    prior, count = _rank_in_group(pd_code, day) if n else (np.zeros(0, np.int64),) * 2
    payee_z, med_log = _robust_z(pd_code, abs_log, config.min_log_spread)
    payee_spread = np.abs(abs_log - med_log) / np.maximum(np.abs(payee_z), 1e-9)
    payee_spread = np.where(np.abs(payee_z) > 1e-9, payee_spread, config.min_log_spread)
    payee_median_minor = np.expm1(med_log) * np.power(10.0, exponent)
    high = (np.abs(amount) >= config.spike_min_ratio * payee_median_minor).astype(np.int64)
    payee_high = np.zeros(n, dtype=np.int64)
    if n:
        uniq, inverse = np.unique(pd_code, return_inverse=True)
        payee_high = np.bincount(inverse, weights=high, minlength=len(uniq))[inverse].astype(
            np.int64
        )

    cat_codes: dict[str, int] = {}
    cat_code = np.fromiter((cat_codes.setdefault(c, len(cat_codes)) * 2 for c in category),
                           np.int64, count=n) + out  # fmt: skip
    category_z, _ = _robust_z(cat_code, abs_log, config.min_log_spread)
    category_z[np.fromiter((not c for c in category), bool, count=n)] = 0.0

    # scale: a typical month's outflows (own-account moves excluded)
    month = (day - first_day) // 30
    real_out = out & ~internal
    month_share = np.zeros(n)
    out_rank = np.zeros(n)
    if real_out.any():
        totals = np.bincount(month[real_out], weights=major[real_out])
        typical = float(np.median(totals[totals > 0])) if (totals > 0).any() else 1.0
        month_share = major / max(typical, 1e-9)
        vals = major[real_out]
        ranks = np.searchsorted(np.sort(vals), major, side="right") / len(vals)
        out_rank = np.where(real_out, ranks, 0.0)

    small = out & (major <= config.small_charge_major)
    burst_size, burst_first = _bursts(card, small, day, payee, config.burst_min_charges)
    cash = np.isin(mcc, (6010, 6011))
    material = (card < 0) | (month_share >= 0.005)  # equal-priced stamps are not duplicates
    duplicate_of = _duplicates(txs, out & ~internal & ~cash & material, payee, amount, day,
                               config.duplicate_window_days)  # fmt: skip
    new_place = np.zeros(n, dtype=bool)
    has_place = place >= 0
    if has_place.any():
        card_rank = _rank_in_group(np.where(card >= 0, card, -1).astype(np.int64), day)[0]
        cp = card.astype(np.int64) * (len(places) + 1) + place
        first_at_place = _rank_in_group(cp, day)[0] == 0
        new_place = has_place & first_at_place & (card_rank >= config.place_min_history)
    mcc_prior = _rank_in_group(mcc.astype(np.int64), day)[0] if n else np.zeros(0, np.int64)
    card_known_hours, card_night_uses = _card_hours(card, hour)
    return AnomalyFeatures(
        transaction_ids=tuple(t.transaction_id for t in txs),
        currency=tuple(t.currency for t in txs),
        amount_minor=amount,
        exponent=exponent,
        out=out,
        abs_log=abs_log,
        day=day,
        weekday=weekday,
        hour=hour,
        age_days=day - first_day,
        is_card=card >= 0,
        internal=internal,
        statutory=np.fromiter((c.startswith(STATUTORY_PREFIXES) for c in category), bool, count=n),
        mcc=mcc,
        payee=payee,
        payee_keys=tuple(payees),
        payee_prior=prior,
        payee_count=count,
        payee_median_minor=payee_median_minor,
        payee_high=payee_high,
        payee_spread=payee_spread,
        payee_regular=_regular(pd_code, day, count),
        payee_z=payee_z,
        category=tuple(category),
        category_z=category_z,
        month_share=month_share,
        out_rank=out_rank,
        card=card,
        card_ids=tuple(cards),
        employee=emp,
        employee_ids=tuple(emps),
        place=place,
        new_place=new_place,
        burst_size=burst_size,
        burst_first=burst_first,
        duplicate_of=duplicate_of,
        mcc_prior=mcc_prior,
        card_known_hours=card_known_hours,
        card_night_uses=card_night_uses,
    )


def model_matrix(f: AnomalyFeatures) -> np.ndarray:
    """The model's inputs: scale-free columns, so one business is comparable with itself."""
    return np.column_stack(
        [
            f.abs_log,
            np.clip(f.payee_z, -10, 10),
            np.clip(f.category_z, -10, 10),
            np.log1p(f.payee_prior),
            np.log1p(f.month_share * 10),
            f.out_rank,
            (f.weekday >= 5).astype(float),
            np.where(f.hour >= 0, np.abs(f.hour.astype(float) - 13.0), 0.0),
            np.log1p(f.burst_size),
            f.new_place.astype(float),
            np.log1p(f.mcc_prior) * (f.mcc >= 0),
        ]
    )


MODEL_FEATURES: tuple[str, ...] = (
    "log_amount",
    "payee_robust_z",
    "category_robust_z",
    "log_payee_history",
    "log_month_share",
    "outflow_rank",
    "weekend",
    "hours_from_midday",
    "log_burst_size",
    "new_place_for_card",
    "log_mcc_history",
)
