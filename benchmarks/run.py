"""Run the benchmarks and write one JSON and one Markdown report.

    python -m benchmarks.run [--quick] [--only NAME ...]

Each ``benchmarks/bench_<name>.py`` exposes ``run(quick: bool) -> dict`` returning flat metrics
(numbers or strings). Results go to ``benchmarks/results/<name>.json`` and a combined
``benchmarks/results/REPORT.md`` with the machine it ran on; timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _python_speed_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (best of 3): how fast this machine ran Python
    when the report was made. Absolute targets (a p99 in ms) depend on it; ratios to a peer
    measured in the same run mostly do not. The machines these run on vary by 3-5x from day
    to day, so a report says which kind of day it was."""
    best = float("inf")
    for _ in range(3):
        t0, total = time.perf_counter(), 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000, 1)


def _machine() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python_loop_2m_ms": _python_speed_ms(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--only", nargs="*", default=None, help="benchmark names (bench_<name>.py)")
    args = ap.parse_args(argv)
    names = args.only or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        t0 = time.perf_counter()
        print(f"== {name}", flush=True)
        metrics = mod.run(quick=args.quick)
        metrics["wall_s"] = round(time.perf_counter() - t0, 2)
        doc = {"benchmark": name, "quick": args.quick, "machine": _machine(), "metrics": metrics}
        (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
        for k, v in metrics.items():
            print(f"   {k}: {v}", flush=True)
    _write_markdown()
    return 0


def _write_markdown() -> None:
    lines = ["# Benchmark report", "", "Written by `python -m benchmarks.run` (`make bench`).", ""]
    for path in sorted(RESULTS.glob("*.json")):
        doc = json.loads(path.read_text())
        m = doc["machine"]
        lines += [
            f"## {doc['benchmark']}{' (quick)' if doc['quick'] else ''}",
            "",
            f"{m['when']} · Python {m['python']} · {m['cpus']} CPUs · {m['platform']}",
            "",
            "| metric | value |",
            "|---|---|",
        ]
        lines += [f"| {k} | {v} |" for k, v in doc["metrics"].items()]
        lines.append("")
    (RESULTS / "REPORT.md").write_text("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
