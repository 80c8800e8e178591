"""Benchmark: transfers + recurring series per business over a synthetic world.

Target (issue #4): a few ms per business of ~5,000 transactions. The world (200 businesses x
18 months; ``quick``: 20 x 6) is written as canonical CSV and read back with the production
parser outside the timed region; the timed region is ``match_transfers`` followed by
``detect_recurring`` (with the transfer matches) for each business, in one process.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path


def _time_business(data, rates) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from ledgerlens.enrich.recurring import detect_recurring
    from ledgerlens.enrich.transfers import match_transfers

    as_of = max(t.booking_date for t in data.transactions)
    t0 = time.perf_counter()
    pairs = match_transfers(data.transactions, data.accounts, fx_rates=rates)
    t1 = time.perf_counter()
    detect_recurring(data.transactions, as_of=as_of, country=data.country, transfers=pairs)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def run(quick: bool = False) -> dict[str, float | int | str]:
    from ledgerlens.enrich.transfers import EcbRates
    from ledgerlens.ml.synth_data import iter_business_data, write_synthetic_world

    n, months = (20, 6) if quick else (200, 18)
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic_world(n, months, 20261204, Path(tmp))
        businesses = list(iter_business_data(Path(tmp)))
    rates = EcbRates.load()
    for b in businesses[:3]:  # warm caches (holiday tables, regexes)
        _time_business(b, rates)
    per_biz, transfer_s, recurring_s = [], 0.0, 0.0
    for b in businesses:
        tt, tr = _time_business(b, rates)
        transfer_s += tt
        recurring_s += tr
        per_biz.append((len(b.transactions), tt + tr))
    total = transfer_s + recurring_s
    sizes = [k for k, _ in per_biz]
    ms = sorted(1000 * s for _, s in per_biz)
    # per-1,000-transaction cost from a least-squares line through (size, time)
    mean_k, mean_t = statistics.fmean(sizes), statistics.fmean(t for _, t in per_biz)
    var = sum((k - mean_k) ** 2 for k in sizes) or 1.0
    slope = sum((k - mean_k) * (t - mean_t) for k, t in per_biz) / var
    biggest = max(per_biz)
    return {
        "name": "enrich_transfers_recurring",
        "businesses": n,
        "months": months,
        "transactions": sum(sizes),
        "transactions_per_business_mean": round(statistics.fmean(sizes)),
        "businesses_per_s": round(n / total, 1),
        "transactions_per_s": round(sum(sizes) / total),
        "ms_per_business_p50": round(ms[len(ms) // 2], 2),
        "ms_per_business_p95": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "transfers_ms_per_business": round(1000 * transfer_s / n, 2),
        "recurring_ms_per_business": round(1000 * recurring_s / n, 2),
        "ms_per_5000_transactions_fitted": round(1000 * (mean_t + slope * (5000 - mean_k)), 2),
        "largest_business_transactions": biggest[0],
        "largest_business_ms": round(1000 * biggest[1], 2),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
