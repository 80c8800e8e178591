"""How ``ml.insight_eval.noise_recall`` scores a replay, on hand-made refreshes.

A gap counts as raised only when a cash warning about a week near a real short day reached
the owner at least one day before the first short day; an anomaly line only when the refresh
that first sees it raises it; noise is over every replayed week.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ledgerlens.core.ledger import Transaction
from ledgerlens.explain.model import Figure, Insight, InsightKind, Severity
from ledgerlens.ml.insight_eval import GapTruth, Refresh, WorldRun, noise_recall
from ledgerlens.ml.synth_data import BusinessData, BusinessTruth

END = date(2026, 11, 30)  # a Monday, the history end
SHORT = date(2027, 1, 14)  # the first day below zero


def _insight(kind: InsightKind, week: date, ids: tuple[str, ...] = ()) -> Insight:
    return Insight(
        f"i-{kind}-{week}-{ids}",
        "b1",
        kind,
        Severity.WARNING,
        "t",
        "m",
        (Figure("shortfall probability", None, "", 0.6),),
        ids,
        0.6,
        "model:test@1",
        datetime.combine(week, time(6), tzinfo=UTC),
        week + timedelta(days=7),
        f"{kind}:{week}:{ids}",
        week,
    )


def _refresh(origin: date, published: tuple[Insight, ...] = (), prob: float = 0.0) -> Refresh:
    return Refresh(
        "b1",
        origin,
        origin + timedelta(days=1),
        10,
        origin,
        published,
        (),
        published,
        (),
        (),
        ((origin + timedelta(days=14), prob),),
    )


def _run(refreshes: list[Refresh], gap: GapTruth, txs: tuple[Transaction, ...] = ()) -> WorldRun:
    anomaly = {t.transaction_id: "unusual_amount" for t in txs}
    data = BusinessData(
        "b1", "DE", "EUR", "retail", "test", (), txs, BusinessTruth(anomaly=anomaly)
    )
    origins = sorted({r.origin for r in refreshes})
    return WorldRun(
        [data],
        sum(o <= END for o in origins),
        sum(o > END for o in origins),
        refreshes,
        {},
        {},
        {"b1": gap},
        (origins[0] - timedelta(days=6), origins[-1]),
        END,
        END + timedelta(days=91),
        1.0,
    )


def _gap(kind: str = "foreseeable", causes: date | None = None) -> GapTruth:
    days = frozenset(SHORT + timedelta(days=k) for k in range(5))
    return GapTruth(kind, SHORT, causes, days)


def _weekly(first: date, last: date) -> list[date]:
    return [first + timedelta(days=7 * k) for k in range((last - first).days // 7 + 1)]


def test_a_warning_on_the_first_short_day_is_too_late() -> None:
    week = date(2027, 1, 11)
    # the refresh of 13 January is delivered on the 14th: the balance is already negative
    refs = [_refresh(o) for o in _weekly(END, date(2027, 1, 6))]
    refs.append(_refresh(date(2027, 1, 13), (_insight(InsightKind.CASH_SHORTFALL, week),)))
    f = noise_recall(_run(refs, _gap()))
    assert f["gaps"] == 1 and f["gap_recall"] == 0.0 and f["lead_days"] == ""


def test_a_warning_the_day_before_counts_with_a_lead_of_one_day() -> None:
    week = date(2027, 1, 11)
    refs = [_refresh(o) for o in _weekly(END, date(2027, 1, 6))]
    refs.append(_refresh(date(2027, 1, 12), (_insight(InsightKind.LOW_BALANCE, week),)))
    f = noise_recall(_run(refs, _gap()))
    assert f["gap_recall"] == 1.0 and f["foreseeable_gap_recall"] == 1.0
    assert f["lead_days"] == "1" and f["lead_days_min"] == 1 and f["gap_recall_timed"] == 1.0


def test_a_warning_about_another_week_is_not_a_warning_of_the_gap() -> None:
    early = _insight(InsightKind.CASH_SHORTFALL, date(2026, 12, 7))  # five weeks too early
    refs = [_refresh(END, (early,))] + [_refresh(o) for o in _weekly(END + timedelta(7), SHORT)]
    f = noise_recall(_run(refs, _gap()))
    assert f["gap_recall"] == 0.0 and f["gap_recall_any_week"] == 1.0
    assert f["gap_recall_timed"] == 0.0
    assert f["cash_warnings_false_alarm"] == 1 and f["cash_warnings_on_target"] == 0


def test_a_warning_inside_the_gap_but_weeks_late_is_raised_yet_not_timed() -> None:
    late = _insight(InsightKind.CASH_SHORTFALL, date(2027, 2, 8))  # short days run into Feb
    gap = GapTruth("foreseeable", SHORT, None, frozenset(SHORT + timedelta(k) for k in range(30)))
    refs = [_refresh(o) for o in _weekly(END, date(2027, 1, 4))]
    refs.append(_refresh(date(2027, 1, 11), (late,)))
    f = noise_recall(_run(refs, gap))
    assert f["gap_recall"] == 1.0 and f["gap_recall_timed"] == 0.0 and f["lead_days"] == "2"


def test_unforeseeable_gap_warned_after_its_causes_began() -> None:
    causes = date(2026, 12, 20)
    week = date(2027, 1, 11)
    refs = [_refresh(o) for o in _weekly(END, date(2026, 12, 14))]
    refs.append(_refresh(date(2026, 12, 21), (_insight(InsightKind.CASH_SHORTFALL, week),), 0.7))
    f = noise_recall(_run(refs, _gap("unforeseeable", causes)))
    assert f["unforeseeable_gaps"] == 1 and f["unforeseeable_gap_recall"] == 1.0
    assert f["unforeseeable_warned_after_causes"] == 1 and f["lead_days"] == "23"
    assert f["flagged_gaps"] == 1 and f["flagged_gaps_raised"] == 1.0


def test_missed_gap_reports_the_probability_its_weeks_were_given() -> None:
    refs = [_refresh(o, prob=0.31) for o in _weekly(END, date(2027, 1, 4))]
    f = noise_recall(_run(refs, _gap("unforeseeable", date(2027, 1, 4))))
    assert f["gap_recall"] == 0.0 and f["gaps_missed_max_probability"] == 0.31
    assert f["flagged_gaps"] == 0 and "missed (max p 0.31)" in str(f["gap_detail"])


def test_an_anomaly_counts_only_when_the_refresh_that_first_sees_it_raises_it() -> None:
    def tx(tid: str, day: date) -> Transaction:
        return Transaction(tid, "b1", "a1", day, day, -50_000, "EUR", "x")

    on_time, late = tx("t1", date(2026, 12, 3)), tx("t2", date(2026, 12, 10))
    raised = _insight(InsightKind.UNUSUAL_TRANSACTION, date(2026, 12, 7), ("t1",))
    late_raise = _insight(InsightKind.UNUSUAL_TRANSACTION, date(2026, 12, 21), ("t2",))
    refs = [
        _refresh(END),
        _refresh(date(2026, 12, 7), (raised,)),
        _refresh(date(2026, 12, 14)),  # first sees t2, says nothing
        _refresh(date(2026, 12, 21), (late_raise,)),
    ]
    f = noise_recall(_run(refs, GapTruth("none", None, None), (on_time, late)))
    assert f["true_anomaly_lines"] == 2
    assert f["anomaly_recall"] == 0.5 and f["anomaly_recall_any_refresh"] == 1.0
    # 2 insights over 1 business × 4 weeks
    assert f["insights_per_business_week"] == 0.5
