"""How far the risk model's probability moves between two reviews of the same business.

The fairness report reviews each card limit twice, ``REVIEW_GAP_DAYS`` apart; the synthetic truth
(distress within 12 months of the history end) is one fixed draw per business, so every move of
the probability between the two dates is either information arriving (a gap building up shows
in the last months' balances) or the model reading the as-of date itself (season, age) as risk.
This module measures the move on a written world, exactly as ``fairness_decisions`` sees the
business (its 6, 12 or 18-month window, cut ``REVIEW_GAP_DAYS`` earlier for the first review):

- ``review_pairs``: the feature rows at both dates;
- ``drift_metrics``: mean probability at both dates against the base rate, mean |Δp|, the share
  of band changes (and worsenings), AUC / Brier / ECE at both dates, the AUC of Δp itself (how
  much of the move is information: 0.5 = none) and each feature's share of the mean log-odds
  shift (the end value swapped in alone);
- ``fit_snapshot_candidate``: the shipped recipe plus ``risk_data.load_world_snapshots`` rows
  (several as-of dates per business), to measure what training across the year changes.

``python -m ledgerlens.ml.risk_drift --world DIR [--train-world DIR]`` prints the figures as JSON
(docs/risk.md quotes them).
"""

from __future__ import annotations

import argparse
import csv
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ledgerlens.analyze.risk.features import FEATURES, build_features
from ledgerlens.analyze.risk.model import RiskModel, band_of
from ledgerlens.ml.fairness_decisions import REVIEW_GAP_DAYS
from ledgerlens.ml.risk_data import AGE_CHOICES, history_start
from ledgerlens.ml.risk_metrics import auc, probability_metrics

__all__ = ["ReviewPairs", "drift_metrics", "fit_snapshot_candidate", "review_pairs"]


@dataclass(frozen=True)
class ReviewPairs:
    """Feature rows of each business at the first review (``X_before``) and at the history end."""

    X_before: np.ndarray
    X_end: np.ndarray
    y: np.ndarray
    history_months: np.ndarray


def _pair(args: tuple[str, int, int]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    from ledgerlens.ingest.formats.canonical_csv import read_canonical_transactions

    path, months, gap_days = args
    txs = read_canonical_transactions(Path(path))
    end = max(t.booking_date for t in txs)
    txs = [t for t in txs if t.booking_date >= history_start(end, months)]
    earlier = end - timedelta(days=gap_days)
    before = [t for t in txs if t.booking_date <= earlier] or txs[:1]  # as fairness_decisions
    return build_features(before).values, build_features(txs).values


def review_pairs(
    world_dir: Path, *, gap_days: int = REVIEW_GAP_DAYS, workers: int = 2
) -> ReviewPairs:
    """Both reviews' feature rows of every business of a written world (file order)."""
    world_dir = Path(world_dir)
    with (world_dir / "truth" / "businesses_truth.csv").open(encoding="utf-8", newline="") as fh:
        truth = list(csv.DictReader(fh))
    jobs = [
        (
            str(world_dir / "csv" / f"{r['business_id']}.csv"),
            AGE_CHOICES[(i * 7 + 3) % len(AGE_CHOICES)],  # the window risk_data gives it
            gap_days,
        )
        for i, r in enumerate(truth)
    ]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_pair, jobs, chunksize=8))
    else:
        rows = list(map(_pair, jobs))
    return ReviewPairs(
        np.asarray([r[0] for r in rows], dtype=np.float64),
        np.asarray([r[1] for r in rows], dtype=np.float64),
        np.asarray([int(r["distress_12m"]) for r in truth], dtype=np.int64),
        np.asarray([j[1] for j in jobs]),
    )


def drift_metrics(model: RiskModel, pairs: ReviewPairs) -> dict[str, Any]:
    """See the module docstring."""
    p0 = model.predict_proba(pairs.X_before)[:, 1]
    p1 = model.predict_proba(pairs.X_end)[:, 1]
    b0 = np.asarray([band_of(v) for v in p0])
    b1 = np.asarray([band_of(v) for v in p1])
    raw0 = model.decision_function(pairs.X_before)
    shift = {}
    for j, name in enumerate(FEATURES):
        X = pairs.X_before.copy()
        X[:, j] = pairs.X_end[:, j]
        shift[name] = round(float(np.mean(model.decision_function(X) - raw0)), 4)
    by_window = {}
    for months in sorted(set(pairs.history_months.tolist())):
        k = pairs.history_months == months
        by_window[f"{months} months"] = {
            "mean_probability_before": round(float(p0[k].mean()), 4),
            "mean_probability_end": round(float(p1[k].mean()), 4),
            "mean_abs_change": round(float(np.abs(p1 - p0)[k].mean()), 4),
        }
    return {
        "businesses": len(pairs.y),
        "base_rate": round(float(pairs.y.mean()), 4),
        "mean_probability_before": round(float(p0.mean()), 4),
        "mean_probability_end": round(float(p1.mean()), 4),
        "mean_abs_change": round(float(np.abs(p1 - p0).mean()), 4),
        "median_abs_change": round(float(np.median(np.abs(p1 - p0))), 4),
        "band_changed_share": round(float(np.mean(b0 != b1)), 4),
        "band_worse_share": round(float(np.mean(b1 > b0)), 4),
        "distress_rate_if_band_worse": round(float(pairs.y[b1 > b0].mean()), 4)
        if (b1 > b0).any()
        else None,
        "distress_rate_otherwise": round(float(pairs.y[~(b1 > b0)].mean()), 4),
        "auc_of_change": round(auc(pairs.y, p1 - p0), 4),
        "before": probability_metrics(pairs.y, p0),
        "end": probability_metrics(pairs.y, p1),
        "by_window": by_window,
        "log_odds_shift": round(float(np.mean(model.decision_function(pairs.X_end) - raw0)), 4),
        "log_odds_shift_by_feature": shift,
    }


def fit_snapshot_candidate(train_world: Path, *, workers: int = 2) -> RiskModel:
    """``risk_train.fit_on_world`` with the snapshots: the shipped recipe's rows (full history
    and a 6/12/18-month window at the history end) plus ``SNAPSHOTS`` - 1 earlier as-of dates
    per train business; calibrated on the validation split's rows of both kinds."""
    from ledgerlens.ml.risk_data import load_world_features, load_world_snapshots
    from ledgerlens.ml.risk_train import fit_on_world

    snaps = load_world_snapshots(train_world, workers=workers)
    assert snaps.offset_days is not None
    full = snaps.subset(snaps.offset_days == 0)  # the first view: all history at its end
    windowed = load_world_features(train_world, workers=workers, vary_age=True)
    model, _ = fit_on_world(full, windowed, snapshots=snaps)
    return model


def main(argv: list[str] | None = None) -> None:
    from ledgerlens.adapters.risk_store import load_risk_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path, required=True, help="a written (test) world")
    ap.add_argument("--train-world", type=Path, help="also fit and measure the snapshot model")
    ap.add_argument("--version", help="stored risk model version (default: the newest)")
    args = ap.parse_args(argv)
    model, version = load_risk_model(None, args.version)
    pairs = review_pairs(args.world)
    out: dict[str, Any] = {
        "review_gap_days": REVIEW_GAP_DAYS,
        f"risk@{version}": drift_metrics(model, pairs),
    }
    if args.train_world is not None:
        out["snapshot_candidate"] = drift_metrics(fit_snapshot_candidate(args.train_world), pairs)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
