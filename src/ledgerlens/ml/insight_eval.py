"""Insight noise and recall on a synthetic world: replay weekly refreshes and count.

    run = replay_world(world_dir, weeks=8)
    figures = noise_recall(run)

Each business is refreshed once a week over the last ``weeks`` weeks of its history (what it
would have seen then: lines up to that day; at the history end also the open invoices and the
agreed one-off payments the bank knows of), with ranking against everything published before.
``noise_recall`` reports insights per business per week, the share of the world's true anomaly
lines in the window that a published insight cites, the share of foreseeable cash gaps warned
about at the history end, and — what ranking itself controls — the share of gaps the forecast
flagged (a week ≥ 50 %) that reached the owner.
"""

from __future__ import annotations

import csv
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ledgerlens.analyze.cashflow import OpenInvoice, ScheduledPayment
from ledgerlens.consent.model import Preferences
from ledgerlens.core.ledger import Annotation, AnnotationKind, Business
from ledgerlens.core.money import to_minor
from ledgerlens.explain.model import Insight, InsightKind
from ledgerlens.explain.ranking import rank
from ledgerlens.explain.service import BusinessSnapshot, analyze_business
from ledgerlens.ml.synth_data import BusinessData, iter_business_data

__all__ = ["WorldRun", "noise_recall", "replay_world"]


@dataclass
class WorldRun:
    businesses: list[BusinessData]
    weeks: int
    published: dict[str, list[Insight]]  # business -> every insight published over the weeks
    final: dict[str, list[Insight]]  # business -> stored insights after the last week
    candidates: dict[str, list[Insight]]  # business -> candidates of the last week
    gap: dict[str, str]  # business -> foreseeable | unforeseeable | none
    flagged: dict[str, bool]  # business -> the last forecast has a week at ≥ 50 % shortfall
    window: tuple[date, date]
    history_end: date
    seconds: float  # wall time of all refreshes


def _future_items(world: Path) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    with (world / "truth" / "future_items.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["business_id"], []).append(row)
    return out


def _gaps(world: Path) -> dict[str, str]:
    out = {}
    with (world / "truth" / "businesses_truth.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            kind = "foreseeable" if r["gap_foreseeable"] == "1" else "unforeseeable"
            out[r["business_id"]] = kind if r["cash_gap"] == "1" else "none"
    return out


def _snapshot(
    d: BusinessData, as_of: date, future: list[dict[str, str]], last: bool
) -> BusinessSnapshot:
    visible = [t for t in d.transactions if t.booking_date <= as_of]
    ids = {t.transaction_id for t in visible}
    anns = [
        Annotation(t, d.business_id, AnnotationKind.CATEGORY, c, 1.0, "rule:truth")
        for t, c in d.truth.category.items()
        if t in ids
    ]
    invoices, scheduled = [], []
    if last:  # what the bank knows at the history end: open invoices, agreed one-off payments
        for r in future:
            due, amount = date.fromisoformat(r["due_date"]), to_minor(r["amount"], r["currency"])
            if r["kind"] == "open_invoice":
                invoices.append(
                    OpenInvoice(
                        r["account_id"], r["counterparty_name"], due, amount, r["reference"]
                    )
                )
            elif r["recurring_series_id"].endswith("_known"):
                scheduled.append(
                    ScheduledPayment(
                        r["account_id"],
                        due,
                        amount,
                        r["counterparty_name"],
                        r["category"],
                        r["counterparty_name"],
                    )
                )
    return BusinessSnapshot(
        Business(d.business_id, "B", d.country, d.base_currency),
        d.accounts,
        visible,
        anns,
        as_of,
        open_invoices=invoices,
        scheduled=scheduled,
    )


def replay_world(world: Path, weeks: int = 8) -> WorldRun:
    """Weekly refreshes of every business over the last ``weeks`` weeks of the history."""
    businesses = list(iter_business_data(world))
    future = _future_items(world)
    end = max(t.booking_date for d in businesses for t in d.transactions)
    origins = [end - timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]
    published: dict[str, list[Insight]] = {}
    final: dict[str, list[Insight]] = {}
    candidates: dict[str, list[Insight]] = {}
    flagged: dict[str, bool] = {}
    started = clock.perf_counter()
    for d in businesses:
        stored: dict[str, Insight] = {}
        published[d.business_id] = []
        for origin in origins:
            now = datetime.combine(origin + timedelta(days=1), time(6), tzinfo=UTC)
            snap = _snapshot(d, origin, future.get(d.business_id, []), origin == end)
            got = analyze_business(snap, Preferences(d.business_id), now, list(stored.values()))
            ranked = rank(got.candidates, list(stored.values()), now)
            for i in (*ranked.published, *ranked.updated):
                stored[i.dedup_key] = i
            published[d.business_id] += ranked.published
            candidates[d.business_id] = list(got.candidates)
            flagged[d.business_id] = got.fc is not None and any(
                w.shortfall_probability >= 0.5 for w in got.fc.weeks
            )
        final[d.business_id] = list(stored.values())
    return WorldRun(
        businesses,
        weeks,
        published,
        final,
        candidates,
        _gaps(world),
        flagged,
        (origins[0] - timedelta(days=6), end),
        end,
        clock.perf_counter() - started,
    )


def noise_recall(run: WorldRun) -> dict[str, float | int]:
    n = len(run.businesses)
    lo, hi = run.window
    true_lines = {
        t.transaction_id
        for d in run.businesses
        for t in d.transactions
        if t.transaction_id in d.truth.anomaly and lo <= t.booking_date <= hi
    }
    raised = {t for v in run.published.values() for i in v for t in i.transaction_ids}
    cash = {InsightKind.CASH_SHORTFALL, InsightKind.LOW_BALANCE}

    def warned(b: str) -> bool:
        return any(i.kind in cash and i.valid_until >= run.history_end for i in run.final[b])

    gaps = [b for b, k in run.gap.items() if k == "foreseeable"]
    unforeseeable = [b for b, k in run.gap.items() if k == "unforeseeable"]
    seen = [b for b, k in run.gap.items() if k != "none" and run.flagged[b]]
    total = sum(len(v) for v in run.published.values())
    return {
        "businesses": n,
        "weeks": run.weeks,
        "insights_published": total,
        "insights_per_business_week": round(total / (n * run.weeks), 3),
        "true_anomaly_lines": len(true_lines),
        "anomaly_recall": round(len(true_lines & raised) / max(1, len(true_lines)), 4),
        "foreseeable_gaps": len(gaps),
        "foreseeable_gap_recall": round(sum(map(warned, gaps)) / max(1, len(gaps)), 4),
        "unforeseeable_gap_recall": round(
            sum(map(warned, unforeseeable)) / max(1, len(unforeseeable)), 4
        ),
        "flagged_gaps": len(seen),
        "flagged_gaps_raised": round(sum(map(warned, seen)) / max(1, len(seen)), 4),
        "cash_warnings_without_gap": sum(warned(b) for b, k in run.gap.items() if k == "none"),
        "ms_per_refresh": round(1000 * run.seconds / (n * run.weeks), 1),
    }
