"""Evaluate the risk model: synthetic test world, real Berka loans, monotonicity, fairness.

- **Synthetic**: a test world with a seed never used in training or tuning (``TEST_SEED``); AUC,
  Brier and ECE of the calibrated probability, the same against the generator's own latent
  probability (``distress_score``, the ceiling any model can reach on these noisy labels), and
  the observed distress per band.
- **Monotonicity**: every constrained feature of every test business is swept over its observed
  range; the raw score must never move against the constraint.
- **Real**: ``risk_berka.evaluate_berka`` (ours vs logistic regression, same folds).
- **Fairness**: ``fairness.fairness_report`` on the same test world.

``render_*`` write the sections of docs/EVALUATION.md between their markers.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ledgerlens.analyze.risk.features import FEATURES, MONOTONE
from ledgerlens.analyze.risk.model import BANDS, RiskModel, band_of
from ledgerlens.ml.risk_data import RiskDataset, load_world_features
from ledgerlens.ml.risk_metrics import auc, probability_metrics

__all__ = [
    "FAIR_END",
    "FAIR_START",
    "RISK_END",
    "RISK_START",
    "TEST_SEED",
    "check_monotone",
    "evaluate_risk",
    "render_fairness",
    "render_risk",
    "update_doc_block",
]

TEST_SEED = 7207
RISK_START, RISK_END = "<!-- risk:start -->", "<!-- risk:end -->"
FAIR_START, FAIR_END = "<!-- fairness:start -->", "<!-- fairness:end -->"


def check_monotone(model: RiskModel, X: np.ndarray, steps: int = 25) -> dict[str, int]:
    """Violations per constrained feature when sweeping it over its range (0 everywhere = holds)."""
    out: dict[str, int] = {}
    for j, name in enumerate(FEATURES):
        sign = MONOTONE[name]
        if sign == 0:
            continue
        grid = np.linspace(X[:, j].min(), X[:, j].max() + 1e-9, steps)
        rows = np.repeat(X, steps, axis=0)
        rows[:, j] = np.tile(grid, X.shape[0])
        raw = model.decision_function(rows).reshape(X.shape[0], steps)
        out[name] = int((np.diff(raw, axis=1) * sign < -1e-9).sum())
    return out


def _band_table(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    bands = np.asarray([band_of(v) for v in p])
    return [
        {
            "band": b,
            "businesses": int((bands == b).sum()),
            "mean_probability": round(float(p[bands == b].mean()), 4)
            if (bands == b).any()
            else None,
            "observed_distress": round(float(y[bands == b].mean()), 4)
            if (bands == b).any()
            else None,
        }
        for b, _ in BANDS
    ]


def _fairness(
    ds: RiskDataset, p: np.ndarray, decisions: dict[str, Any] | None = None
) -> dict[str, Any]:
    from ledgerlens.ml.fairness import age_bucket, fairness_report, size_bucket

    attrs = {
        "sector": ds.archetype,
        "region": ds.country,
        "business_age": [age_bucket(m) for m in ds.history_months],
        "size": [size_bucket(r) for r in ds.monthly_revenue_major],
    }
    return fairness_report(ds.y, [band_of(v) for v in p], attrs, decisions, probabilities=p)


def evaluate_risk(
    model: RiskModel,
    version: str,
    *,
    world_dir: Path | None = None,
    businesses: int = 400,
    months: int = 18,
    seed: int = TEST_SEED,
    external_dir: Path | None = None,
    decisions: bool = True,
    workers: int = 2,
    log: Any = lambda _m: None,
) -> dict[str, Any]:
    """All figures of the risk section (and the fairness report) as one JSON-able dict.

    ``decisions``: also run limits and offers on the test world for the fairness report.
    """
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ledgerlens-risk-test-") as tmp:
        if world_dir is None:
            from ledgerlens.ml.synth_data import write_synthetic_world

            log(
                f"generating the test world: {businesses} businesses × {months} months, seed {seed}"
            )
            world_dir = write_synthetic_world(businesses, months, seed, Path(tmp))
        log("computing features")
        ds = load_world_features(world_dir, workers=workers, vary_age=True)
        p = model.predict_proba(ds.X)[:, 1]
        columns: dict[str, Any] | None = None
        decided: dict[str, Any] | None = None
        if decisions:
            from ledgerlens.ml.fairness_decisions import decision_columns

            columns, decided = decision_columns(
                world_dir,
                ds.business_ids,
                ds.history_months,
                p,
                model.to_json(),
                version,
                workers=workers,
                log=log,
            )
    synthetic = probability_metrics(ds.y, p)
    synthetic["oracle_auc"] = round(auc(ds.y, ds.distress_score), 4)
    synthetic["oracle_brier"] = round(float(np.mean((ds.distress_score - ds.y) ** 2)), 4)
    by_age = {}
    for months_seen in sorted(set(ds.history_months)):
        mask = np.asarray(ds.history_months) == months_seen
        if len(set(ds.y[mask])) == 2:
            by_age[f"{months_seen} months"] = round(auc(ds.y[mask], p[mask]), 4)
    metrics: dict[str, Any] = {
        "model": f"risk@{version}",
        "test_world": {
            "businesses": len(ds.y),
            "months": months,
            "seed": seed,
            "scored_on": "last 6, 12 or 18 months of history (a third each)",
        },
        "synthetic": synthetic,
        "auc_by_history": by_age,
        "bands": _band_table(ds.y, p),
        "monotonicity_violations": check_monotone(model, ds.X[:100]),
    }
    if external_dir is not None:
        from ledgerlens.ml.risk_berka import BERKA_DIR, evaluate_berka

        folder = Path(external_dir) / BERKA_DIR
        if folder.is_dir():
            log("Berka loans: cross-validating ours vs logistic regression")
            metrics["berka"] = evaluate_berka(folder, synthetic_model=model)
    metrics["fairness"] = _fairness(ds, p, columns)
    if decided is not None:
        metrics["fairness"]["decided"] = decided
    metrics["seconds"] = round(time.perf_counter() - t0, 1)
    return metrics


def render_risk(m: dict[str, Any]) -> str:
    s = m["synthetic"]
    lines = [
        RISK_START,
        "## Risk score (issue #7B)",
        "",
        f"Model `{m['model']}`: monotone LightGBM on cash-flow features, Platt-calibrated "
        "probability of distress within 12 months, bands A–E. Reproduce: "
        "`ledgerlens evaluate-risk --doc docs/EVALUATION.md`.",
        "",
        f"**Synthetic test world** (seed {m['test_world']['seed']}, never used in training or "
        f"tuning; {m['test_world']['businesses']} businesses scored on "
        f"{m['test_world']['scored_on']}):",
        "",
        "| metric | model | generator's latent probability (ceiling) |",
        "|---|---|---|",
        f"| AUC | {s['auc']:.3f} | {s['oracle_auc']:.3f} |",
        f"| Brier | {s['brier']:.4f} | {s['oracle_brier']:.4f} |",
        f"| ECE (10 equal-count bins) | {s['ece']:.4f} | |",
        f"| mean prediction / base rate | {s['mean_prediction']:.3f} / {s['base_rate']:.3f} | |",
        "",
        "AUC by history seen: "
        + ", ".join(f"{k}: {v:.3f}" for k, v in m["auc_by_history"].items())
        + ".",
        "",
        "| band | businesses | mean probability | observed distress |",
        "|---|---|---|---|",
    ]
    for b in m["bands"]:
        mp = "–" if b["mean_probability"] is None else f"{b['mean_probability']:.3f}"
        ob = "–" if b["observed_distress"] is None else f"{b['observed_distress']:.3f}"
        lines.append(f"| {b['band']} | {b['businesses']} | {mp} | {ob} |")
    viol = sum(m["monotonicity_violations"].values())
    lines += [
        "",
        f"Monotonicity: {viol} violations over "
        f"{len(m['monotonicity_violations'])} constrained features swept across their "
        "range on 100 test businesses.",
        "",
    ]
    if "berka" in m:
        b = m["berka"]
        lines += [
            f"**Real loans (PKDD'99 Berka)**: {b['loans']} loans, {b['bad']} bad (status B/D); "
            f"{b['split']}.",
            "",
            "| model | AUC (mean ± sd over repeats) |",
            "|---|---|",
            f"| ours: same features + monotone LightGBM, refit per fold | "
            f"{b['lightgbm_auc_mean']:.3f} ± {b['lightgbm_auc_sd']:.3f} |",
            f"| logistic regression on simple aggregates ({', '.join(b['baseline_features'])}) | "
            f"{b['logreg_auc_mean']:.3f} ± {b['logreg_auc_sd']:.3f} |",
        ]
        if "synthetic_model_auc_no_refit" in b:
            lines.append(
                f"| the synthetic-trained model, no refit | "
                f"{b['synthetic_model_auc_no_refit']:.3f} |"
            )
        lines += [
            "",
            "Berka accounts are personal, not SMEs, and have no counterparty names; the "
            "LightGBM parameters were fixed before the first Berka run and not tuned on it.",
            "",
        ]
    lines += [f"Run time: {m['seconds']} s.", RISK_END]
    return "\n".join(lines) + "\n"


def render_fairness(m: dict[str, Any]) -> str:
    f = m["fairness"]
    meaning = f.get("meaning", {})
    population = f.get("population", {})
    lines = [
        FAIR_START,
        "## Fairness of risk bands, limits and offers (issue #7)",
        "",
        f"Synthetic test world (seed {m['test_world']['seed']}, {m['test_world']['businesses']} "
        f"businesses, each seen over its last 6, 12 or 18 months); model `{m['model']}`. "
        "Limits and offers come from the production decide path (rule tables, 13-week forecast, "
        "the model's probability; the world's categories stand in for enrichment), reviewed "
        "twice: the card limit "
        f"{f.get('decided', {}).get('review_gap_days', '–')} days before the history end, then "
        "limits and offers at the end. Selected = the outcome the business wants; ratio = "
        "lowest / highest group selection rate (four-fifths rule: ≥ 0.8). Reproduce: "
        "`ledgerlens fairness --doc docs/EVALUATION.md`.",
        "",
        "| decision | selected means | judged on |",
        "|---|---|---|",
    ]
    for dec in f["decisions"]:
        lines.append(f"| {dec} | {meaning.get(dec, '')} | {population.get(dec, '–')} |")
    decided = f.get("decided")
    if decided:
        ch = decided["card_limit_changes"]
        mv = decided.get("band_moves", {})
        lines += [
            "",
            f"Card limits at the review: {ch['raised']} raised, {ch['held']} held, "
            f"{ch['lowered']} lowered; between the two reviews the model's band got worse for "
            f"{mv.get('worse', '–')}, stayed for {mv.get('same', '–')} and improved for "
            f"{mv.get('better', '–')} businesses (mean probability "
            f"{decided.get('mean_probability_before', float('nan')):.3f} → "
            f"{decided.get('mean_probability', float('nan')):.3f}, mean |change| "
            f"{decided.get('mean_abs_probability_change', float('nan')):.3f}); of the worse "
            f"bands, {decided.get('band_worse_within_noise', '–')} rose less than the limit_bands "
            "table's minimum and kept the previous band's target. Offers made (businesses "
            "with the need): "
            + ", ".join(
                f"{p} {decided['offered'][p]} ({decided['needed'][p]})" for p in decided["offered"]
            )
            + ".",
        ]
    lines += [
        "",
        "| decision | attribute | selection-rate ratio | ≥ 0.8 | healthy-rate ratio (truth) "
        "| refused-healthy gap | reason when below 0.8 |",
        "|---|---|---|---|---|---|---|",
    ]
    for dec, attrs in f["decisions"].items():
        for attr, r in attrs.items():
            lines.append(
                f"| {dec} | {attr} | {r['selection_rate_ratio']:.3f} | "
                f"{'yes' if r['meets_four_fifths'] else 'no'} | "
                f"{r['healthy_rate_ratio_truth']:.3f} | {r['refused_healthy_rate_gap']:.3f} "
                f"| {r.get('reason', '')} |"
            )
    lines += [
        "",
        "Per group (selection rate / refused-healthy rate / selected-distressed rate / "
        "true distress rate / n; for the risk band also the mean predicted probability, for "
        "the others the most common refusal code):",
        "",
    ]
    for dec, attrs in f["decisions"].items():
        for attr, r in attrs.items():
            cells = "; ".join(
                f"{g} "
                + "/".join(_rate(v[k]) for k in _GROUP_RATES)
                + f"/{v['count']}"
                + _group_extra(v)
                for g, v in sorted(r["groups"].items())
            )
            lines.append(f"- {dec} × {attr}: {cells}")
    lines.append(FAIR_END)
    return "\n".join(lines) + "\n"


_GROUP_RATES = (
    "selection_rate",
    "refused_healthy_rate",
    "selected_distressed_rate",
    "distress_rate",
)


def _group_extra(v: dict[str, Any]) -> str:
    if v.get("mean_probability") is not None:
        return f" (p̄ {v['mean_probability']:.2f})"
    if v.get("main_refusal"):
        return f" ({v['main_refusal']} {v['main_refusal_share']:.0%})"
    return ""


def _rate(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def update_doc_block(path: Path, block: str, start: str, end: str) -> Path:
    """Replace the marked block in ``path`` (append when absent); other sections untouched."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Evaluation\n"
    i, j = text.find(start), text.find(end)
    if i != -1 and j > i:
        text = text[:i] + block.rstrip("\n") + text[j + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path
