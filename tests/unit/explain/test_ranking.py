"""Ranking: one insight per event, expiry, cooldown, daily/weekly caps; warnings never capped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from ledgerlens.explain.model import Figure, Insight, InsightKind, InsightStatus, Severity
from ledgerlens.explain.model import make_insight as _make
from ledgerlens.explain.ranking import RankPolicy, rank
from ledgerlens.explain.render import renderer

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def make(
    key: str,
    kind: InsightKind = InsightKind.PRICE_RISE,
    sev: Severity = Severity.NOTICE,
    *,
    day: date | None = None,
    score: float = 0.5,
    now: datetime = NOW,
) -> Insight:
    return _make(
        "b1",
        kind,
        sev,
        renderer("en"),
        title=key,
        message=key,
        evidence=[Figure("x", 1, "EUR")],
        confidence=0.8,
        source="rule:t",
        now=now,
        valid_days=14,
        dedup_key=key,
        event_date=day or now.date(),
        score=score,
    )


def test_one_insight_per_event_keeps_the_strongest() -> None:
    weak = make("e1", score=0.2)
    strong = replace(make("e1", score=0.9), title="strong")
    out = rank([weak, strong], [], NOW)
    assert [i.title for i in out.published] == ["strong"]


def test_known_event_is_updated_not_raised_again_and_keeps_owner_status() -> None:
    old = replace(make("e1", now=NOW - timedelta(days=2)), status=InsightStatus.DISMISSED)
    fresh = replace(make("e1"), message="new figures")
    out = rank([fresh], [old], NOW)
    assert out.published == ()
    (u,) = out.updated
    assert u.message == "new figures" and u.insight_id == old.insight_id
    assert u.status is InsightStatus.DISMISSED and u.created_at == old.created_at


def test_expired_candidates_are_dropped() -> None:
    stale = make(
        "old-anomaly",
        InsightKind.UNUSUAL_TRANSACTION,
        Severity.WARNING,
        day=NOW.date() - timedelta(days=30),
    )
    out = rank([stale], [], NOW)
    assert out.published == () and out.held[0][1] == "expired"


def test_cooldown_holds_the_same_kind_unless_more_severe() -> None:
    before = make(
        "gap:w1", InsightKind.CASH_SHORTFALL, Severity.WARNING, now=NOW - timedelta(days=3)
    )
    same = make("gap:w2", InsightKind.CASH_SHORTFALL, Severity.WARNING)
    worse = make("gap:w3", InsightKind.CASH_SHORTFALL, Severity.CRITICAL)
    assert rank([same], [before], NOW).held[0][1] == "cooldown"
    assert [i.dedup_key for i in rank([worse], [before], NOW).published] == ["gap:w3"]
    later = NOW + timedelta(days=8)
    assert rank([same], [before], later).published


def test_caps_apply_below_warning_only() -> None:
    kinds = [
        InsightKind.PRICE_RISE,
        InsightKind.TAX_DUE,
        InsightKind.LATE_PAYER,
        InsightKind.FX_TIP,
        InsightKind.BEST_MONTH,
    ]
    notices = [make(f"n{k}", kind, score=k / 10) for k, kind in enumerate(kinds)]
    warnings = [make(f"w{k}", InsightKind.UNUSUAL_TRANSACTION, Severity.WARNING) for k in range(4)]
    out = rank([*notices, *warnings], [], NOW, RankPolicy(daily_cap=1, weekly_cap=3))
    sev = [i.severity for i in out.published]
    assert sev.count(Severity.WARNING) == 4  # never capped
    assert sev.count(Severity.NOTICE) == 0  # the week is already full with 4 warnings
    out2 = rank(notices, [], NOW, RankPolicy(daily_cap=1, weekly_cap=3))
    assert len(out2.published) == 1 and out2.published[0].dedup_key == "n4"  # best score
    assert {why for _, why in out2.held} == {"daily_cap"}
    # next day: one more; the weekly cap counts what went out in the last 7 days
    prev = [
        replace(i, created_at=NOW - timedelta(days=d))
        for d, i in enumerate(
            [make(f"p{k}", InsightKind.UNUSUAL_TRANSACTION) for k in range(3)], start=1
        )
    ]
    out3 = rank(notices, prev, NOW, RankPolicy(daily_cap=1, weekly_cap=3))
    assert out3.published == () and {why for _, why in out3.held} == {"weekly_cap"}
