"""Benchmark: anomaly scoring throughput on one core, and card authorization latency.

Targets (issue #6, must-show 3): ≥ 100,000 transactions/s scored (features, rules, misuse,
the ECOD model, fusion and budget; parsing excluded) in one process; card authorization
p99 ≤ 2 ms in-process. ``run(quick=True)`` uses a smaller world and fewer authorizations.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def _scoring(quick: bool) -> dict[str, float | int]:
    from ledgerlens.analyze.anomalies import detect_anomalies
    from ledgerlens.ml.synth_data import iter_business_data, write_synthetic_world

    n, months = (10, 6) if quick else (60, 12)
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic_world(n, months, 515151, Path(tmp), workers=1)
        data = [b.transactions for b in iter_business_data(Path(tmp))]
    lines = sum(map(len, data))
    best = float("inf")
    for _ in range(1 if quick else 3):  # best of three: the machine is shared
        t0 = time.perf_counter()
        for txs in data:
            detect_anomalies(txs)
        best = min(best, time.perf_counter() - t0)
    return {
        "businesses": n,
        "months": months,
        "transactions": lines,
        "scoring_seconds": round(best, 3),
        "transactions_per_s": round(lines / best),
    }


def _authorization(quick: bool) -> dict[str, float | int]:
    import numpy as np

    from ledgerlens.core.money import Money
    from ledgerlens.decide.card_policies import compile_policy, load_example_policy

    policy = compile_policy(load_example_policy())
    cards = ["**** 1111", "**** 2222", "**** 3333", "**** 4444", "**** 9999"]
    merchants = [("SHELL", "5541"), ("GROSVENOR CASINO", "7995"), ("STAPLES", "5943"),
                 ("WAGAMAMA", "5812"), ("APPLE STORE", "5732"), ("UNKNOWN", "")]  # fmt: skip
    start = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    n = 20_000 if quick else 200_000
    ns = np.empty(n, dtype=np.int64)
    spent = Money(40_000, "EUR")
    for i in range(n):
        m, mcc = merchants[i % len(merchants)]
        amount = Money(1_000 + (i * 7919) % 40_000, "EUR")
        when = start + timedelta(minutes=(i * 37) % 20_000)
        t0 = time.perf_counter_ns()
        policy.authorize(cards[i % len(cards)], m, mcc, amount, when, spent_this_month=spent)
        ns[i] = time.perf_counter_ns() - t0
    return {"authorizations": n, "auth_p50_us": round(float(np.percentile(ns, 50)) / 1000, 2),
            "auth_p99_us": round(float(np.percentile(ns, 99)) / 1000, 2),
            "auth_max_us": round(float(ns.max()) / 1000, 2)}  # fmt: skip


def run(quick: bool = False) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {"name": "anomalies"}
    out.update(_scoring(quick))
    out.update(_authorization(quick))
    out["target_transactions_per_s"] = 100_000
    out["target_auth_p99_us"] = 2_000
    return out


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
