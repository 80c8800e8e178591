"""Risk training and test data: features per business of a written synthetic world, plus truth.

The world's files are read the way a bank would hand them over (canonical CSV through the
production parser, ``ml.synth_data``); the label is ``distress_12m`` from
``truth/businesses_truth.csv``. Every synthetic business opens its accounts on the same day, so to
see young businesses at all each one is observed over the last 6, 12 or 18 months of its
history (``history_months``, a pure function of its index): the score is always taken at the
history end, where the distress truth is anchored, and the fairness report gets an age axis.
"""

from __future__ import annotations

import csv
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from ledgerlens.analyze.risk.features import RiskFeatures, build_features, feature_matrix

__all__ = ["AGE_CHOICES", "RiskDataset", "history_start", "load_world_features"]

AGE_CHOICES = (6, 12, 18)


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
        )


def history_start(end: date, months: int) -> date:
    """First day of the month ``months - 1`` before ``end``'s month."""
    m = end.year * 12 + end.month - 1 - (months - 1)
    return date(m // 12, m % 12 + 1, 1)


def _one(args: tuple[str, str, int]) -> tuple[str, RiskFeatures]:
    from ledgerlens.ml.synth_data import _read_transactions

    csv_path, bid, months = args
    txs = _read_transactions(Path(csv_path))
    end = max(t.booking_date for t in txs)
    start = history_start(end, months)
    return bid, build_features([t for t in txs if t.booking_date >= start])


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
