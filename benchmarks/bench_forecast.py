"""Benchmark: 91-day forecasts with weekly shortfall probabilities, and Prophet in the same run.

Target (issue #5): >= 200 businesses/s on the 2-core machine, and >= 20x faster than Prophet
with a lower MASE. Inputs (history arrays + known items from the world's truth) are built first
and timed separately; the forecast rate counts ``forecast()`` alone (simulation, bands, weekly
risk, calibration), single process and on a 2-process pool. Prophet and LedgerLens are scored on
the same businesses at the history end: MASE of the consolidated balance over 28 days.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _forecast_chunk(inputs: list) -> int:  # type: ignore[type-arg]
    from ledgerlens.analyze.cashflow import forecast

    for inp in inputs:
        forecast(inp)
    return len(inputs)


def run(quick: bool = False) -> dict[str, float | int | str]:
    import numpy as np

    from ledgerlens.analyze.cashflow import forecast
    from ledgerlens.ml.forecast_baselines import available, prophet
    from ledgerlens.ml.forecast_eval import mase
    from ledgerlens.ml.forecast_world import iter_cases
    from ledgerlens.ml.synth_data import write_synthetic_world

    n, n_prophet = (60, 10) if quick else (400, 40)
    with tempfile.TemporaryDirectory() as tmp:
        world = write_synthetic_world(n, 18, 777, Path(tmp))
        t0 = time.perf_counter()
        cases = list(iter_cases(world, origins_back_days=(0,)))
        t_inputs = time.perf_counter() - t0
    inputs = [c.inp for c in cases]
    forecast(inputs[0])  # warm caches (calibration file, numpy)
    t0 = time.perf_counter()
    fcs = [forecast(inp) for inp in inputs]
    t_single = time.perf_counter() - t0
    chunks = [inputs[i::2] for i in range(2)]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_forecast_chunk, [c[:2] for c in chunks]))  # start the workers
        t0 = time.perf_counter()
        done = sum(pool.map(_forecast_chunk, chunks))
        t_pool = time.perf_counter() - t0

    ours, theirs, t_prophet = [], [], 0.0
    have_prophet = available("prophet")
    for case, fc in list(zip(cases, fcs, strict=True))[:n_prophet]:
        p50 = np.array([b.p50_minor for b in fc.consolidated], float)
        ours.append(mase(case.actual_consolidated, p50, case.history_consolidated))
        if have_prophet:
            y = case.history_consolidated[~np.isnan(case.history_consolidated)]
            t1 = time.perf_counter()
            pp, _, _ = prophet(y, case.origin, 91)
            t_prophet += time.perf_counter() - t1
            theirs.append(mase(case.actual_consolidated, pp, case.history_consolidated))
    per_ours = t_single / len(inputs)
    out: dict[str, float | int | str] = {
        "name": "forecast",
        "businesses": len(inputs),
        "horizon_days": 91,
        "input_build_ms_per_business": round(1000 * t_inputs / len(inputs), 2),
        "forecast_ms_per_business": round(1000 * per_ours, 3),
        "businesses_per_s_single_process": round(len(inputs) / t_single, 1),
        "businesses_per_s_2_processes": round(done / t_pool, 1),
        "mase_ledgerlens_subset": round(float(np.nanmean(ours)), 4),
        "subset_businesses": len(ours),
    }
    if have_prophet and theirs:
        per_p = t_prophet / len(theirs)
        out.update(
            {
                "prophet_ms_per_business": round(1000 * per_p, 1),
                "mase_prophet_subset": round(float(np.nanmean(theirs)), 4),
                "speedup_vs_prophet": round(per_p / per_ours, 1),
                "mase_ratio_ledgerlens_to_prophet": round(
                    float(np.nanmean(ours)) / float(np.nanmean(theirs)), 3
                ),
            }
        )
    else:
        out["prophet"] = "not installed"
    return out


if __name__ == "__main__":  # pragma: no cover
    json.dump(run("--quick" in sys.argv), sys.stdout, indent=2)
