"""Fairness report of the risk bands across sector, region, business age and size (fairlearn).

On the synthetic test world (a seed never trained on) each business gets a band; "selected"
means the band lets it be offered credit (A–C, probability of distress < 20 %). fairlearn's
``MetricFrame`` gives, per group, the selection rate, the false-negative rate (a distressed
business selected), the false-positive rate (a healthy business refused) and the true rate of
distress. Per attribute the report states the selection-rate ratio (lowest / highest group,
the "four-fifths rule") and, where it is below 0.8, the reason: whether the gap follows the
groups' true distress rates (a difference the generator builds in on purpose, e.g. loan-heavy
sectors) or the model's errors (compared through the error-rate gaps).

Other decisions (part A's limits and offers) can be added as extra 0/1 columns; each gets the
same table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["FOUR_FIFTHS", "SELECTED_BANDS", "age_bucket", "fairness_report", "size_bucket"]

FOUR_FIFTHS = 0.8
SELECTED_BANDS = frozenset({"A", "B", "C"})
_ERROR_GAP = 0.05  # refused-healthy rates further apart than this are reported as model error


def age_bucket(history_months: float) -> str:
    if history_months < 9:
        return "<9 months"
    if history_months < 15:
        return "9-15 months"
    return ">=15 months"


def size_bucket(monthly_revenue_major: float) -> str:
    if monthly_revenue_major < 30_000:
        return "revenue <30k/month"
    if monthly_revenue_major < 80_000:
        return "revenue 30k-80k/month"
    return "revenue >=80k/month"


def _fnr(y_true: np.ndarray, y_sel: np.ndarray) -> float:
    """Share of distressed businesses that were selected anyway."""
    bad = y_true == 1
    return float(y_sel[bad].mean()) if bad.any() else float("nan")


def _fpr(y_true: np.ndarray, y_sel: np.ndarray) -> float:
    """Share of healthy businesses that were refused."""
    good = y_true == 0
    return float((1 - y_sel[good]).mean()) if good.any() else float("nan")


def _number(key: str, v: Any) -> float | int | None:
    """JSON-safe: counts as int, rates rounded, an undefined rate (empty group) as None."""
    if key == "count":
        return int(v)
    return None if v is None or np.isnan(v) else round(float(v), 4)


def _frame(y_true: np.ndarray, selected: np.ndarray, groups: Sequence[str]) -> dict[str, Any]:
    from fairlearn.metrics import MetricFrame, selection_rate

    mf = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "refused_healthy_rate": _fpr,
            "selected_distressed_rate": _fnr,
            "distress_rate": lambda yt, _yp: float(np.mean(yt)),
            "count": lambda yt, _yp: len(yt),
        },
        y_true=y_true,
        y_pred=selected,
        sensitive_features=np.asarray(groups),
    )
    by_group = {
        str(g): {k: _number(k, v) for k, v in row.items()}
        for g, row in mf.by_group.to_dict(orient="index").items()
    }
    rates = [r["selection_rate"] for r in by_group.values() if r["count"] > 0]
    ratio = min(rates) / max(rates) if rates and max(rates) > 0 else 1.0
    healthy = [1 - r["distress_rate"] for r in by_group.values()]
    truth_ratio = min(healthy) / max(healthy) if healthy and max(healthy) > 0 else 1.0
    fpr = [r["refused_healthy_rate"] for r in by_group.values()]
    fpr = [v for v in fpr if v is not None]
    out: dict[str, Any] = {
        "groups": by_group,
        "selection_rate_ratio": round(ratio, 4),
        "healthy_rate_ratio_truth": round(truth_ratio, 4),
        "refused_healthy_rate_gap": round(max(fpr) - min(fpr), 4) if fpr else 0.0,
        "meets_four_fifths": bool(ratio >= FOUR_FIFTHS),
    }
    if len(by_group) < 2:
        out["reason"] = "only one group present: the world does not vary this attribute"
    elif ratio < FOUR_FIFTHS:
        out["reason"] = _reason(by_group, truth_ratio)
    return out


def _reason(by_group: Mapping[str, Mapping[str, float]], truth_ratio: float) -> str:
    low = min(by_group, key=lambda g: by_group[g]["selection_rate"])
    high = max(by_group, key=lambda g: by_group[g]["selection_rate"])
    lo, hi = by_group[low], by_group[high]
    text = (
        f"lowest '{low}' {lo['selection_rate']:.2f} vs highest '{high}' "
        f"{hi['selection_rate']:.2f}; true distress {lo['distress_rate']:.2f} vs "
        f"{hi['distress_rate']:.2f}"
    )
    if lo["distress_rate"] > hi["distress_rate"]:
        text += "; the direction follows a real difference in distress (built into the generator)"
        if truth_ratio < FOUR_FIFTHS:
            text += (
                f", and even a perfect model would score {truth_ratio:.2f} here (the groups' "
                "healthy-rate ratio)"
            )
    else:
        text += "; NOT explained by the true distress rates: review the model for this group"
    lo_fpr, hi_fpr = lo["refused_healthy_rate"], hi["refused_healthy_rate"]
    if lo_fpr is not None and hi_fpr is not None and lo_fpr - hi_fpr > _ERROR_GAP:
        text += (
            f"; but healthy '{low}' businesses are also refused more often "
            f"({lo['refused_healthy_rate']:.2f} vs {hi['refused_healthy_rate']:.2f}): part of "
            "the gap is model error, not only the truth"
        )
    if lo["count"] < 30:
        text += f"; small group (n={int(lo['count'])}), the rate is noisy"
    return text


def fairness_report(
    y_true: np.ndarray,
    bands: Sequence[str],
    attributes: Mapping[str, Sequence[str]],
    decisions: Mapping[str, Sequence[int]] | None = None,
) -> dict[str, Any]:
    """Per decision (risk bands first, then any extra 0/1 decisions), per attribute, the frame."""
    y = np.asarray(y_true, dtype=np.int64)
    columns: dict[str, np.ndarray] = {
        "risk_band_selected": np.asarray([b in SELECTED_BANDS for b in bands], dtype=np.int64)
    }
    for name, vals in (decisions or {}).items():
        columns[name] = np.asarray(vals, dtype=np.int64)
    return {
        "selected_means": "risk band in A-C (probability of distress < 0.20)",
        "decisions": {
            name: {attr: _frame(y, sel, groups) for attr, groups in attributes.items()}
            for name, sel in columns.items()
        },
    }
