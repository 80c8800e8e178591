"""Insight noise and recall on a synthetic world: replay weekly refreshes and count.

    run = replay_world(world_dir, weeks=8, weeks_ahead=13)
    figures = noise_recall(run)

Each business is refreshed once a week, as production refreshes it while lines arrive: over
the last ``weeks`` weeks of its history and on into the hidden ``weeks_ahead`` weeks after the
history end (``synth_data.load_future``). A refresh at ``origin`` is fed only the lines booked
up to that day (history and hidden lines alike; never a later one) and runs the next morning;
its candidates are ranked against everything published before (cooldown, caps and dedup state
carry over, as the insights table carries them in production). From the history end on, the
refresh also knows what the bank knew at the history end and is still open then: the open
invoices (until a line up to the origin quotes the invoice's reference — the bank's own
reconciliation) and the agreed one-off payments not yet due.

``noise_recall`` scores the run against the world's truth:

- noise: insights published per business per week over every replayed week;
- anomalies: a true anomaly line (history window or hidden weeks) counts when an insight
  published or refreshed at the first refresh that sees the line cites it;
- cash gaps (``first_gap_date``: the first day the primary account's balance is below zero):
  raised only when a cash-gap insight (shortfall or low balance) was published or refreshed in
  the owner's feed at least one day *before* that day (lead ≥ 1 day; a warning once the balance
  is negative does not count); split into foreseeable and unforeseeable gaps, and for the
  latter whether the warning came after the unannounced causes had begun
  (``gap_causes_begin``);
- the figures of the history-only replay (warned at the history end), with the prefix
  ``history_end_``, so a change against the older measure stays visible.
"""

from __future__ import annotations

import csv
import json
import statistics
import time as clock
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from ledgerlens.analyze.cashflow import OpenInvoice, ScheduledPayment
from ledgerlens.consent.model import Preferences
from ledgerlens.core.ledger import Annotation, AnnotationKind, Business, Transaction
from ledgerlens.core.money import to_minor
from ledgerlens.explain.model import Insight, InsightKind
from ledgerlens.explain.ranking import rank
from ledgerlens.explain.service import BusinessSnapshot, analyze_business
from ledgerlens.ml.forecast_world import unpaid_invoices
from ledgerlens.ml.synth_data import BusinessData, iter_business_data, load_future, with_future

__all__ = ["GapTruth", "Refresh", "WorldRun", "noise_recall", "replay_world"]

CASH = frozenset({InsightKind.CASH_SHORTFALL, InsightKind.LOW_BALANCE})


@dataclass(frozen=True, slots=True)
class GapTruth:
    kind: str  # foreseeable | unforeseeable | none
    first_short_day: date | None  # first day the primary account ends below zero
    causes_begin: date | None  # unforeseeable gaps: when the last unannounced cause has begun
    short_days: frozenset[date] = frozenset()  # hidden days the primary account ends below zero


@dataclass(frozen=True, slots=True)
class Refresh:
    """One weekly refresh of one business: what it was fed and what reached the owner."""

    business_id: str
    origin: date  # fed the lines booked up to and including this day
    delivered: date  # it runs the next morning: the day the owner sees what it publishes
    lines_fed: int
    lines_until: date | None  # the latest booking date among the lines fed
    published: tuple[Insight, ...]  # new events
    updated: tuple[Insight, ...]  # known events refreshed in the feed
    candidates: tuple[Insight, ...]
    live_cash: tuple[Insight, ...]  # cash insights in the feed and valid on ``origin`` after it
    cash_held: tuple[str, ...]  # why ranking held a cash candidate (cap, cooldown…)
    weeks: tuple[tuple[date, float], ...]  # the forecast's (week start, shortfall probability)

    @property
    def shown(self) -> tuple[Insight, ...]:
        return self.published + self.updated


@dataclass
class WorldRun:
    businesses: list[BusinessData]  # history and hidden lines, with their truth
    weeks: int  # history weeks replayed
    weeks_ahead: int  # hidden weeks replayed after the history end
    refreshes: list[Refresh]  # in business order, then origin order
    final: dict[str, list[Insight]]  # business -> stored insights after the last refresh
    candidates: dict[str, list[Insight]]  # business -> candidates of the last refresh
    gaps: dict[str, GapTruth]
    window: tuple[date, date]  # the days whose lines the replay saw arrive
    history_end: date
    truth_end: date  # the last hidden day the truth covers
    seconds: float  # wall time of all refreshes
    by_business: dict[str, list[Refresh]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for r in self.refreshes:
            self.by_business.setdefault(r.business_id, []).append(r)


def _future_items(world: Path) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    with (world / "truth" / "future_items.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["business_id"], []).append(row)
    return out


def _short_days(world: Path) -> dict[str, set[date]]:
    """Hidden days whose end-of-day balance of the primary account (the account
    ``weekly_shortfall.csv`` follows, as the gap truth does) is below zero."""
    with (world / "truth" / "weekly_shortfall.csv").open(encoding="utf-8", newline="") as fh:
        primary = {r["account_id"] for r in csv.DictReader(fh)}
    out: dict[str, set[date]] = {}
    with (world / "truth" / "daily_balances.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["hidden_future"] == "1" and r["account_id"] in primary:
                days = out.setdefault(r["business_id"], set())
                if Decimal(r["balance"]) < 0:
                    days.add(date.fromisoformat(r["date"]))
    return out


def _gaps(world: Path) -> dict[str, GapTruth]:
    short = _short_days(world)
    out = {}
    with (world / "truth" / "businesses_truth.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            kind = "foreseeable" if r["gap_foreseeable"] == "1" else "unforeseeable"
            first, causes = r.get("first_gap_date", ""), r.get("gap_causes_begin", "")
            out[r["business_id"]] = GapTruth(
                kind if r["cash_gap"] == "1" else "none",
                date.fromisoformat(first) if first else None,
                date.fromisoformat(causes) if causes else None,
                frozenset(short.get(r["business_id"], ())),
            )
    return out


def _known_items(
    future: list[dict[str, str]], origin: date, visible: list[Transaction]
) -> tuple[list[OpenInvoice], list[ScheduledPayment]]:
    """What the bank knew at the history end and is still open at ``origin``: invoices no
    line up to the origin has paid (by reference), agreed one-off payments not yet due."""
    invoices = unpaid_invoices(future, visible)
    scheduled = []
    for r in future:
        due, amount = date.fromisoformat(r["due_date"]), to_minor(r["amount"], r["currency"])
        if (
            r["kind"] != "open_invoice"
            and r["recurring_series_id"].endswith("_known")
            and due > origin
        ):
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
    return invoices, scheduled


def _snapshot(
    d: BusinessData, origin: date, history_end: date, future: list[dict[str, str]]
) -> BusinessSnapshot:
    visible = [t for t in d.transactions if t.booking_date <= origin]
    ids = {t.transaction_id for t in visible}
    anns = [
        Annotation(t, d.business_id, AnnotationKind.CATEGORY, c, 1.0, "rule:truth")
        for t, c in d.truth.category.items()
        if t in ids
    ]
    invoices: list[OpenInvoice] = []
    scheduled: list[ScheduledPayment] = []
    if origin >= history_end:
        after_end = [t for t in visible if t.booking_date > history_end]
        invoices, scheduled = _known_items(future, origin, after_end)
    return BusinessSnapshot(
        Business(d.business_id, "B", d.country, d.base_currency),
        d.accounts,
        visible,
        anns,
        origin,
        open_invoices=invoices,
        scheduled=scheduled,
    )


def replay_world(
    world: Path, weeks: int = 8, weeks_ahead: int = 13, businesses: set[str] | None = None
) -> WorldRun:
    """Weekly refreshes of every business (or of ``businesses``): the last ``weeks`` weeks of
    the history, then ``weeks_ahead`` weeks into the hidden future, state carried across."""
    world = Path(world)
    history = [
        d for d in iter_business_data(world) if businesses is None or d.business_id in businesses
    ]
    manifest = json.loads((world / "truth" / "manifest.json").read_text(encoding="utf-8"))
    end = date.fromisoformat(manifest["history_end"])
    future = load_future(world)
    data = [with_future(d, future.get(d.business_id)) for d in history]
    items = _future_items(world)
    origins = [end + timedelta(days=7 * k) for k in range(1 - weeks, weeks_ahead + 1)]
    refreshes: list[Refresh] = []
    final: dict[str, list[Insight]] = {}
    candidates: dict[str, list[Insight]] = {}
    started = clock.perf_counter()
    for d in data:
        stored: dict[str, Insight] = {}
        for origin in origins:
            now = datetime.combine(origin + timedelta(days=1), time(6), tzinfo=UTC)
            snap = _snapshot(d, origin, end, items.get(d.business_id, []))
            got = analyze_business(snap, Preferences(d.business_id), now, list(stored.values()))
            ranked = rank(got.candidates, list(stored.values()), now)
            for i in (*ranked.published, *ranked.updated):
                stored[i.dedup_key] = i
            refreshes.append(
                Refresh(
                    d.business_id,
                    origin,
                    now.date(),
                    len(snap.transactions),
                    max((t.booking_date for t in snap.transactions), default=None),
                    ranked.published,
                    ranked.updated,
                    got.candidates,
                    tuple(i for i in stored.values() if i.kind in CASH and i.valid_until >= origin),
                    tuple(why for c, why in ranked.held if c.kind in CASH),
                    tuple((w.week_start, w.shortfall_probability) for w in got.fc.weeks)
                    if got.fc is not None
                    else (),
                )
            )
            candidates[d.business_id] = list(got.candidates)
        final[d.business_id] = list(stored.values())
    gaps = _gaps(world)
    return WorldRun(
        data,
        weeks,
        weeks_ahead,
        refreshes,
        final,
        candidates,
        {d.business_id: gaps[d.business_id] for d in data},
        (origins[0] - timedelta(days=6), origins[-1]),
        end,
        date.fromisoformat(manifest["future_end"]),
        clock.perf_counter() - started,
    )


@dataclass(frozen=True, slots=True)
class _GapScore:
    business_id: str
    truth: GapTruth
    lead_days: int | None  # first on-target warning's lead before the first short day
    lead_any: int | None  # first cash warning of any week's lead before the first short day
    lead_timed: int | None  # first warning naming the first short day's week (± 1 week)
    after_causes: bool  # the first warning came from a refresh that saw the causes begin
    warned_week: date | None  # the week the first warning was about
    at_history_end: bool  # a cash insight was in the feed at the history-end refresh
    max_probability: float  # the highest probability a forecast before the day gave a week
    # near a short day
    flagged: bool  # some forecast before the day gave a week near a short day ≥ 50 %
    held: bool  # ranking held a cash candidate before the day


def _near_short(week_start: date, g: GapTruth) -> bool:
    """The week, or the week before or after it, really has a day below zero."""
    return any(week_start + timedelta(days=k) in g.short_days for k in range(-7, 14))


def _on_target(i: Insight, g: GapTruth) -> bool:
    """A cash warning about a week near a real short day: a warning about some other week
    (a false alarm months earlier) is not a warning of this gap."""
    return _near_short(i.event_date, g)


def _timed(i: Insight, g: GapTruth) -> bool:
    """Stricter: the week a cash warning names is the week of the first short day or the
    week before or after it."""
    assert g.first_short_day is not None
    return -13 <= (i.event_date - g.first_short_day).days <= 7


def _score_gap(run: WorldRun, b: str, g: GapTruth) -> _GapScore:
    assert g.first_short_day is not None
    before = [r for r in run.by_business[b] if r.delivered < g.first_short_day]
    warned = [r for r in before if any(i.kind in CASH and _on_target(i, g) for i in r.shown)]
    loose = [r for r in before if any(i.kind in CASH for i in r.shown)]
    timed = [r for r in before if any(i.kind in CASH and _timed(i, g) for i in r.shown)]
    causes = g.causes_begin
    end = [r for r in run.by_business[b] if r.origin == run.history_end]
    probs = [p for r in before for w, p in r.weeks if _near_short(w, g)]
    return _GapScore(
        b,
        g,
        (g.first_short_day - warned[0].delivered).days if warned else None,
        (g.first_short_day - loose[0].delivered).days if loose else None,
        (g.first_short_day - timed[0].delivered).days if timed else None,
        causes is not None and bool(warned) and warned[0].origin >= causes,
        min(
            (i.event_date for i in warned[0].shown if i.kind in CASH and _on_target(i, g)),
            default=None,
        )
        if warned
        else None,
        bool(end and end[0].live_cash),
        max(probs, default=0.0),
        any(p >= 0.5 for p in probs),
        any(r.cash_held for r in before),
    )


def _share(hit: int, total: int) -> float:
    return round(hit / max(1, total), 4)


def _anomalies(run: WorldRun) -> tuple[int, int, int, int, int]:
    """(true lines, raised at the first refresh that sees them, raised by any refresh,
    history-window lines, history-window lines an insight published before the end cites)."""
    lo, hi = run.window
    lines = raised_first = raised_any = hist = hist_raised = 0
    for d in run.businesses:
        refs = run.by_business[d.business_id]
        history_cited = {
            t
            for r in refs
            if r.origin <= run.history_end
            for i in r.published
            for t in i.transaction_ids
        }
        for t in d.transactions:
            if t.transaction_id not in d.truth.anomaly or not lo <= t.booking_date <= hi:
                continue
            lines += 1
            later = [r for r in refs if r.origin >= t.booking_date]
            cites = [any(t.transaction_id in i.transaction_ids for i in r.shown) for r in later]
            raised_first += bool(cites and cites[0])
            raised_any += any(cites)
            if t.booking_date <= run.history_end:
                hist += 1
                hist_raised += t.transaction_id in history_cited
    return lines, raised_first, raised_any, hist, hist_raised


def noise_recall(run: WorldRun) -> dict[str, float | int | str]:
    n = len(run.businesses)
    weeks = run.weeks + run.weeks_ahead
    total = sum(len(r.published) for r in run.refreshes)
    hist_total = sum(len(r.published) for r in run.refreshes if r.origin <= run.history_end)
    lines, first, anyway, hist, hist_raised = _anomalies(run)
    scores = [_score_gap(run, b, g) for b, g in run.gaps.items() if g.kind != "none"]
    fore = [s for s in scores if s.truth.kind == "foreseeable"]
    unfore = [s for s in scores if s.truth.kind == "unforeseeable"]
    raised = [s for s in scores if s.lead_days is not None]
    leads = sorted(s.lead_days for s in raised if s.lead_days is not None)
    missed = [s for s in scores if s.lead_days is None]
    flagged = [s for s in scores if s.flagged]
    no_gap = [b for b, g in run.gaps.items() if g.kind == "none"]
    end_refresh = {r.business_id: r for r in run.refreshes if r.origin == run.history_end}
    return {
        "businesses": n,
        "weeks": weeks,
        "history_weeks": run.weeks,
        "hidden_weeks": run.weeks_ahead,
        "insights_published": total,
        "insights_per_business_week": round(total / (n * weeks), 3),
        "true_anomaly_lines": lines,
        "anomaly_recall": _share(first, lines),
        "anomaly_recall_any_refresh": _share(anyway, lines),
        "gaps": len(scores),
        "gap_recall": _share(len(raised), len(scores)),
        "foreseeable_gaps": len(fore),
        "foreseeable_gap_recall": _share(sum(s.lead_days is not None for s in fore), len(fore)),
        "unforeseeable_gaps": len(unfore),
        "unforeseeable_gap_recall": _share(
            sum(s.lead_days is not None for s in unfore), len(unfore)
        ),
        "unforeseeable_warned_after_causes": sum(s.after_causes for s in unfore),
        "lead_days_min": min(leads, default=0),
        "lead_days_median": statistics.median(leads) if leads else 0,
        "lead_days_max": max(leads, default=0),
        "lead_days": " ".join(map(str, leads)),
        "gap_recall_timed": _share(sum(s.lead_timed is not None for s in scores), len(scores)),
        "gap_recall_any_week": _share(sum(s.lead_any is not None for s in scores), len(scores)),
        "flagged_gaps": len(flagged),
        "flagged_gaps_raised": _share(sum(s.lead_days is not None for s in flagged), len(flagged)),
        "gaps_missed_held_by_ranking": sum(s.held for s in missed),
        "gaps_missed_max_probability": round(
            max((s.max_probability for s in missed), default=0.0), 4
        ),
        "gap_detail": "; ".join(_detail(s) for s in scores),
        **_cash_precision(run),
        "anomaly_insights_on_hidden_lines": _hidden_anomaly_insights(run),
        "businesses_without_gap_warned": sum(
            any(i.kind in CASH for r in run.by_business[b] for i in r.published) for b in no_gap
        ),
        "cash_insights_without_gap": sum(
            i.kind in CASH for b in no_gap for r in run.by_business[b] for i in r.published
        ),
        # the history-only replay, scored at the history end (the older measure)
        "history_end_insights_per_business_week": round(hist_total / (n * run.weeks), 3),
        "history_end_anomaly_lines": hist,
        "history_end_anomaly_recall": _share(hist_raised, hist),
        "history_end_gap_recall": _share(sum(s.at_history_end for s in scores), len(scores)),
        "history_end_foreseeable_gap_recall": _share(
            sum(s.at_history_end for s in fore), len(fore)
        ),
        "history_end_unforeseeable_gap_recall": _share(
            sum(s.at_history_end for s in unfore), len(unfore)
        ),
        "history_end_cash_warnings_without_gap": sum(
            bool(end_refresh[b].live_cash) for b in no_gap if b in end_refresh
        ),
        "ms_per_refresh": round(1000 * run.seconds / max(1, len(run.refreshes)), 1),
    }


def _cash_precision(run: WorldRun) -> dict[str, int]:
    """Every cash warning published, judged against the truth where the week it names lies
    inside the hidden weeks the truth covers: on target (a short day within a week of it) or a
    false alarm; after the truth ends it cannot be judged."""
    on = off = unjudged = 0
    for r in run.refreshes:
        g = run.gaps[r.business_id]
        for i in r.published:
            if i.kind not in CASH:
                continue
            if i.event_date + timedelta(days=6) > run.truth_end:
                unjudged += 1
            elif _on_target(i, g):
                on += 1
            else:
                off += 1
    return {
        "cash_warnings_on_target": on,
        "cash_warnings_false_alarm": off,
        "cash_warnings_unjudged": unjudged,
    }


def _hidden_anomaly_insights(run: WorldRun) -> int:
    """Unusual- or duplicate-payment insights citing a hidden line (the world puts no true
    anomaly in the hidden weeks, so each is a false alarm)."""
    hidden = {
        t.transaction_id
        for d in run.businesses
        for t in d.transactions
        if t.booking_date > run.history_end
    }
    kinds = {InsightKind.UNUSUAL_TRANSACTION, InsightKind.DUPLICATE_PAYMENT}
    return sum(
        1
        for r in run.refreshes
        for i in r.published
        if i.kind in kinds and hidden.intersection(i.transaction_ids)
    )


def _detail(s: _GapScore) -> str:
    g = s.truth
    kind = "F" if g.kind == "foreseeable" else "U"
    parts = [f"{s.business_id} {kind} short {g.first_short_day}"]
    if g.causes_begin is not None:
        parts.append(f"causes {g.causes_begin}")
    if s.lead_days is None:
        parts.append(f"missed (max p {s.max_probability:.2f})")
    else:
        when = " after causes" if s.after_causes else ""
        parts.append(f"lead {s.lead_days} d{when} (week of {s.warned_week})")
    return ", ".join(parts)
