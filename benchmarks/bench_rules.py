"""Benchmark: decision-table evaluation latency, and a whole business's decisions.

Target (issue #7, must-show 7): rules evaluation ≤ 50 µs per table, in-process, through one
``ZenEngine(loader)`` with pre-parsed content. Each table is evaluated with contexts cycling
over its bands and products; p50/p99 per table from per-call timings. Also: limits + offers +
recommendations for one business from ready signals (all rule look-ups included).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

_CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "risk_bands": [{"probability_of_distress": p} for p in (0.01, 0.07, 0.15, 0.3, 0.6)],
    "product_eligibility": [
        {"product": p, "risk_band": b, "history_months": m}
        for p in ("overdraft", "term_loan", "fx_account", "unknown")
        for b in "ABCDE"
        for m in (4, 18)
    ],
    "risk_caps": [
        {"product": p, "risk_band": b}
        for p in ("overdraft", "credit_line", "invoice_financing", "seasonal_line", "term_loan")
        for b in "ABCDE"
    ],
    "regulatory_caps": [{"currency": c} for c in ("EUR", "GBP", "USD", "CHF")],
    "limit_bands": [
        {"limit_kind": k, "risk_band": b} for k in ("card", "payment") for b in "ABCDE"
    ],
    "pricing": [
        {"product": p, "risk_band": b}
        for p in ("overdraft", "credit_line", "invoice_financing", "seasonal_line", "term_loan")
        for b in "ABCDE"
    ],
}


def _pct(ns: list[int], q: float) -> float:
    s = sorted(ns)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000


def run(quick: bool = False) -> dict[str, Any]:
    from ledgerlens.decide.limits import decide_limits
    from ledgerlens.decide.model import BusinessSignals
    from ledgerlens.decide.offers import decide_offers
    from ledgerlens.decide.recommend import load_catalog, recommend
    from ledgerlens.decide.risk_proxy import proxy_risk
    from ledgerlens.decide.rules import TABLES, DecisionRules

    rules = DecisionRules.load()
    n = 2_000 if quick else 20_000
    out: dict[str, Any] = {"calls_per_table": n, "target_us": 50}
    worst = 0.0
    for name in TABLES:
        ctxs = _CONTEXTS[name]
        for c in ctxs[:50]:  # warm-up
            rules.evaluate(name, c)
        ns = []
        for i in range(n):
            c = ctxs[i % len(ctxs)]
            t0 = time.perf_counter_ns()
            rules.evaluate(name, c)
            ns.append(time.perf_counter_ns() - t0)
        out[f"{name}_p50_us"] = round(_pct(ns, 0.5), 2)
        out[f"{name}_p99_us"] = round(_pct(ns, 0.99), 2)
        worst = max(worst, out[f"{name}_p99_us"])
    out["worst_table_p99_us"] = worst
    out["meets_target"] = worst <= 50

    s = BusinessSignals(
        "b1",
        "EUR",
        18,
        5_000_000,
        4_000_000,
        3_000_000,
        1_500_000,
        balance_minor=20_000_000,
        seasonality_ratio=0.4,
        low_months=(1, 2),
        forecast_shortfall_probability=0.4,
        employees=7,
    )
    catalog = load_catalog()
    m = 200 if quick else 2_000
    ns = []
    for _ in range(m):
        t0 = time.perf_counter_ns()
        risk = proxy_risk(s, rules)
        decide_limits(s, risk, rules, {"card": 1_000_000})
        decide_offers(s, risk, rules)
        recommend(s, risk, rules, catalog, consented=True)
        ns.append(time.perf_counter_ns() - t0)
    out["business_decisions_p50_ms"] = round(_pct(ns, 0.5) / 1000, 3)
    out["business_decisions_p99_ms"] = round(_pct(ns, 0.99) / 1000, 3)
    return out


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
