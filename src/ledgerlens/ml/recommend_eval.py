"""Recommendations judged against the synthetic world's truth of which business needs what.

The world's ``truth/products.csv`` says, per business, which products it needs (an FX account
for exporters converting at the bank's margin, a seasonal line or overdraft for a coming gap,
invoice finance, savings for idle cash, expense cards). We run the same path as production —
signals from the canonical CSV lines, the 13-week forecast, the risk proxy, the rule tables and
the catalog — and count, per product, precision (shown and needed / shown) and recall (shown
and needed / needed). Categories come from the world's truth file, standing in for the
enrichment stage (macro-F1 0.98; see docs/EVALUATION.md); ``use_categories=False`` shows the
rougher result without any.

    python -m ledgerlens.ml.recommend_eval --businesses 120 --seed 7070
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["TRUTH_NAMES", "evaluate_dir", "evaluate_world", "render"]

# catalog code -> the generator's product name (products with no truth are not scored)
TRUTH_NAMES: dict[str, str] = {
    "fx_account": "fx_account",
    "seasonal_line": "seasonal_credit_line",
    "overdraft": "overdraft",
    "invoice_financing": "invoice_finance",
    "savings_sweep": "savings_account",
    "expense_cards": "expense_cards",
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_businesses(path: Path) -> list[tuple[str, str, list[Any]]]:
    """(business id, most common currency, transactions) of one canonical CSV, every field
    the parser reads kept (cards, employees, original amounts)."""
    from ledgerlens.core.ledger import Transaction
    from ledgerlens.ingest.formats.canonical_csv import read_canonical_transactions

    txs: dict[str, list[Transaction]] = defaultdict(list)
    for t in read_canonical_transactions(path):
        txs[t.business_id].append(t)
    out = []
    for bid, rows in sorted(txs.items()):
        counts: dict[str, int] = defaultdict(int)
        for t in rows:
            counts[t.currency] += 1
        out.append((bid, max(sorted(counts), key=lambda c: counts[c]), rows))
    return out


def evaluate_dir(world_dir: Path, *, use_categories: bool = True) -> dict[str, Any]:
    """Score every business of a written world (``write_world(..., {"csv"})``)."""
    from ledgerlens.core.ledger import Account, AccountType
    from ledgerlens.decide.fx_tips import fx_tips
    from ledgerlens.decide.recommend import load_catalog, recommend
    from ledgerlens.decide.risk_proxy import proxy_risk
    from ledgerlens.decide.rules import DecisionRules
    from ledgerlens.decide.service import forecast_business
    from ledgerlens.decide.signals import business_signals
    from ledgerlens.enrich.transfers import EcbRates

    rules, catalog, fx = DecisionRules.load(), load_catalog(), EcbRates.load()
    truth: dict[str, set[str]] = defaultdict(set)
    for r in _read(world_dir / "truth" / "products.csv"):
        truth[r["business_id"]].add(r["product"])
    cats: dict[str, str] = {}
    if use_categories:
        cats = {
            r["transaction_id"]: r["category"]
            for r in _read(world_dir / "truth" / "transactions_truth.csv")
            if r["hidden_future"] == "0"
        }
    acc_rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in _read(world_dir / "accounts.csv"):
        acc_rows[r["business_id"]].append(r)
    base = {r["business_id"]: r["base_currency"] for r in _read(world_dir / "businesses.csv")}
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    shown_total = tips_total = n = 0
    t0 = time.perf_counter()
    for path in sorted((world_dir / "csv").glob("*.csv")):
        for bid, ccy, txs in load_businesses(path):
            n += 1
            accounts = [
                Account(
                    r["account_id"],
                    bid,
                    r["identifier"],
                    r["currency"],
                    AccountType(r["account_type"]),
                )
                for r in acc_rows[bid]
            ]
            bc = base.get(bid, ccy)
            as_of = max(t.booking_date for t in txs)
            rates = {
                a.currency: (fx.rate(a.currency, bc, as_of) or (1.0,))[0]
                for a in accounts
                if a.currency != bc
            }
            fc = forecast_business(bid, bc, accounts, txs, fx_to_base=rates)
            s = business_signals(bid, bc, accounts, txs, categories=cats, forecast=fc, fx_rates=fx)
            risk = proxy_risk(s, rules)
            recs = recommend(s, risk, rules, catalog, consented=True)
            shown_total += sum(1 for d in recs if d.outputs["shown"])
            tips_total += len(fx_tips(txs, accounts, fx))
            need = truth.get(bid, set()) & set(TRUTH_NAMES.values())
            # shown: what the owner sees; detected: the need seen, before risk eligibility,
            # product groups and frequency caps hold some of it back
            shown = {
                TRUTH_NAMES[d.subject]
                for d in recs
                if d.outputs["shown"] and d.subject in TRUTH_NAMES
            }
            seen = {
                TRUTH_NAMES[d.subject]
                for d in recs
                if d.subject in TRUTH_NAMES
                and "REC_NO_NEED" not in d.reason_codes
                and "REC_LOW_PROPENSITY" not in d.reason_codes
            }
            for key, got in (("", shown), ("detected_", seen)):
                for p in TRUTH_NAMES.values():
                    tp[key + p] += p in got and p in need
                    fp[key + p] += p in got and p not in need
                    fn[key + p] += p in need and p not in got
    per: dict[str, dict[str, float | int]] = {}
    for p in TRUTH_NAMES.values():
        per[p] = {
            "support": tp[p] + fn[p],
            "shown": tp[p] + fp[p],
            "precision": _ratio(tp[p], tp[p] + fp[p]),
            "recall": _ratio(tp[p], tp[p] + fn[p]),
            "detected_precision": _ratio(
                tp["detected_" + p], tp["detected_" + p] + fp["detected_" + p]
            ),
            "detected_recall": _ratio(
                tp["detected_" + p], tp["detected_" + p] + fn["detected_" + p]
            ),
        }
    sums = {
        k: sum(v for p, v in d.items() if not p.startswith("detected_"))
        for k, d in (("tp", tp), ("fp", fp), ("fn", fn))
    }
    dsums = {
        k: sum(v for p, v in d.items() if p.startswith("detected_"))
        for k, d in (("tp", tp), ("fp", fp), ("fn", fn))
    }
    return {
        "businesses": n,
        "categories": "truth (stand-in for enrichment)" if use_categories else "none",
        "per_product": per,
        "micro_precision": _ratio(sums["tp"], sums["tp"] + sums["fp"]),
        "micro_recall": _ratio(sums["tp"], sums["tp"] + sums["fn"]),
        "detected_micro_precision": _ratio(dsums["tp"], dsums["tp"] + dsums["fp"]),
        "detected_micro_recall": _ratio(dsums["tp"], dsums["tp"] + dsums["fn"]),
        "shown_per_business": round(shown_total / max(n, 1), 2),
        "not_scored": ["card_controls (issue 6's card policies decide it)"],
        "seconds": round(time.perf_counter() - t0, 1),
        "fx_tips": tips_total,
    }


def _ratio(a: int, b: int) -> float:
    return round(a / b, 3) if b else 0.0


def evaluate_world(businesses: int = 120, seed: int = 7070, months: int = 18) -> dict[str, Any]:
    """Generate an independent world (a seed never used to tune the catalog) and score it."""
    from ledgerlens.synth import generate_world, write_world

    world = generate_world(n_businesses=businesses, months=months, seed=seed)
    with tempfile.TemporaryDirectory(prefix="ledgerlens-rec-") as tmp:
        write_world(world, Path(tmp), {"csv"})
        res = evaluate_dir(Path(tmp))
        res["without_categories"] = {
            k: v
            for k, v in evaluate_dir(Path(tmp), use_categories=False).items()
            if k in ("micro_precision", "micro_recall", "per_product")
        }
    res["seed"] = seed
    return res


def render(res: dict[str, Any]) -> str:
    lines = [
        f"Recommendations vs truth: {res['businesses']} businesses, seed {res.get('seed')}, "
        f"categories: {res['categories']}",
        "| product | needed | shown | precision | recall | need detected: precision | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for p, m in res["per_product"].items():
        lines.append(
            f"| {p} | {m['support']} | {m['shown']} | {m['precision']:.3f} | "
            f"{m['recall']:.3f} | {m['detected_precision']:.3f} | "
            f"{m['detected_recall']:.3f} |"
        )
    lines.append(
        f"shown: micro precision {res['micro_precision']:.3f}, recall "
        f"{res['micro_recall']:.3f}; need detected: precision "
        f"{res['detected_micro_precision']:.3f}, recall {res['detected_micro_recall']:.3f};"
        f" {res['shown_per_business']} shown per business, {res['fx_tips']} FX tips"
    )
    wc = res.get("without_categories")
    if wc:
        lines.append(
            f"without categories: precision {wc['micro_precision']:.3f}, "
            f"recall {wc['micro_recall']:.3f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    args = dict(zip(sys.argv[1::2], sys.argv[2::2], strict=False))
    out = evaluate_world(int(args.get("--businesses", 120)), int(args.get("--seed", 7070)))
    print(render(out))
    print(json.dumps(out, indent=2))
