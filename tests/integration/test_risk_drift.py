"""Training views at several as-of dates, and the drift measure between two limit reviews.

What must hold: each business is seen ``SNAPSHOTS`` times, first at its history end over all its
history, then at earlier dates over windows of at least three months, never with a line after
the as-of date, and all rows of one business in its own split (no leak across splits); the
drift measure reads zero for an unchanged business and sees the review gap in the ages.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ledgerlens.adapters.risk_store import load_risk_model
from ledgerlens.analyze.risk.features import FEATURES
from ledgerlens.ml.fairness_decisions import REVIEW_GAP_DAYS
from ledgerlens.ml.risk_data import (
    MAX_OFFSET_DAYS,
    MIN_WINDOW_MONTHS,
    SNAPSHOTS,
    load_world_snapshots,
    snapshot_plan,
)
from ledgerlens.ml.risk_drift import drift_metrics, review_pairs
from ledgerlens.ml.synth_data import write_synthetic_world

SEED = 9319  # not a training, development, report or other test world
_AGE = FEATURES.index("business_age_months")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_world(12, 12, SEED, tmp_path_factory.mktemp("drift"), workers=1)


def test_snapshot_plan_starts_at_the_end_and_stays_within_the_history() -> None:
    for index in range(50):
        plan = snapshot_plan(index, 548)
        assert plan == snapshot_plan(index, 548)  # a pure function of the index
        assert len(plan) == SNAPSHOTS and plan[0] == (0, 18)
        for off, months in plan[1:]:
            assert 1 <= off <= MAX_OFFSET_DAYS
            assert MIN_WINDOW_MONTHS <= months <= (548 - off) * 12 // 365
    offsets = {off for i in range(50) for off, _ in snapshot_plan(i, 548)[1:]}
    assert len(offsets) > 100  # spread over the half-year, not a few fixed dates


def test_snapshots_never_see_past_their_date_and_keep_businesses_in_one_split(
    world: Path,
) -> None:
    ds = load_world_snapshots(world, workers=1)
    with (world / "truth" / "businesses_truth.csv").open(encoding="utf-8") as fh:
        truth = {r["business_id"]: r for r in csv.DictReader(fh)}
    assert ds.offset_days is not None
    assert len(ds.y) == SNAPSHOTS * len(truth)
    for bid, row in truth.items():
        mine = np.flatnonzero(np.asarray(ds.business_ids) == bid)
        assert len(mine) == SNAPSHOTS
        assert {ds.split[i] for i in mine} == {row["split"]}
        assert set(ds.y[mine].tolist()) == {int(row["distress_12m"])}
        assert ds.offset_days[mine[0]] == 0
        # an earlier as-of date over a window of at most its history: never older than the
        # full view, and younger by at least the offset when the window is the whole history
        full_age = ds.X[mine[0], _AGE]
        for i in mine[1:]:
            assert ds.X[i, _AGE] <= full_age - ds.offset_days[i] / 30.4375 + 1.0
            assert ds.X[i, _AGE] >= MIN_WINDOW_MONTHS - 1.0


def test_drift_is_zero_for_an_unchanged_business_and_reads_the_review_gap(world: Path) -> None:
    model, _ = load_risk_model()
    pairs = review_pairs(world, workers=1)
    ages = pairs.X_end[:, _AGE] - pairs.X_before[:, _AGE]
    assert np.all(np.abs(ages - REVIEW_GAP_DAYS / 30.4375) < 1.0)
    still = drift_metrics(model, replace(pairs, X_before=pairs.X_end))
    assert still["mean_abs_change"] == 0.0 and still["band_changed_share"] == 0.0
    assert all(v == 0.0 for v in still["log_odds_shift_by_feature"].values())
    moved = drift_metrics(model, pairs)
    assert moved["mean_abs_change"] > 0.0
    assert sum(moved["log_odds_shift_by_feature"].values()) != 0.0
    assert moved["end"]["n"] == moved["before"]["n"] == len(pairs.y)
