"""Good news: a cash gap we warned about that now looks avoided, and a best month.

Owners who hear only warnings stop listening; these are rare by construction (one per event,
INFO severity, short validity) and rest on the same evidence rules as the warnings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from ledgerlens.explain.insights import LOW_BALANCE_MIN, CashContext, below_text
from ledgerlens.explain.model import Figure, Insight, InsightKind, Severity, make_insight
from ledgerlens.explain.render import Renderer

__all__ = ["best_month", "gap_avoided"]


def gap_avoided(ctx: CashContext, previous: Sequence[Insight]) -> list[Insight]:
    """Good news: a week we warned about is now safe (probability below 20 %)."""
    out = []
    weeks = {w.week_start: w for w in ctx.fc.weeks}
    r, cur = ctx.renderer, ctx.inp.base_currency
    for old in previous:
        if old.kind is not InsightKind.CASH_SHORTFALL:
            continue
        w = weeks.get(old.event_date)
        if w is None or w.shortfall_probability >= LOW_BALANCE_MIN:
            continue
        values = {
            "week": r.day(w.week_start),
            "below": below_text(r, ctx.inp.buffer_minor, cur),
            "probability": r.percent(w.shortfall_probability),
        }
        out.append(
            make_insight(
                ctx.inp.business_id,
                InsightKind.GAP_AVOIDED,
                Severity.INFO,
                r,
                title=r.title("gap_avoided", **values),
                message=r.message("gap_avoided", **values),
                evidence=[
                    Figure("shortfall probability", None, "", round(w.shortfall_probability, 4)),
                    Figure("earlier warning", None, "", old.insight_id),
                ],
                confidence=w.confidence or 0.6,
                source=w.source,
                now=ctx.now,
                valid_days=3,
                dedup_key=f"gap_avoided:{w.week_start.isoformat()}",
                event_date=w.week_start,
            )
        )
    return out


def best_month(
    business_id: str,
    inflows_by_month: Mapping[date, int],
    currency: str,
    r: Renderer,
    now: datetime,
    source: str = "rule:insight.best_month",
) -> Insight | None:
    """The last complete month beat every earlier one (≥ 4 months seen) by ≥ 10 % on average."""
    months = sorted(inflows_by_month)
    if len(months) < 4:
        return None
    last, earlier = months[-1], months[:-1][-11:]
    best = inflows_by_month[last]
    mean = sum(inflows_by_month[m] for m in earlier) / len(earlier)
    if best <= max(inflows_by_month[m] for m in earlier) or best < 1.1 * mean:
        return None
    increase = best - round(mean)
    values = {
        "month": r.month(last),
        "amount": r.money(best, currency),
        "increase": r.money(increase, currency),
        "months": r.count_words(len(earlier)),
    }
    return make_insight(
        business_id,
        InsightKind.BEST_MONTH,
        Severity.INFO,
        r,
        title=r.title("best_month", **values),
        message=r.message("best_month", **values),
        evidence=[
            Figure("money in", best, currency, last.isoformat()),
            Figure("average month", round(mean), currency, len(earlier)),
            Figure("increase", increase, currency),
        ],
        confidence=0.95,
        source=source,
        now=now,
        valid_days=10,
        dedup_key=f"best_month:{last.isoformat()}",
        event_date=last,
        chart={
            "type": "monthly_inflows",
            "currency": currency,
            "points": [
                {"month": m.isoformat(), "inflow_minor": inflows_by_month[m]} for m in months
            ],
        },
    )
