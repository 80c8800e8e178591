"""Order statistics kept up to date as lines arrive, for the real-time scoring context.

``ScoringContext`` (``context``) must give each new line the same robust statistics the batch
path computes over the whole history (medians and MADs of a payee's and a category's amounts,
a payee's cadence, the duplicate runs of a payee and amount), without re-sorting thousands of
values per line. These keep sorted values and answer medians and MADs by bisection in
O(log n), bit-identical to sorting (``tests/unit/analyze/test_anomalies_context_incremental``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["DupChain", "PayeeGroup", "SortedValues", "med_mad", "median_sorted", "rank_key"]

_ROW_BITS = 32  # a rank key is day << 32 | row: (day, input order) as one int


def rank_key(day: int, r: int) -> int:
    return (day << _ROW_BITS) | r


def median_sorted(v: np.ndarray) -> float:
    """The median as ``features.group_median`` computes it (same float operations)."""
    n = len(v)
    return float((v[(n - 1) // 2] + v[n // 2]) / 2.0)


def _kth_deviation(xs: np.ndarray, med: float, split: int, k: int) -> float:
    """The k-th smallest (0-based) of ``|xs - med|`` for sorted ``xs`` whose first ``split``
    values are below ``med``: those deviations fall as the index grows, the others rise, so
    this is the k-th of two sorted runs, found by bisection in O(log n) without computing
    the other deviations (each one is the same float operation ``np.abs(xs - med)`` does)."""
    n_a, n_b = split, len(xs) - split

    def a(i: int) -> float:  # i-th smallest deviation below the median
        return abs(float(xs[split - 1 - i]) - med)

    def b(j: int) -> float:  # j-th smallest deviation at or above it
        return abs(float(xs[split + j]) - med)

    lo, hi = max(0, k + 1 - n_b), min(k + 1, n_a)  # how many of the k + 1 smallest are a's
    while lo < hi:
        i = (lo + hi) // 2
        if a(i) < b(k - i):
            lo = i + 1
        else:
            hi = i
    j = k + 1 - lo
    return max(a(lo - 1) if lo > 0 else 0.0, b(j - 1) if j > 0 else 0.0)


def med_mad(xs: np.ndarray) -> tuple[float, float]:
    """(median, MAD) of sorted ``xs`` exactly as ``features.group_median`` computes them
    (the median of ``|xs - median|`` without computing and sorting every deviation)."""
    n = len(xs)
    med = median_sorted(xs)
    split = int(xs.searchsorted(med, side="left"))
    lo = _kth_deviation(xs, med, split, (n - 1) // 2)
    hi = lo if n % 2 else _kth_deviation(xs, med, split, n // 2)
    return med, float((lo + hi) / 2.0)


class SortedValues:
    """A growable sorted numpy array (insert/remove in place: a memmove, no re-sort).
    ``version`` counts changes, so statistics over it can be cached."""

    __slots__ = ("a", "n", "pending", "version")

    def __init__(self, dtype: type) -> None:
        self.a = np.zeros(0, dtype=dtype)
        self.n = 0
        self.pending: list[float] = []  # bulk load: appended unsorted, sorted by ``finalize``
        self.version = 0

    def add(self, v: float, bulk: bool = False) -> None:
        self.version += 1
        if bulk:
            self.pending.append(v)
            return
        a, n = self.a, self.n
        i = int(a[:n].searchsorted(v, side="right"))
        if n == len(a):
            b = np.zeros(max(8, 2 * n), dtype=a.dtype)
            b[:n] = a[:n]
            self.a = a = b
        a[i + 1 : n + 1] = a[i:n]
        a[i] = v
        self.n = n + 1

    def remove(self, v: float) -> None:
        a, n = self.a, self.n
        i = int(a[:n].searchsorted(v, side="left"))
        if i == n or a[i] != v:
            raise KeyError(v)
        a[i : n - 1] = a[i + 1 : n]
        self.n = n - 1
        self.version += 1

    def finalize(self) -> None:
        if self.pending:
            vals = np.concatenate([self.a[: self.n], np.asarray(self.pending, dtype=self.a.dtype)])
            vals.sort(kind="stable")
            self.a, self.n, self.pending = vals, len(vals), []

    def view(self) -> np.ndarray:
        return self.a[: self.n]


class PayeeGroup:
    """One (payee, direction, channel) group: what its members' features are read from,
    kept sorted so a new line's median, MAD, rank and cadence need no sort of the group."""

    __slots__ = ("amounts", "cached", "days", "gaps", "keys", "logs")

    def __init__(self) -> None:
        self.keys: list[int] = []  # rank keys of the members, sorted
        self.days = SortedValues(np.int64)
        self.gaps = SortedValues(np.float64)  # between consecutive days, sorted
        self.logs = SortedValues(np.float64)  # abs_log
        self.amounts: dict[int, SortedValues] = {}  # currency exponent -> |amount minor| as float
        self.cached: tuple[int, float, float, bool] | None = None  # (size, med, mad, regular)

    def stats(self) -> tuple[float, float, bool]:
        """(median, MAD of abs_log, paid on a steady cadence) as ``features`` computes them."""
        n = len(self.keys)
        if self.cached is None or self.cached[0] != n:  # groups only grow
            med, mad = med_mad(self.logs.view())
            regular = False
            if n >= 4:
                gmed, gmad = med_mad(self.gaps.view())
                regular = bool(gmad <= max(3.0, 0.15 * gmed) and gmed >= 5)
            self.cached = (n, med, mad, regular)
        return self.cached[1:]

    def add_day(self, day: int, bulk: bool) -> None:
        """A member booked on ``day``: the gap it falls in splits in two."""
        if not bulk:
            days, n = self.days.view(), self.days.n
            i = int(days.searchsorted(day, side="right"))
            if 0 < i < n:
                self.gaps.remove(float(days[i] - days[i - 1]))
            if i > 0:
                self.gaps.add(float(day - days[i - 1]))
            if i < n:
                self.gaps.add(float(days[i] - day))
        self.days.add(day, bulk)

    def finalize(self) -> None:
        self.keys.sort()
        self.days.finalize()
        self.gaps = SortedValues(np.float64)
        self.gaps.pending = np.diff(self.days.view()).astype(float).tolist()
        self.gaps.finalize()
        self.logs.finalize()
        for s in self.amounts.values():
            s.finalize()


@dataclass(slots=True)
class DupChain:
    """The lines of one (payee, amount) outflow, by (day, row), and which earlier line each
    duplicates: ``start[m]`` is the first line of the run of duplicates ending at ``m``
    (``features._duplicates``), valid for lines ordered before ``bound``; a line inserted or
    whose candidacy changes lowers ``bound``, and lookups recompute from there forward."""

    order: list[tuple[int, int]] = field(default_factory=list)
    start: dict[int, int] = field(default_factory=dict)
    bound: tuple[int, int] = (-1, -1)
    card_majors: list[float] = field(default_factory=list)  # distinct, sorted
    sig: tuple = ()  # the candidacy state ``start`` was computed under

    def invalidate_from(self, key: tuple[int, int]) -> None:
        if key < self.bound:
            self.bound = key
