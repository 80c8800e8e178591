"""Benchmark: risk scoring latency per business, in-process (issue #7, must-show 7).

Target: p99 ≤ 5 ms per business for ``assess_risk`` — features from the business's
transactions, the LightGBM score with per-feature contributions, calibration, band and reasons
(parsing excluded). Also reported: the model step alone (features precomputed). Businesses come
from a synthetic world of 18 months (``quick``: 12 businesses × 12 months); each is scored
several times and every call is timed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path


def run(quick: bool = False) -> dict[str, float | int | str]:
    import numpy as np

    from ledgerlens.adapters.risk_store import load_risk_model
    from ledgerlens.analyze.risk.features import build_features
    from ledgerlens.analyze.risk.service import assess_features, assess_risk
    from ledgerlens.ml.synth_data import iter_business_data, write_synthetic_world

    n, months, repeats = (12, 12, 3) if quick else (60, 18, 5)
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic_world(n, months, 424242, Path(tmp), workers=1)
        data = [list(b.transactions) for b in iter_business_data(Path(tmp))]
    model, version = load_risk_model()
    for txs in data[:3]:
        assess_risk(txs, model, version)  # warm-up (first LightGBM call allocates)
    full, model_only = [], []
    feats = [build_features(txs) for txs in data]
    for _ in range(repeats):
        for txs, f in zip(data, feats, strict=True):
            t0 = time.perf_counter_ns()
            assess_risk(txs, model, version)
            t1 = time.perf_counter_ns()
            assess_features(f, model, version)
            t2 = time.perf_counter_ns()
            full.append(t1 - t0)
            model_only.append(t2 - t1)
    a, b = np.asarray(full) / 1e6, np.asarray(model_only) / 1e6
    lines = [len(t) for t in data]
    return {
        "name": "risk",
        "model": f"risk@{version}",
        "businesses": n,
        "months": months,
        "lines_per_business_median": int(np.median(lines)),
        "lines_per_business_max": int(max(lines)),
        "calls": int(a.size),
        "assess_p50_ms": round(float(np.percentile(a, 50)), 3),
        "assess_p99_ms": round(float(np.percentile(a, 99)), 3),
        "assess_max_ms": round(float(a.max()), 3),
        "model_only_p50_ms": round(float(np.percentile(b, 50)), 3),
        "model_only_p99_ms": round(float(np.percentile(b, 99)), 3),
        "target_assess_p99_ms": 5.0,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
