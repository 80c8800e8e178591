"""Metrics of a probability of distress: ranking (AUC) and calibration (Brier, ECE).

ECE uses equal-count bins (deciles by default): with ~18 % positives, equal-width bins leave the
upper bins nearly empty and the figure would measure noise.
"""

from __future__ import annotations

import numpy as np

__all__ = ["auc", "brier", "expected_calibration_error", "probability_metrics"]


def auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=np.float64) - np.asarray(y)) ** 2))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Σ over equal-count bins of |mean predicted − observed rate| × bin share."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, min(bins, max(len(p), 1))):
        if chunk.size:
            total += abs(p[chunk].mean() - y[chunk].mean()) * chunk.size
    return float(total / max(len(p), 1))


def probability_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUC, Brier, ECE, base rate and mean prediction, rounded for reports."""
    return {
        "n": len(y),
        "positives": int(np.sum(y)),
        "auc": round(auc(y, p), 4),
        "brier": round(brier(y, p), 4),
        "ece": round(expected_calibration_error(y, p), 4),
        "base_rate": round(float(np.mean(y)), 4),
        "mean_prediction": round(float(np.mean(p)), 4),
    }
