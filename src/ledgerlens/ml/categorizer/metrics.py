"""Categorizer metrics: macro-F1 with abstentions counted as misses, coverage, covered accuracy.

An abstention ("" — "not sure") is a miss for the true class in recall and no false positive
for any class, so macro-F1 cannot be bought by abstaining; coverage and the accuracy of the
covered transactions are reported beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["categorizer_metrics", "per_class_table"]


def categorizer_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    yt = np.asarray(y_true, dtype=object)
    yp = np.asarray(y_pred, dtype=object)
    n = len(yt)
    covered = yp != ""
    n_cov = int(covered.sum())
    correct = yt == yp
    per_class = per_class_table(yt, yp)
    f1s = [row["f1"] for row in per_class]
    return {
        "transactions": n,
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
        "coverage": round(n_cov / n, 4) if n else 0.0,
        "accuracy_covered": round(float(correct[covered].mean()), 4) if n_cov else 0.0,
        "accuracy_all": round(float(correct.mean()), 4) if n else 0.0,
        "classes": len(per_class),
        "per_class": per_class,
    }


def per_class_table(yt: np.ndarray, yp: np.ndarray) -> list[dict[str, Any]]:
    """precision / recall / F1 / support / coverage per true class present in ``yt``."""
    rows = []
    for label in sorted(set(yt.tolist())):
        is_true = yt == label
        is_pred = yp == label
        tp = int((is_true & is_pred).sum())
        support = int(is_true.sum())
        predicted = int(is_pred.sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        cov = float((yp[is_true] != "").mean()) if support else 0.0
        rows.append({"category": label, "precision": round(precision, 4),
                     "recall": round(recall, 4), "f1": round(f1, 4), "support": support,
                     "coverage": round(cov, 4)})  # fmt: skip
    return rows
