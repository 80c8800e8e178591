"""Risk training and test data: features per business of a written synthetic world, plus truth.

The world's files are read the way a bank would hand them over (canonical CSV through the
production parser, ``ml.synth_data``); the label is ``distress_12m`` from
``truth/businesses_truth.csv``. Every synthetic business opens its accounts on the same day, so to
see young businesses at all each one is observed over the last 6, 12 or 18 months of its
history (``history_months``, a pure function of its index): the evaluation score is taken at the
history end, where the distress truth is anchored, and the fairness report gets an age axis.

``load_world_snapshots`` gives more than that one date. A bank scores a business on any day of
the year, at any age; a model that only ever saw late-November views of 6, 12 and 18-month-old
accounts reads the seasonal position of the as-of date (revenue trend, the last quarter against
the one before, the low of the last 90 days all look different in August) and the age as risk
(risk@2026.12.1: mean probability 0.097 91 days before the history end against 0.142 at it, on
the same businesses with the same truth). Each business is seen at several as-of dates spread
over the half-year before its history end, each over a window of random length (3 months up to
all the history before that date); the label stays the business's own outcome, and every row of
one business stays in its split. ``ml.risk_drift`` measures what training on these views changes
(docs/risk.md, "Drift between two reviews"); the shipped recipe (``risk_train``) does not use
them yet, because the end-of-history AUC and Brier came out slightly worse.
"""

from __future__ import annotations

import csv
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ledgerlens.analyze.risk.features import RiskFeatures, build_features, feature_matrix

__all__ = [
    "AGE_CHOICES",
    "SNAPSHOTS",
    "RiskDataset",
    "history_start",
    "load_world_features",
    "load_world_snapshots",
    "snapshot_plan",
]

AGE_CHOICES = (6, 12, 18)
SNAPSHOTS = 6  # as-of dates per business in training: the history end and 5 earlier ones
MAX_OFFSET_DAYS = 183  # the earlier as-of dates fall within half a year before the history end
MIN_WINDOW_MONTHS = 3  # the shortest history a snapshot shows (younger accounts are rare)


@dataclass(frozen=True)
class RiskDataset:
    """Features, labels and group attributes of the businesses of one world, in file order."""

    business_ids: list[str]
    X: np.ndarray
    y: np.ndarray
    distress_score: np.ndarray
    split: list[str]
    archetype: list[str]
    country: list[str]
    history_months: list[int]
    monthly_revenue_major: np.ndarray
    offset_days: np.ndarray | None = None  # as-of date's distance before the history end

    def subset(self, mask: np.ndarray) -> RiskDataset:
        idx = np.flatnonzero(mask)
        pick = [
            list(v)
            for v in (
                self.business_ids,
                self.split,
                self.archetype,
                self.country,
                self.history_months,
            )
        ]
        b, s, a, c, h = ([v[i] for i in idx] for v in pick)
        return RiskDataset(
            b,
            self.X[idx],
            self.y[idx],
            self.distress_score[idx],
            s,
            a,
            c,
            h,
            self.monthly_revenue_major[idx],
            None if self.offset_days is None else self.offset_days[idx],
        )


def history_start(end: date, months: int) -> date:
    """First day of the month ``months - 1`` before ``end``'s month."""
    m = end.year * 12 + end.month - 1 - (months - 1)
    return date(m // 12, m % 12 + 1, 1)


def _one(args: tuple[str, str, int]) -> tuple[str, RiskFeatures]:
    from ledgerlens.ingest.formats.canonical_csv import read_canonical_transactions

    csv_path, bid, months = args
    txs = read_canonical_transactions(Path(csv_path))
    end = max(t.booking_date for t in txs)
    start = history_start(end, months)
    return bid, build_features([t for t in txs if t.booking_date >= start])


def snapshot_plan(index: int, history_days: int, n: int = SNAPSHOTS) -> list[tuple[int, int]]:
    """(days before the history end, window in months) of the ``n`` training views of business
    ``index``: the history end first, then ``n - 1`` dates drawn over ``MAX_OFFSET_DAYS``; the
    window is all the history before the date for the first view and a random length from
    ``MIN_WINDOW_MONTHS`` up to all of it for the others. A pure function of the index."""
    rng = np.random.default_rng([index, 7])
    offsets = [0, *sorted(rng.integers(1, MAX_OFFSET_DAYS + 1, size=n - 1).tolist())]
    plan = []
    for k, off in enumerate(offsets):
        available = max((history_days - off) * 12 // 365, MIN_WINDOW_MONTHS)
        months = available if k == 0 else int(rng.integers(MIN_WINDOW_MONTHS, available + 1))
        plan.append((off, months))
    return plan


def _snapshots(args: tuple[str, int]) -> list[tuple[int, int, RiskFeatures]]:
    from ledgerlens.ingest.formats.canonical_csv import read_canonical_transactions

    csv_path, index = args
    txs = read_canonical_transactions(Path(csv_path))
    first = min(t.booking_date for t in txs)
    end = max(t.booking_date for t in txs)
    out = []
    for off, months in snapshot_plan(index, (end - first).days + 1):
        cut = end - timedelta(days=off)
        start = history_start(cut, months)
        seen = [t for t in txs if start <= t.booking_date <= cut]
        if seen:
            out.append((off, months, build_features(seen)))
    return out


def load_world_snapshots(world_dir: Path, *, workers: int = 2) -> RiskDataset:
    """Training views of a written world: ``SNAPSHOTS`` as-of dates per business (see the module
    docstring), rows of one business together, ``business_ids`` repeating per row."""
    world_dir = Path(world_dir)
    with (world_dir / "truth" / "businesses_truth.csv").open(encoding="utf-8", newline="") as fh:
        truth = list(csv.DictReader(fh))
    jobs = [(str(world_dir / "csv" / f"{r['business_id']}.csv"), i) for i, r in enumerate(truth)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            views = list(pool.map(_snapshots, jobs, chunksize=8))
    else:
        views = list(map(_snapshots, jobs))
    rows = [(r, v) for r, vs in zip(truth, views, strict=True) for v in vs]
    X = feature_matrix([v[2] for _, v in rows])
    from ledgerlens.analyze.risk.features import FEATURES

    return RiskDataset(
        business_ids=[r["business_id"] for r, _ in rows],
        X=X,
        y=np.asarray([int(r["distress_12m"]) for r, _ in rows], dtype=np.int64),
        distress_score=np.asarray([float(r["distress_score"]) for r, _ in rows]),
        split=[r["split"] for r, _ in rows],
        archetype=[r["archetype"] for r, _ in rows],
        country=[r["country"] for r, _ in rows],
        history_months=[v[1] for _, v in rows],
        monthly_revenue_major=np.expm1(X[:, FEATURES.index("log_monthly_revenue")]),
        offset_days=np.asarray([v[0] for _, v in rows], dtype=np.int64),
    )


def load_world_features(world_dir: Path, *, workers: int = 2, vary_age: bool = True) -> RiskDataset:
    """Build the dataset of a written world (canonical CSV + truth), ``workers`` processes."""
    world_dir = Path(world_dir)
    with (world_dir / "truth" / "businesses_truth.csv").open(encoding="utf-8", newline="") as fh:
        truth = list(csv.DictReader(fh))
    jobs = []
    for i, row in enumerate(truth):
        months = AGE_CHOICES[(i * 7 + 3) % len(AGE_CHOICES)] if vary_age else 18
        jobs.append(
            (str(world_dir / "csv" / f"{row['business_id']}.csv"), row["business_id"], months)
        )
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            feats = dict(pool.map(_one, jobs, chunksize=8))
    else:
        feats = dict(map(_one, jobs))
    rows = [feats[r["business_id"]] for r in truth]
    X = feature_matrix(rows)
    from ledgerlens.analyze.risk.features import FEATURES

    revenue = np.expm1(X[:, FEATURES.index("log_monthly_revenue")])
    return RiskDataset(
        business_ids=[r["business_id"] for r in truth],
        X=X,
        y=np.asarray([int(r["distress_12m"]) for r in truth], dtype=np.int64),
        distress_score=np.asarray([float(r["distress_score"]) for r in truth]),
        split=[r["split"] for r in truth],
        archetype=[r["archetype"] for r in truth],
        country=[r["country"] for r in truth],
        history_months=[j[2] for j in jobs],
        monthly_revenue_major=revenue,
    )
