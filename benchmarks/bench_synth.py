"""Benchmark: generate the synthetic world and write its canonical CSV (+ truth files).

Target (issue #3): 1,000 businesses x 18 months in <= 60 s on the 2-core CI machine, canonical
CSV included. ``run(quick=True)`` does 100 x 6 for a smoke run.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path


def run(quick: bool = False) -> dict[str, float | int | str]:
    from ledgerlens.synth import generate_world, write_world

    n, months = (100, 6) if quick else (1000, 18)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        world = generate_world(n, months, seed=20261130)
        t1 = time.perf_counter()
        write_world(world, Path(tmp), {"csv"})
        t2 = time.perf_counter()
    h = world.history_days
    total = sum(len(b.txns) for b in world.businesses)
    history = sum(1 for b in world.businesses for r in b.txns if r.day < h)
    seconds = t2 - t0
    return {
        "name": "synth_world",
        "businesses": n,
        "months": months,
        "seconds": round(seconds, 2),
        "generate_seconds": round(t1 - t0, 2),
        "write_seconds": round(t2 - t1, 2),
        "transactions": total,
        "history_transactions": history,
        "transactions_per_business_month": round(history / (n * months), 1),
        "transactions_per_s": round(total / seconds),
        "target_seconds": 60 if not quick else "",
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
