"""The residual model on real third-party series (no known items: none are published).

- UCI Online Retail: daily revenue of a real UK gift-ware SME (a *flow*; closed days are 0);
- Subite CAMT: daily closing balances of two real (anonymised) Lithuanian accounts;
- PKDD'99 Berka: end-of-day balances of real Czech retail accounts (balance after each line).

Each is scored with rolling origins: MASE over 28 days against weekly seasonal naive, and 80 %
interval coverage. These series carry no recurring-series or invoice knowledge, so they test the
statistical half of the forecaster alone — reported as it comes out, good or bad.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from ledgerlens.analyze.cashflow.kernels import KernelParams, fit_residual, simulate_residual
from ledgerlens.ml.forecast_baselines import naive, seasonal_naive
from ledgerlens.ml.forecast_eval import MASE_DAYS, mase

__all__ = ["berka_series", "camt_series", "evaluate_real", "uci_series"]

Series = tuple[str, str, date, np.ndarray]  # (name, kind "flow"|"balance", first day, values)


def uci_series(root: Path) -> Iterator[Series]:
    path = root / "uci-online-retail-daily" / "retail_sales_uci.csv"
    if not path.is_file():
        return
    rows = {
        date.fromisoformat(r["date"]): float(r["kpi_value"])
        for r in csv.DictReader(path.open(encoding="utf-8"))
    }
    first, last = min(rows), max(rows)
    vals = np.array(
        [rows.get(first + timedelta(days=i), 0.0) for i in range((last - first).days + 1)]
    )
    yield "uci-online-retail revenue", "flow", first, vals


def camt_series(root: Path) -> Iterator[Series]:
    path = root / "subite-camt-to-coda" / "derived_statement_balances.csv"
    if not path.is_file():
        return
    by_acc: dict[str, dict[date, float]] = {}
    for r in csv.DictReader(path.open(encoding="utf-8")):
        day = date.fromisoformat(r["closing_date"])
        by_acc.setdefault(r["account"], {})[day] = float(r["closing_balance"])
    for acc, rows in sorted(by_acc.items()):
        if len(rows) < 90:
            continue
        yield f"camt {acc[:6]}…", "balance", min(rows), _carry(rows)


def berka_series(root: Path, limit: int = 100, min_days: int = 400) -> Iterator[Series]:
    path = root / "pkdd99-berka-czech-bank" / "trans_test.csv"
    if not path.is_file():
        return
    by_acc: dict[str, dict[date, float]] = {}
    with path.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            day = datetime.strptime(r["date"], "%y%m%d").date()
            by_acc.setdefault(r["account_id"], {})[day] = float(r["balance"])  # last of the day
    n = 0
    for acc in sorted(by_acc, key=int):
        rows = by_acc[acc]
        if (max(rows) - min(rows)).days < min_days:
            continue
        yield f"berka {acc}", "balance", min(rows), _carry(rows)
        n += 1
        if n >= limit:
            return


def _carry(rows: dict[date, float]) -> np.ndarray:
    first, last = min(rows), max(rows)
    out, cur = [], rows[first]
    for i in range((last - first).days + 1):
        cur = rows.get(first + timedelta(days=i), cur)
        out.append(cur)
    return np.array(out, float)


def _ours(kind: str, y: np.ndarray, last_day: date, h: int, params: KernelParams):  # type: ignore[no-untyped-def]
    flow = y if kind == "flow" else np.diff(y, prepend=y[0])
    fit = fit_residual(flow[None, :], last_day, h, params)
    paths = simulate_residual(fit, params, np.random.default_rng(7), params.n_paths)[:, 0, :]
    if kind == "balance":
        paths = y[-1] + np.cumsum(paths, axis=1)
    p10, p50, p90 = np.percentile(paths, [10, 50, 90], axis=0)
    return p50, p10, p90


def evaluate_real(
    root: Path, origins: int = 4, step_days: int = 28, berka_limit: int = 100
) -> dict[str, dict]:
    """Per data set: mean MASE of LedgerLens / naive / seasonal naive, relative MASE, coverage."""
    params = KernelParams()
    sets = {
        "uci_online_retail": list(uci_series(root)),
        "camt_balances": list(camt_series(root)),
        "berka_balances": list(berka_series(root, berka_limit)),
    }
    out: dict[str, dict] = {}
    for name, series in sets.items():
        ours, sn, nv, cov = [], [], [], []
        for _label, kind, first, vals in series:
            for k in range(origins):
                cut = len(vals) - MASE_DAYS - k * step_days
                if cut < 63:
                    break
                y, actual = vals[:cut], vals[cut : cut + MASE_DAYS]
                last_day = first + timedelta(days=cut - 1)
                p50, p10, p90 = _ours(kind, y, last_day, MASE_DAYS, params)
                ours.append(mase(actual, p50, y))
                sn.append(mase(actual, seasonal_naive(y, last_day, MASE_DAYS)[0], y))
                nv.append(mase(actual, naive(y, last_day, MASE_DAYS)[0], y))
                cov.append(float(np.mean((actual >= p10) & (actual <= p90))))
        if not ours:
            continue
        m, s = float(np.nanmean(ours)), float(np.nanmean(sn))
        out[name] = {
            "series": len(series),
            "cases": len(ours),
            "mase_ledgerlens": round(m, 3),
            "mase_seasonal_naive": round(s, 3),
            "mase_naive": round(float(np.nanmean(nv)), 3),
            "relative_mase": round(m / s, 3) if s else float("nan"),
            "coverage_80": round(float(np.mean(cov)), 3),
        }
    return out
