"""Rolling-origin backtest of the cash-flow forecast, with baselines side by side.

Scored per case (one business at one origin):

- **MASE** of the daily consolidated balance over days 1–28, scaled by the in-sample MAE of the
  weekly seasonal-naive forecast (m = 7); the headline is the *relative* MASE: mean MASE of the
  method / mean MASE of seasonal naive on the same cases (< 1 beats it);
- **80 % interval coverage**: share of days 1–28 whose real balance lies in [p10, p90];
- **weekly shortfall** (operating account, buffer 0, 7-day weeks from the origin): Brier score,
  expected calibration error (10 equal-width bins), recall and precision at 0.5 for weeks 2–8,
  and lead time (days from the origin to the first real short week that was warned of);
- **time per business** of every method.

Expensive baselines (AutoETS, Prophet) run on the first ``baseline_limit`` cases; every method
is also scored on that same subset, so the ratios compare like with like.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ledgerlens.analyze.cashflow.consolidate import consolidated_paths, operating_paths
from ledgerlens.analyze.cashflow.kernels import KernelParams
from ledgerlens.analyze.cashflow.service import simulate
from ledgerlens.analyze.cashflow.shortfall import Calibration, default_calibration
from ledgerlens.ml.forecast_baselines import BASELINES, available
from ledgerlens.ml.forecast_world import BacktestCase

__all__ = [
    "MARK_END",
    "MARK_START",
    "WeekScore",
    "ece",
    "evaluate_cases",
    "mase",
    "shortfall_metrics",
    "update_doc_block",
]

MARK_START = "<!-- forecast:start -->"
MARK_END = "<!-- forecast:end -->"
MASE_DAYS = 28
# (week 1..13 after the origin, raw, calibrated, truth, business, gap kind at the origin, origin)
WeekScore = tuple  # (week, raw, calibrated, short, business, gap kind[, origin])


def mase(
    actual: np.ndarray, pred: np.ndarray, history: np.ndarray, m: int = 7, days: int = MASE_DAYS
) -> float:
    """MAE over the first ``days`` / in-sample MAE of the lag-``m`` naive forecast."""
    hist = history[~np.isnan(history)]
    scale = float(np.mean(np.abs(hist[m:] - hist[:-m]))) if len(hist) > m else 0.0
    ok = ~np.isnan(actual[:days])
    err = float(np.mean(np.abs(pred[:days][ok] - actual[:days][ok]))) if ok.any() else np.nan
    return err / scale if scale > 0 else np.nan


def ece(prob: np.ndarray, outcome: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |mean p − frequency| per bin, weighted by the bin's share."""
    prob, outcome = np.asarray(prob, float), np.asarray(outcome, float)
    if not len(prob):
        return float("nan")
    idx = np.minimum((prob * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += abs(prob[sel].mean() - outcome[sel].mean()) * sel.sum()
    return total / len(prob)


def shortfall_metrics(
    weeks: Sequence[WeekScore], use: str = "calibrated", lo: int = 2, hi: int = 8
) -> dict[str, float | int]:
    """Brier and ECE over all weeks; recall/precision at 0.5 and lead time over weeks lo..hi."""
    if not weeks:
        return {}
    arr = np.array([(w, raw, cal, float(t)) for w, raw, cal, t, *_ in weeks], dtype=float)
    p = arr[:, 2] if use == "calibrated" else arr[:, 1]
    y = arr[:, 3]
    sel = (arr[:, 0] >= lo) & (arr[:, 0] <= hi)
    pred, truth = p[sel] >= 0.5, y[sel] == 1
    tp = int((pred & truth).sum())
    leads: dict[tuple[str, object], int] = {}
    for (w, _raw, _cal, t, bid, *rest), pv in zip(weeks, p, strict=True):
        key = (bid, rest[1] if len(rest) > 1 else None)  # per business and origin
        if t and pv >= 0.5 and key not in leads:
            leads[key] = 7 * (w - 1)
    by_kind: dict[str, float] = {}
    for kind in ("foreseeable", "unforeseeable"):
        ks = np.array([len(wk) > 5 and wk[5] == kind for wk in weeks]) & sel & (y == 1)
        if ks.any():
            by_kind[f"recall_{kind}"] = round(float((p[ks] >= 0.5).mean()), 3)
    if by_kind and truth.any():
        # what a forecaster that foresaw every foreseeable gap perfectly (and none of the
        # unannounced shocks) would reach: the honest upper bound of the all-gaps recall
        fore = np.array([len(wk) > 5 and wk[5] == "foreseeable" for wk in weeks]) & sel & (y == 1)
        by_kind["recall_ceiling"] = round(float(fore.sum() / truth.sum()), 3)
    return {
        **by_kind,
        "weeks": len(p),
        "short_weeks": int(y.sum()),
        "brier": round(float(np.mean((p - y) ** 2)), 4),
        "ece": round(ece(p, y), 4),
        f"weeks_{lo}_{hi}": int(sel.sum()),
        f"short_weeks_{lo}_{hi}": int(truth.sum()),
        "recall_at_0.5": round(tp / max(int(truth.sum()), 1), 3),
        "precision_at_0.5": round(tp / max(int(pred.sum()), 1), 3),
        "median_lead_days": float(np.median(list(leads.values()))) if leads else float("nan"),
    }


def _ours(case: BacktestCase, params: KernelParams, cal: Calibration):  # type: ignore[no-untyped-def]
    sim = simulate(case.inp, params)
    cons = consolidated_paths(sim.paths, case.inp.accounts)
    p10, p50, p90 = np.percentile(cons, [10, 50, 90], axis=0)
    weeks: list[WeekScore] = []
    if case.weeks_truth:
        oper = operating_paths(sim.paths, case.inp.accounts)
        for w, (_start, short) in enumerate(case.weeks_truth):
            block = oper[:, 7 * w : 7 * w + 7]
            if block.shape[1] == 0:
                break
            raw = float((block.min(axis=1) < case.inp.buffer_minor).mean())
            weeks.append(
                (
                    w + 1,
                    raw,
                    float(cal.apply(raw)),
                    short,
                    case.business_id,
                    case.gap_kind,
                    case.origin,
                )
            )
    return (p50, p10, p90), weeks


def evaluate_cases(
    cases: Iterable[BacktestCase],
    *,
    methods: Sequence[str] = ("naive", "seasonal_naive", "autoets", "prophet"),
    baseline_limit: int = 40,
    params: KernelParams | None = None,
    calibration: Calibration | None = None,
) -> dict:
    """Score LedgerLens and the baselines on every case; see the module docstring."""
    params = params or KernelParams()
    cal = calibration if calibration is not None else default_calibration()
    methods = [m for m in methods if available(m)]
    scores: dict[str, list[tuple[float, float, bool]]] = {"ledgerlens": []}
    times: dict[str, float] = {"ledgerlens": 0.0}
    weeks: list[WeekScore] = []
    n = 0
    for i, case in enumerate(cases):
        n += 1
        hist, actual = case.history_consolidated, case.actual_consolidated
        y = hist[~np.isnan(hist)]
        t0 = time.perf_counter()
        (p50, p10, p90), wk = _ours(case, params, cal)
        times["ledgerlens"] += time.perf_counter() - t0
        weeks.extend(wk)
        scores["ledgerlens"].append(
            (mase(actual, p50, hist), _cover(actual, p10, p90), i < baseline_limit)
        )
        for m in methods:
            if m in ("autoets", "prophet") and i >= baseline_limit:
                continue
            t0 = time.perf_counter()
            try:
                b50, b10, b90 = BASELINES[m](y, case.origin, len(actual))
            except Exception:  # noqa: BLE001 - a baseline failing on a series is scored missing
                continue
            times[m] = times.get(m, 0.0) + time.perf_counter() - t0
            cov = _cover(actual, b10, b90) if b10 is not None else float("nan")
            scores.setdefault(m, []).append((mase(actual, b50, hist), cov, i < baseline_limit))
    return _summarize(scores, times, weeks, n, cal)


def _cover(
    actual: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None, days: int = MASE_DAYS
) -> float:
    if lo is None or hi is None:
        return float("nan")
    a = actual[:days]
    ok = ~np.isnan(a)
    return (
        float(np.mean((a[ok] >= lo[:days][ok]) & (a[ok] <= hi[:days][ok]))) if ok.any() else np.nan
    )


def _summarize(scores: dict, times: dict, weeks: list[WeekScore], n: int, cal: Calibration) -> dict:
    def mean(vals: list[float]) -> float:
        v = np.array(vals, float)
        v = v[~np.isnan(v)]
        return round(float(v.mean()), 4) if len(v) else float("nan")

    sn_all = mean([s[0] for s in scores.get("seasonal_naive", [])])
    sn_sub = mean([s[0] for s in scores.get("seasonal_naive", []) if s[2]])
    methods: dict[str, dict] = {}
    for name, rows in scores.items():
        sub = [r for r in rows if r[2]]
        full = len(rows) == n
        m_all = mean([r[0] for r in rows]) if full else float("nan")
        m_sub = mean([r[0] for r in sub])
        methods[name] = {
            "cases": len(rows),
            "mase": m_all,
            "relative_mase": round(m_all / sn_all, 4) if full and sn_all else float("nan"),
            "mase_subset": m_sub,
            "relative_mase_subset": round(m_sub / sn_sub, 4) if sn_sub else float("nan"),
            "coverage_80": mean([r[1] for r in rows]),
            "ms_per_business": round(1000 * times.get(name, 0.0) / max(len(rows), 1), 2),
        }
    return {
        "cases": n,
        "mase_days": MASE_DAYS,
        "methods": methods,
        "shortfall": shortfall_metrics(weeks, "calibrated"),
        "shortfall_raw": shortfall_metrics(weeks, "raw"),
        "calibration": cal.version,
        "week_scores": weeks,
    }


def update_doc_block(path: Path, block: str) -> Path:
    """Rewrite only the text between the forecast markers (append the block if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Evaluation\n"
    body = f"{MARK_START}\n{block.rstrip()}\n{MARK_END}"
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        _, tail = rest.split(MARK_END, 1)
        text = head + body + tail
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
