"""Judge transfer matching and recurring-series detection against the synthetic world's truth.

Both return flat-ish metric dicts (JSON-ready) that the CLI prints and the integration test
asserts on. The matching rules are part of the result so that a number is never read without
its definition:

- **Transfers** — a predicted pair is correct when both of its legs carry the same true
  ``transfer_pair_id``; recall is over the true pairs whose two legs are both in the visible
  history. Category accuracy is over the correct pairs.
- **Recurring series** — a predicted series matches a true series when their member sets (history
  lines only) have Jaccard ≥ ``JACCARD_MATCH``; each true series is matched at most once (best
  Jaccard first). True series with fewer than ``MIN_TRUE_MEMBERS`` history lines cannot be seen
  as recurring (two points make no cadence) and are excluded from recall, reported apart.
  Transaction level: a line is positive when it belongs to some series (true or predicted).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from ledgerlens.ml.synth_data import BusinessData

__all__ = [
    "DOC_END",
    "DOC_START",
    "JACCARD_MATCH",
    "MIN_TRUE_MEMBERS",
    "evaluate_recurring",
    "evaluate_transfers",
    "render_markdown",
    "score_recurring",
    "score_transfers",
    "update_doc_block",
]

JACCARD_MATCH = 0.5
MIN_TRUE_MEMBERS = 3
TUNING_SEED = 7  # the only world the rules were tuned on; evaluations use other seeds


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 1.0


def _f1(p: float, r: float) -> float:
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


def score_transfers(data: BusinessData, matches: Iterable[object]) -> Counter[str]:
    """Counts for one business: tp, fp, true pairs, category hits, per category."""
    truth = data.truth
    legs_by_pair: dict[str, list[str]] = {}
    for tid, pair in truth.transfer_pair.items():
        legs_by_pair.setdefault(pair, []).append(tid)
    c: Counter[str] = Counter()
    c["true_pairs"] = sum(1 for legs in legs_by_pair.values() if len(legs) == 2)
    for m in matches:
        a, b = m.out_transaction_id, m.in_transaction_id  # type: ignore[attr-defined]
        cat = m.category  # type: ignore[attr-defined]
        c["predicted"] += 1
        pa, pb = truth.transfer_pair.get(a), truth.transfer_pair.get(b)
        if pa is not None and pa == pb:
            c["tp"] += 1
            c["category_ok"] += int(truth.category.get(a) == cat)
            c[f"tp:{cat}"] += 1
        else:
            c["fp"] += 1
            c[f"fp:{cat}"] += 1
    return c


def evaluate_transfers(businesses: Iterable[BusinessData], *, fx_rates: object = None) -> dict:
    """Run ``match_transfers`` per business and score against the truth."""
    from ledgerlens.enrich.transfers import EcbRates, match_transfers

    rates = fx_rates if fx_rates is not None else EcbRates.load()
    total: Counter[str] = Counter()
    n_biz = n_tx = 0
    seconds = 0.0
    for data in businesses:
        t0 = time.perf_counter()
        matches = match_transfers(data.transactions, data.accounts, fx_rates=rates)  # type: ignore[arg-type]
        seconds += time.perf_counter() - t0
        total += score_transfers(data, matches)
        n_biz += 1
        n_tx += len(data.transactions)
    p = _ratio(total["tp"], total["predicted"])
    r = _ratio(total["tp"], total["true_pairs"])
    cats = sorted({k.split(":", 1)[1] for k in total if ":" in k})
    return {
        "task": "transfers",
        "matching_rule": "a predicted pair is correct when both legs share one true pair id",
        "businesses": n_biz,
        "transactions": n_tx,
        "true_pairs": total["true_pairs"],
        "predicted_pairs": total["predicted"],
        "true_positives": total["tp"],
        "precision": p,
        "recall": r,
        "f1": _f1(p, r),
        "category_accuracy": _ratio(total["category_ok"], total["tp"]),
        "per_category": {c: {"tp": total[f"tp:{c}"], "fp": total[f"fp:{c}"]} for c in cats},
        "ms_per_business": round(1000 * seconds / max(n_biz, 1), 3),
    }


def score_recurring(data: BusinessData, series: Iterable[object]) -> Counter[str]:
    """Series-level and transaction-level counts for one business."""
    true_sets: dict[str, set[str]] = {}
    for tid, sid in data.truth.recurring_series.items():
        true_sets.setdefault(sid, set()).add(tid)
    eligible = {s: m for s, m in true_sets.items() if len(m) >= MIN_TRUE_MEMBERS}
    preds = [set(s.member_ids) for s in series]  # type: ignore[attr-defined]
    c: Counter[str] = Counter()
    c["true_series"] = len(eligible)
    c["true_series_too_short"] = len(true_sets) - len(eligible)
    c["predicted"] = len(preds)
    cand: list[tuple[float, int, str]] = []
    for k, p in enumerate(preds):
        for sid, members in true_sets.items():
            inter = len(p & members)
            if inter:
                j = inter / len(p | members)
                if j >= JACCARD_MATCH:
                    cand.append((j, k, sid))
    cand.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_p: set[int] = set()
    used_t: set[str] = set()
    for j, k, sid in cand:
        if k in used_p or sid in used_t:
            continue
        used_p.add(k)
        used_t.add(sid)
        c["tp_pred"] += 1  # a predicted series matching any true one (short ones included)
        c["tp_true"] += int(sid in eligible)
        c["jaccard_x1000"] += int(1000 * j)
    in_pred = set().union(*preds) if preds else set()
    in_true = set(data.truth.recurring_series)
    c["tx_tp"] = len(in_pred & in_true)
    c["tx_fp"] = len(in_pred - in_true)
    c["tx_fn"] = len(in_true - in_pred)
    return c


def evaluate_recurring(
    businesses: Iterable[BusinessData], *, as_of: date | None = None, fx_rates: object = None
) -> dict:
    """Run ``detect_recurring`` per business (as of its last booking) and score it.

    Transfers are matched first, as the pipeline does, so that the receiving legs of
    own-account moves are not mistaken for income series (their time is not counted here).
    """
    from ledgerlens.enrich.recurring import detect_recurring
    from ledgerlens.enrich.transfers import EcbRates, match_transfers

    rates = fx_rates if fx_rates is not None else EcbRates.load()

    total: Counter[str] = Counter()
    n_biz = n_tx = 0
    seconds = 0.0
    for data in businesses:
        day = as_of or max((t.booking_date for t in data.transactions), default=date.today())
        pairs = match_transfers(data.transactions, data.accounts, fx_rates=rates)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        series = detect_recurring(data.transactions, as_of=day, country=data.country,
                                  transfers=pairs)  # fmt: skip
        seconds += time.perf_counter() - t0
        total += score_recurring(data, series)
        n_biz += 1
        n_tx += len(data.transactions)
    p = _ratio(total["tp_pred"], total["predicted"])
    r = _ratio(total["tp_true"], total["true_series"])
    tp, fp, fn = total["tx_tp"], total["tx_fp"], total["tx_fn"]
    tp_, fp_ = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "task": "recurring",
        "matching_rule": f"predicted and true member sets (history lines) with Jaccard >= "
        f"{JACCARD_MATCH}, one-to-one; true series with < {MIN_TRUE_MEMBERS} history lines "
        f"excluded from recall",
        "businesses": n_biz,
        "transactions": n_tx,
        "true_series": total["true_series"],
        "true_series_too_short": total["true_series_too_short"],
        "predicted_series": total["predicted"],
        "matched": total["tp_pred"],
        "precision": p,
        "recall": r,
        "f1": _f1(p, r),
        "mean_jaccard_of_matches": round(
            total["jaccard_x1000"] / 1000 / max(total["tp_pred"], 1), 4
        ),
        "transaction_precision": tp_,
        "transaction_recall": fp_,
        "transaction_f1": _f1(tp_, fp_),
        "ms_per_business": round(1000 * seconds / max(n_biz, 1), 3),
    }


DOC_START = "<!-- transfers-recurring:start -->"
DOC_END = "<!-- transfers-recurring:end -->"


def render_markdown(transfers: dict, recurring: dict) -> str:
    """The "Transfers and recurring series" section of docs/EVALUATION.md (between markers)."""
    t, r = transfers, recurring
    tx_prf = f"{r['transaction_precision']} / {r['transaction_recall']} / {r['transaction_f1']}"
    counts = f"{r['true_series']} / {r['true_series_too_short']} / {r['predicted_series']}"
    cats = "\n".join(
        f"| {c} | {v['tp']} | {v['fp']} |" for c, v in sorted(t["per_category"].items())
    )
    return f"""{DOC_START}
## Transfers and recurring series

World: {t.get("world", "")}; {t["businesses"]} businesses, {t["transactions"]} history lines,
read back from canonical CSV. Rules: `rule:transfers` and `rule:recurring` (`ledgerlens.enrich`),
tuned on seed {TUNING_SEED} only. Reproduce:
`ledgerlens evaluate-enrichment --doc docs/EVALUATION.md` (default: 40 businesses x 18 months,
seed 4242).

**Transfers** — {t["matching_rule"]}.

| metric | value | target |
|---|---|---|
| precision | {t["precision"]} | ≥ 0.99 |
| recall | {t["recall"]} | ≥ 0.99 |
| category accuracy (on correct pairs) | {t["category_accuracy"]} | |
| true / predicted pairs | {t["true_pairs"]} / {t["predicted_pairs"]} | |

| category | correct pairs | wrong pairs |
|---|---|---|
{cats}

**Recurring series** — {r["matching_rule"]}.

| metric | value | target |
|---|---|---|
| series precision | {r["precision"]} | |
| series recall | {r["recall"]} | |
| series F1 | {r["f1"]} | ≥ 0.9 |
| mean Jaccard of matched series | {r["mean_jaccard_of_matches"]} | |
| transaction precision / recall / F1 | {tx_prf} | |
| true series (≥ {MIN_TRUE_MEMBERS} lines) / too short / predicted | {counts} | |

Known limits: direct debits every 2–3 days (fresh-food suppliers) have no cadence here and are
missed (most of the transaction-level recall gap: they are long series); a yearly payment seen
twice is not yet a series; receipts are series only with exact amounts (salary, rent received),
so payouts and interest that recur with varying amounts are left as income flows.

Speed in this run (single process, includes Python object overhead): transfers
{t["ms_per_business"]} ms and recurring {r["ms_per_business"]} ms per business; the benchmark
is `python -m benchmarks.run --only enrich`.
{DOC_END}
"""


def update_doc_block(path: Path, block: str) -> Path:
    """Replace our marked block in ``path`` (append it when absent); other sections untouched."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Evaluation\n"
    start, end = text.find(DOC_START), text.find(DOC_END)
    if start != -1 and end > start:
        text = text[:start] + block.rstrip("\n") + text[end + len(DOC_END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path
