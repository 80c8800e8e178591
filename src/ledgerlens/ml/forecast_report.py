"""Run the forecast backtests and render the docs/EVALUATION.md forecast section.

The synthetic world is scored twice: with the world's *truth* known items (perfect enrichment:
open invoices, scheduled payments, truth recurring lines) and with LedgerLens's *own*
enrichment from the canonical CSV alone (``detect_recurring``; no invoices). The shortfall
calibration is fitted on a separate validation world (``fit_world_calibration``), never on the
world it is judged on.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ledgerlens.analyze.cashflow.kernels import KernelParams
from ledgerlens.analyze.cashflow.shortfall import Calibration, fit_calibration

__all__ = ["fit_world_calibration", "render_markdown", "run_backtest"]

EXTERNAL = Path(__file__).resolve().parents[4] / "shared" / "data" / "external"
HEAVY = ("naive", "seasonal_naive", "autoets", "prophet")


def _world(world: Path | None, businesses: int, seed: int, tmp: Path) -> Path:
    if world is not None:
        return world
    from ledgerlens.ml.synth_data import write_synthetic_world

    return write_synthetic_world(businesses, 18, seed, tmp / "world")


def run_backtest(
    *,
    input: Path | None = None,
    world: Path | None = None,
    businesses: int = 120,
    seed: int = 9090,
    tmp: Path,
    real: bool = True,
    baseline_limit: int = 40,
    real_root: Path = EXTERNAL,
) -> dict:
    """All sections that apply: a CSV's own history, or a synthetic world (both modes)."""
    from ledgerlens.ml.forecast_eval import evaluate_cases

    out: dict = {"params": KernelParams().__repr__()}
    t0 = time.perf_counter()
    if input is not None:
        from ledgerlens.ml.forecast_csv import backtest_cases, load_canonical

        cases = list(backtest_cases(load_canonical(input)))
        out["csv"] = {
            "input": input.name,
            **evaluate_cases(cases, methods=HEAVY, baseline_limit=baseline_limit),
        }
    else:
        from ledgerlens.ml.forecast_world import (
            SHORTFALL_ORIGINS_AHEAD,
            iter_cases,
            load_world_truth,
        )

        wdir = _world(world, businesses, seed, tmp)
        truth = load_world_truth(wdir)
        out["world"] = {
            "dir": wdir.name if world else f"generated seed={seed}",
            "businesses": len(truth.weekly),
        }
        ahead = SHORTFALL_ORIGINS_AHEAD
        cases = list(iter_cases(wdir, mode="truth", truth=truth, origins_ahead_days=ahead))
        out["synthetic_truth"] = evaluate_cases(cases, methods=HEAVY, baseline_limit=baseline_limit)
        cases = list(iter_cases(wdir, mode="enriched", truth=truth, origins_ahead_days=ahead))
        out["synthetic_enriched"] = evaluate_cases(cases, methods=("naive", "seasonal_naive"))
    if real and real_root.is_dir():
        from ledgerlens.ml.forecast_real import evaluate_real

        out["real"] = evaluate_real(real_root)
    for sec in ("csv", "synthetic_truth", "synthetic_enriched"):
        if sec in out:
            out[sec].pop("week_scores", None)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def fit_world_calibration(world: Path, path: Path, version: str) -> Calibration:
    """Fit the shortfall calibration on a *validation* world's raw weekly probabilities."""
    from ledgerlens.ml.forecast_eval import evaluate_cases
    from ledgerlens.ml.forecast_world import SHORTFALL_ORIGINS_AHEAD, iter_cases

    # the same origins the backtest scores the shortfall at: the history end and weekly after
    cases = iter_cases(
        world, mode="truth", origins_back_days=(0,), origins_ahead_days=SHORTFALL_ORIGINS_AHEAD
    )
    res = evaluate_cases(cases, methods=(), calibration=Calibration())
    weeks = res["week_scores"]
    raw = np.array([w[1] for w in weeks])
    y = np.array([float(w[3]) for w in weeks])
    return fit_calibration(raw, y, version, path)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "–" if np.isnan(v) else f"{v:.3f}"
    return str(v)


def _methods_table(sec: dict) -> list[str]:
    lines = [
        "| method | cases | MASE (28 d) | relative MASE | on baseline subset: MASE | relative "
        "| 80 % coverage | ms / business |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in sec["methods"].items():
        lines.append(
            f"| {name} | {m['cases']} | {_fmt(m['mase'])} | {_fmt(m['relative_mase'])} | "
            f"{_fmt(m['mase_subset'])} | {_fmt(m['relative_mase_subset'])} | "
            f"{_fmt(m['coverage_80'])} | {m['ms_per_business']} |"
        )
    return lines


def _shortfall(sec: dict) -> list[str]:
    s = sec.get("shortfall") or {}
    if not s:
        return []
    r = sec.get("shortfall_raw") or {}
    return [
        "",
        f"Weekly shortfall (operating account < 0; {s['weeks']} weeks, {s['short_weeks']} short; "
        f"calibration `{sec['calibration']}`):",
        "",
        "| | Brier | ECE | weeks 2–8: recall @0.5 | precision @0.5 | short weeks 2–8 "
        "| median lead (days) |",
        "|---|---|---|---|---|---|---|",
        f"| calibrated | {_fmt(s['brier'])} | {_fmt(s['ece'])} | {_fmt(s['recall_at_0.5'])} | "
        f"{_fmt(s['precision_at_0.5'])} | {s['short_weeks_2_8']} | {_fmt(s['median_lead_days'])} |",
        f"| raw | {_fmt(r['brier'])} | {_fmt(r['ece'])} | {_fmt(r['recall_at_0.5'])} | "
        f"{_fmt(r['precision_at_0.5'])} | {r['short_weeks_2_8']} | {_fmt(r['median_lead_days'])} |",
    ]


def _targets(sec: dict) -> list[str]:
    """Issue #5's must-show #1 targets against what this run reached."""
    ours, s = sec["methods"]["ledgerlens"], sec.get("shortfall") or {}
    if not s:
        return []
    rows = [
        (
            "relative MASE vs seasonal naive (28 d)",
            ours["relative_mase"],
            "≤ 0.70",
            ours["relative_mase"] <= 0.7,
        ),
        (
            "80 % interval coverage",
            ours["coverage_80"],
            "0.75–0.85",
            0.75 <= ours["coverage_80"] <= 0.85,
        ),
        (
            "shortfall recall @0.5, weeks 2–8 (all gaps)",
            s["recall_at_0.5"],
            "≥ 0.85",
            s["recall_at_0.5"] >= 0.85,
        ),
        (
            "… foreseeable gaps only",
            s.get("recall_foreseeable", float("nan")),
            "(≥ 0.85)",
            s.get("recall_foreseeable", 0) >= 0.85,
        ),
        ("… unforeseeable gaps only", s.get("recall_unforeseeable", float("nan")), "–", None),
        (
            "… ceiling of all-gaps recall (share of short weeks in foreseeable gaps)",
            s.get("recall_ceiling", float("nan")),
            "–",
            None,
        ),
        (
            "shortfall precision @0.5, weeks 2–8",
            s["precision_at_0.5"],
            "≥ 0.70",
            s["precision_at_0.5"] >= 0.7,
        ),
        ("shortfall ECE (all 13 weeks)", s["ece"], "≤ 0.05", s["ece"] <= 0.05),
    ]
    out = [
        "",
        "Targets (issue #5, must-show 1):",
        "",
        "| metric | reached | target | met |",
        "|---|---|---|---|",
    ]
    for name, val, target, ok in rows:
        mark = "–" if ok is None else ("yes" if ok else "**no**")
        out.append(f"| {name} | {_fmt(val)} | {target} | {mark} |")
    return out


def render_markdown(res: dict) -> str:
    """The forecast section of docs/EVALUATION.md (regenerated by ``ledgerlens backtest``)."""
    out = [
        "## Cash-flow forecast (issue #5)",
        "",
        "Regenerated by `ledgerlens backtest`; see docs/forecast.md for the method. "
        "MASE: daily consolidated balance, days 1–28, scaled by the in-sample weekly "
        "seasonal-naive MAE; relative = ÷ seasonal naive on the same cases.",
        "",
    ]
    titles = {
        "csv": "Canonical CSV backtest (rolling origins inside the file, enrichment only)",
        "synthetic_truth": "Synthetic world — known items from the world's truth "
        "(open invoices, scheduled payments, truth recurring lines)",
        "synthetic_enriched": "Synthetic world — known items from LedgerLens enrichment only "
        "(detect_recurring on the CSV; no invoices)",
    }
    if "world" in res:
        out.append(
            f"World: {res['world']['dir']}, {res['world']['businesses']} businesses, "
            "origins at the history end, 4/8/12 weeks before it and 1–5 weeks into the hidden "
            "13 weeks (the forecast re-runs weekly as lines arrive; an origin sees only lines up "
            "to it). Shortfall weeks are scored at the history end and the origins after it; "
            "a gap counts as foreseeable at an origin unless its unannounced causes (the biggest "
            "customer stops paying, demand drops, a surprise bill) have not all begun by then."
        )
        out.append("")
    for key, title in titles.items():
        if key not in res:
            continue
        out += [f"### {title}", "", *_methods_table(res[key]), *_shortfall(res[key])]
        if key == "synthetic_truth":
            out += _targets(res[key])
        out.append("")
    if res.get("real"):
        out += [
            "### Real series (residual model alone; no known items exist for them)",
            "",
            "| data set | series | cases | MASE LedgerLens | MASE seasonal naive | MASE naive "
            "| relative MASE | 80 % coverage |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, r in res["real"].items():
            out.append(
                f"| {name} | {r['series']} | {r['cases']} | {_fmt(r['mase_ledgerlens'])} | "
                f"{_fmt(r['mase_seasonal_naive'])} | {_fmt(r['mase_naive'])} | "
                f"{_fmt(r['relative_mase'])} | {_fmt(r['coverage_80'])} |"
            )
        out.append("")
    out.append(f"Run time: {res.get('seconds', '?')} s.")
    return "\n".join(out)
