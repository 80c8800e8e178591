"""Ranking: which candidate insights reach the owner, so that each one is worth reading.

Rules, in order (each is tested):

1. **One insight per event**: candidates sharing a ``dedup_key`` collapse to the strongest, and
   an event already published (same key, still valid) is *updated* in place, not raised again.
2. **Expiry**: a candidate whose ``valid_until`` has passed is dropped (an unusual payment from
   two months ago is history, not news).
3. **Cooldown**: a kind that was raised within ``cooldown_days`` is held back unless the new
   one is more severe (a shortfall warning that moves from one week to the next is one story).
4. **Caps**: below ``WARNING``, at most ``daily_cap`` new insights a day and ``weekly_cap`` a
   week (counting everything raised in the last 7 days). ``WARNING`` and ``CRITICAL``
   insights — shortfalls, duplicate and unusual payments, card breaches — are never capped:
   they are what the owner must not miss; their own detectors keep them rare.

The result lists what to store: ``published`` (new events) and ``updated`` (known events with
fresh figures); ``held`` says why each other candidate was held (for tests and metrics).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ledgerlens.explain.model import Insight, InsightKind, InsightStatus, Severity

__all__ = ["RankPolicy", "Ranked", "rank"]


@dataclass(frozen=True, slots=True)
class RankPolicy:
    daily_cap: int = 1
    weekly_cap: int = 3
    cooldown_days: dict[InsightKind, int] = field(
        default_factory=lambda: {
            InsightKind.CASH_SHORTFALL: 7,
            InsightKind.LOW_BALANCE: 14,
            InsightKind.TAX_DUE: 7,
            InsightKind.FX_TIP: 60,
            InsightKind.PRODUCT_OFFER: 30,
            InsightKind.BEST_MONTH: 25,
            InsightKind.GAP_AVOIDED: 7,
            InsightKind.PRICE_RISE: 7,
            InsightKind.LATE_PAYER: 30,
        }
    )
    protected: Severity = Severity.WARNING  # at or above: never capped


@dataclass(frozen=True, slots=True)
class Ranked:
    published: tuple[Insight, ...]
    updated: tuple[Insight, ...]
    held: tuple[tuple[Insight, str], ...]


def _order(i: Insight) -> tuple[int, float, str]:
    return (-int(i.severity), -i.score, i.dedup_key)


def rank(
    candidates: Iterable[Insight],
    previous: Sequence[Insight],
    now: datetime,
    policy: RankPolicy | None = None,
) -> Ranked:
    """Choose what to publish now, given what was published before (``previous``)."""
    policy = policy or RankPolicy()
    today = now.date()
    best: dict[str, Insight] = {}
    for c in candidates:
        cur = best.get(c.dedup_key)
        if cur is None or _order(c) < _order(cur):
            best[c.dedup_key] = c
    known = {p.dedup_key: p for p in previous}
    published: list[Insight] = []
    updated: list[Insight] = []
    held: list[tuple[Insight, str]] = []
    week_ago = now - timedelta(days=7)
    recent = [p for p in previous if p.created_at > week_ago]
    today_count = sum(
        1 for p in recent if p.created_at.date() == today and p.severity < policy.protected
    )
    week_count = len(recent)
    for c in sorted(best.values(), key=_order):
        if c.valid_until < today:
            held.append((c, "expired"))
            continue
        old = known.get(c.dedup_key)
        if old is not None:
            # same event: keep its id, first sighting and the owner's status; fresh figures
            status = old.status if old.status is not InsightStatus.NEW else c.status
            updated.append(
                replace(c, insight_id=old.insight_id, created_at=old.created_at, status=status)
            )
            continue
        cool = policy.cooldown_days.get(c.kind, 0)
        if cool:
            since = now - timedelta(days=cool)
            same = [p for p in previous if p.kind is c.kind and p.created_at > since]
            same += [p for p in published if p.kind is c.kind]
            if same and max(p.severity for p in same) >= c.severity:
                held.append((c, "cooldown"))
                continue
        if c.severity < policy.protected:
            if today_count >= policy.daily_cap:
                held.append((c, "daily_cap"))
                continue
            if week_count >= policy.weekly_cap:
                held.append((c, "weekly_cap"))
                continue
            today_count += 1
        week_count += 1
        published.append(c)
    return Ranked(tuple(published), tuple(updated), tuple(held))
