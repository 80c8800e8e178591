"""Fairness report of risk bands, limits and offers across sector, region, business age and size.

On the synthetic test world (a seed never trained on) each business gets a risk band, card
limits over two reviews and lending offers (``fairness_decisions`` runs the production decide
path). Every decision is a 0/1 column, 1 being the outcome the business wants ("selected": band
A–C, limit not lowered, credit offered), judged on the businesses it applies to (an invoice
financing offer only on businesses that are paid on invoices). fairlearn's ``MetricFrame``
gives, per group, the selection rate, the false-negative rate (a distressed business selected),
the false-positive rate (a healthy business refused) and the true rate of distress; for the
risk score also the mean predicted probability (calibration within the group). Per attribute
the report states the selection-rate ratio (lowest / highest group, the "four-fifths rule") and,
where it is below 0.8, the reason from the data: whether the gap follows the groups' true
distress rates (a difference the generator builds in on purpose, e.g. loan-heavy sectors), the
model's errors (compared through the error-rate gaps), or a rule (the refusals' most common
reason code in the lowest group, e.g. "credit needs 6 months of history").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FOUR_FIFTHS",
    "SELECTED_BANDS",
    "DecisionColumn",
    "age_bucket",
    "fairness_report",
    "size_bucket",
]

FOUR_FIFTHS = 0.8
SELECTED_BANDS = frozenset({"A", "B", "C"})
_ERROR_GAP = 0.05  # refused-healthy rates further apart than this are reported as model error
_RULE_SHARE = 0.5  # a reason code behind at least half the refusals is named as the cause
RISK_DECISION = "risk_band_selected"
RISK_MEANS = "risk band in A-C (probability of distress < 0.20)"

# reason codes of decide/ that a fairness reader needs in words
_CODE_WORDS = {
    "ELIG_HISTORY_UNDER_6M": "the product_eligibility table gives credit only after 6 months "
    "of history",
    "ELIG_RISK_BAND_E": "no new credit in risk band E (product_eligibility)",
    "ELIG_RISK_BAND_D_UNSECURED": "no unsecured credit in risk band D (product_eligibility)",
    "OFFER_TOO_SMALL": "the amount the caps allow is below the minimum facility",
    "OFFER_NO_NET_CAPACITY": "no net operating capacity left for a repayment",
    "RISK_BAND_D": "band D: target 10 % of capacity",
    "RISK_BAND_E": "band E: target 5 % of capacity",
    "LIMIT_FORECAST_SHORTFALL": "the forecast sees a likely shortfall (target halved)",
    "LIMIT_BAND_WORSE": "the model's risk band worsened since the last review (by more than "
    "the limit_bands table's minimum rise)",
    "LIMIT_INFLOW_FELL": "operating inflow less debt service fell since the last review",
}


@dataclass(frozen=True)
class DecisionColumn:
    """One decision across the test businesses, as the report judges it.

    ``selected`` is 1 for the outcome the business wants; ``applies`` (all when None) says who
    the decision is judged on; ``refusals`` holds, per business not selected, the reason code
    that refused it ("" when selected), so a gap can be traced to a rule.
    """

    selected: Sequence[int]
    means: str
    applies: Sequence[bool] | None = None
    refusals: Sequence[str] | None = None


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


def _frame(
    y_true: np.ndarray,
    selected: np.ndarray,
    groups: np.ndarray,
    probability: np.ndarray | None = None,
    refusals: np.ndarray | None = None,
) -> dict[str, Any]:
    from fairlearn.metrics import MetricFrame, selection_rate

    metrics: dict[str, Any] = {
        "selection_rate": selection_rate,
        "refused_healthy_rate": _fpr,
        "selected_distressed_rate": _fnr,
        "distress_rate": lambda yt, _yp: float(np.mean(yt)),
        "count": lambda yt, _yp: len(yt),
    }
    params: dict[str, dict[str, Any]] = {}
    if probability is not None:
        metrics["mean_probability"] = lambda _yt, _yp, p: float(np.mean(p))
        params["mean_probability"] = {"p": probability}
    mf = MetricFrame(
        metrics=metrics,
        y_true=y_true,
        y_pred=selected,
        sensitive_features=groups,
        sample_params=params or None,
    )
    by_group: dict[str, dict[str, Any]] = {
        str(g): {k: _number(k, v) for k, v in row.items()}
        for g, row in mf.by_group.to_dict(orient="index").items()
    }
    if refusals is not None:
        for g, row in by_group.items():
            codes = Counter(c for c in refusals[(groups == g) & (selected == 0)].tolist() if c)
            if codes:
                code, n = codes.most_common(1)[0]
                row["main_refusal"] = code
                row["main_refusal_share"] = round(n / sum(codes.values()), 4)
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


def _reason(by_group: Mapping[str, Mapping[str, Any]], truth_ratio: float) -> str:
    low = min(by_group, key=lambda g: by_group[g]["selection_rate"])
    high = max(by_group, key=lambda g: by_group[g]["selection_rate"])
    lo, hi = by_group[low], by_group[high]
    text = (
        f"lowest '{low}' {lo['selection_rate']:.2f} vs highest '{high}' "
        f"{hi['selection_rate']:.2f}; true distress {lo['distress_rate']:.2f} vs "
        f"{hi['distress_rate']:.2f}"
    )
    code, share = lo.get("main_refusal"), lo.get("main_refusal_share", 0.0)
    if code:
        words = _CODE_WORDS.get(code)
        text += f"; {share:.0%} of the refusals in '{low}' are {code}" + (
            f" ({words})" if words else ""
        )
    if lo["distress_rate"] > hi["distress_rate"]:
        text += "; the direction follows a real difference in distress (built into the generator)"
        if truth_ratio < FOUR_FIFTHS:
            text += (
                f", and even a perfect model would score {truth_ratio:.2f} here (the groups' "
                "healthy-rate ratio)"
            )
    elif not (code and share >= _RULE_SHARE):
        text += "; NOT explained by the true distress rates: review the model for this group"
    else:
        text += f"; NOT explained by the true distress rates but by {code}"
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
    decisions: Mapping[str, DecisionColumn | Sequence[int]] | None = None,
    *,
    probabilities: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Per decision (risk bands first, then limits, offers…), per attribute, the frame.

    ``decisions`` values are ``DecisionColumn``s or bare 0/1 sequences (applying to all);
    ``probabilities`` (the calibrated scores) add each group's mean prediction to the risk rows.
    """
    y = np.asarray(y_true, dtype=np.int64)
    columns: dict[str, DecisionColumn] = {
        RISK_DECISION: DecisionColumn([int(b in SELECTED_BANDS) for b in bands], RISK_MEANS)
    }
    for name, col in (decisions or {}).items():
        columns[name] = col if isinstance(col, DecisionColumn) else DecisionColumn(col, name)
    attrs = {a: np.asarray(g, dtype=object).astype(str) for a, g in attributes.items()}
    report: dict[str, Any] = {
        "selected_means": RISK_MEANS,
        "meaning": {},
        "population": {},
        "decisions": {},
    }
    for name, col in columns.items():
        mask = np.ones(y.size, bool) if col.applies is None else np.asarray(col.applies, bool)
        sel = np.asarray(col.selected, dtype=np.int64)[mask]
        prob = None
        if name == RISK_DECISION and probabilities is not None:
            prob = np.asarray(probabilities, dtype=np.float64)[mask]
        ref = None if col.refusals is None else np.asarray(col.refusals, dtype=object)[mask]
        report["meaning"][name] = col.means
        report["population"][name] = int(mask.sum())
        if not mask.any():
            report["decisions"][name] = {}
            continue
        report["decisions"][name] = {
            attr: _frame(y[mask], sel, groups[mask], prob, ref) for attr, groups in attrs.items()
        }
    return report
