"""Weekly shortfall risk: P(the week's lowest operating balance < buffer), calibrated.

The raw probability is the share of simulated paths that dip below the buffer. Simulations are
over- or under-confident in ways that depend on the model, so the raw share is mapped through a
monotone calibration fitted on *validation* backtests (isotonic regression, stored as a small
JSON artifact of breakpoints; applying it is ``np.interp``, no sklearn at run time). A 30 %
warning then means: among past warnings of 30 %, about three in ten weeks really went short.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np

from ledgerlens.analyze.cashflow.model import SOURCE, WeekRisk

__all__ = [
    "CALIBRATION_FILE",
    "Calibration",
    "default_calibration",
    "fit_calibration",
    "week_risks",
    "week_windows",
]

CALIBRATION_FILE = "shortfall_calibration.json"


@dataclass(frozen=True, slots=True)
class Calibration:
    """A monotone map raw → calibrated probability, as breakpoints for ``np.interp``."""

    x: tuple[float, ...] = (0.0, 1.0)
    y: tuple[float, ...] = (0.0, 1.0)
    version: str = "identity"
    evidence: dict[str, float | int | str] = field(default_factory=dict)

    def apply(self, raw: np.ndarray | float) -> np.ndarray:
        return np.interp(np.asarray(raw, dtype=float), self.x, self.y)

    def to_json(self) -> str:
        return json.dumps(
            {"version": self.version, "x": self.x, "y": self.y, "evidence": self.evidence},
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        d = json.loads(text)
        return cls(tuple(d["x"]), tuple(d["y"]), d.get("version", ""), d.get("evidence", {}))

    @property
    def source(self) -> str:
        return f"{SOURCE}+calibration@{self.version}"


@functools.cache
def default_calibration() -> Calibration:
    """The calibration shipped with the package (fitted on a validation world), else identity.

    Read once per process, on first use (never at import time)."""
    try:
        text = resources.files("ledgerlens.analyze.cashflow").joinpath(CALIBRATION_FILE)
        return Calibration.from_json(text.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Calibration()


def fit_calibration(
    raw: np.ndarray, outcome: np.ndarray, version: str, path: Path | None = None
) -> Calibration:
    """Isotonic regression of outcomes on raw probabilities, pinned to [0, 1] at both ends."""
    from sklearn.isotonic import IsotonicRegression

    raw = np.asarray(raw, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, outcome)
    xs = np.concatenate([[0.0], iso.X_thresholds_, [1.0]])
    ys = np.concatenate([[iso.y_thresholds_[0]], iso.y_thresholds_, [iso.y_thresholds_[-1]]])
    xs, keep = np.unique(xs, return_index=True)
    ys = ys[keep]
    cal = Calibration(
        tuple(float(v) for v in xs),
        tuple(round(float(v), 6) for v in ys),
        version,
        {"weeks": len(raw), "positives": int(outcome.sum())},
    )
    if path is not None:
        path.write_text(cal.to_json() + "\n", encoding="utf-8")
    return cal


def week_windows(
    as_of: date, horizon_days: int, align: str = "monday"
) -> list[tuple[int, int, date, date]]:
    """(first index, last index, week start, week end) over horizon days 1..H (index 0 = day 1).

    ``monday``: calendar weeks Monday–Sunday (the first may be partial; its start is still the
    Monday); ``origin``: 7-day weeks from the day after ``as_of`` (how backtests are scored).
    """
    first = as_of + timedelta(days=1)
    out: list[tuple[int, int, date, date]] = []
    if align == "origin":
        for w in range(horizon_days // 7):
            s = first + timedelta(days=7 * w)
            out.append((7 * w, 7 * w + 6, s, s + timedelta(days=6)))
        return out
    start = first - timedelta(days=first.weekday())
    while True:
        lo = max((start - first).days, 0)
        hi = min((start - first).days + 6, horizon_days - 1)
        if lo > horizon_days - 1:
            return out
        out.append((lo, hi, start, start + timedelta(days=6)))
        start += timedelta(days=7)


def week_risks(
    paths: np.ndarray,
    buffer_minor: int,
    as_of: date,
    windows: list[tuple[int, int, date, date]],
    calibration: Calibration,
) -> list[WeekRisk]:
    """Per week: calibrated P(min < buffer), mean of the weekly minimum and the day the mean
    path is lowest."""
    out: list[WeekRisk] = []
    first = as_of + timedelta(days=1)
    mean_path = paths.mean(axis=0)
    if not windows:
        return out
    # windows are contiguous and ordered: one reduceat gives every week's minimum
    starts = np.array([lo for lo, _, _, _ in windows])
    mins = np.minimum.reduceat(paths[:, : windows[-1][1] + 1], starts, axis=1)
    raws = (mins < buffer_minor).mean(axis=0)
    cals = calibration.apply(raws)
    mean_mins = mins.mean(axis=0)
    for k, (lo, hi, ws, we) in enumerate(windows):
        raw, cal = float(raws[k]), float(cals[k])
        day = lo + int(np.argmin(mean_path[lo : hi + 1]))
        out.append(
            WeekRisk(
                week_start=ws,
                week_end=we,
                shortfall_probability=round(cal, 4),
                raw_probability=round(raw, 4),
                expected_min_balance_minor=round(float(mean_mins[k])),
                expected_min_day=first + timedelta(days=day),
                confidence=round(max(cal, 1.0 - cal), 4),
                source=calibration.source,
            )
        )
    return out
