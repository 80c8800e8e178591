"""Builders for the cash insights: a shortfall, a low balance soon, a gap avoided, a best month.

Each builder is pure: it takes the forecast (``analyze.cashflow``) and what it rests on, and
returns an ``Insight`` whose every money figure is in its evidence, whose chart is data and whose
actions carry their re-forecast effect (``analyze.cashflow.what_if`` with the same random draws,
so the change in risk is the action's effect, not noise). The event-driven builders (anomalies,
price rises, taxes, offers) are in ``explain.events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ledgerlens.analyze.cashflow import (
    CustomerDelay,
    DrawFinancing,
    Forecast,
    ForecastInput,
    MovePayment,
    Scenario,
    ScheduleTransfer,
    WeekRisk,
    chart_data,
    explain_gap,
    what_if,
)
from ledgerlens.explain.model import Action, Figure, Insight, InsightKind, Severity, make_insight
from ledgerlens.explain.render import Renderer

__all__ = ["CashContext", "below_text", "cash_shortfall", "low_balance_soon"]

SHORTFALL_THRESHOLD = 0.5
LOW_BALANCE_MIN = 0.2
_LABELS = {
    "opex.rent_lease": "rent",
    "tax.vat": "vat",
    "opex.payroll": "payroll",
    "financing.loan_repayment": "loan",
    "opex.payroll_taxes_benefits": "payroll_taxes",
}


@dataclass(frozen=True, slots=True)
class CashContext:
    """What the cash builders need beside the forecast."""

    inp: ForecastInput
    fc: Forecast
    renderer: Renderer
    now: datetime
    delays: Mapping[str, CustomerDelay]  # customer -> payment delay (late payers)
    savings_minor: Mapping[str, int]  # account id -> spare balance that could be moved
    account_names: Mapping[str, str] = field(default_factory=dict)  # id -> what the owner calls it


def _history(r: Renderer, history_days: int) -> str:
    months = round(history_days / 30.44)
    if months >= 2:
        return r.phrase("history_months", months=r.count_words(months))
    return r.phrase("history_days", days=r.number(history_days))


def below_text(r: Renderer, buffer_minor: int, currency: str) -> str:
    if buffer_minor > 0:
        return r.phrase("below_buffer", buffer=r.money(buffer_minor, currency))
    return r.phrase("below_zero")


def _label(r: Renderer, category: str, name: str) -> str:
    key = _LABELS.get(category) or ("tax" if category.startswith("tax.") else "")
    return r.phrase(key) if key else r.phrase("payment_to", name=name)


def _drivers_text(ctx: CashContext, week: WeekRisk) -> tuple[str, list[Figure], list[str]]:
    """ "Your rent and the VAT payment fall due that week while invoices from X are … late."""
    r, inp = ctx.renderer, ctx.inp
    gap = explain_gap(inp, ctx.fc, week=week, top=8)
    drivers = gap.drivers if gap else ()
    cur = inp.base_currency
    items = {i.item_id: i for i in inp.items}
    due_week: list[str] = []
    due_before: list[str] = []
    figures: list[Figure] = []
    seen: set[str] = set()
    for d in drivers:
        it = items.get(d.item_id)
        if d.kind != "outflow" or it is None or d.due_date is None:
            continue
        text = _label(r, it.category, it.counterparty or it.label)
        if text in seen:
            continue
        seen.add(text)
        figures.append(
            Figure(
                f"due: {it.counterparty or it.label}", it.amount_minor, cur, d.due_date.isoformat()
            )
        )
        (due_week if d.due_date >= week.week_start else due_before).append(text)
    late: list[str] = []
    for d in drivers:
        it = items.get(d.item_id)
        if d.kind != "missing_inflow" or it is None or not it.counterparty:
            continue
        delay = ctx.delays.get(it.counterparty)
        if (
            delay is None
            or delay.observations < 1
            or delay.mean_days < 5
            or it.counterparty in {x for x in late}
        ):
            continue
        late.append(it.counterparty)
        figures.append(Figure(f"late payer: {it.counterparty}", None, "", round(delay.mean_days)))
    sentence = ""
    group, key = (due_week, "due_sentence") if due_week else (due_before, "due_before")
    if group:
        listed = group[:3]
        sentence = r.phrase(f"{key}_{'one' if len(listed) == 1 else 'many'}", items=r.join(listed))
        sentence = sentence[0].upper() + sentence[1:]
    if late:
        c, days = late[0], r.number(ctx.delays[late[0]].mean_days)
        if sentence:
            sentence += r.phrase("while") + r.phrase("late_subclause", customer=c, days=days)
        else:
            clause = r.phrase("late_clause", customer=c, days=days)
            sentence = clause[0].upper() + clause[1:]
    return (sentence + "." if sentence else ""), figures, [d.item_id for d in drivers]


def _effect(ctx: CashContext, scenario: Scenario, week: WeekRisk) -> dict[str, str | int | float]:
    wi = what_if(ctx.inp, [scenario], base=ctx.fc)
    after = next(w for w in wi.scenario.weeks if w.week_start == week.week_start)
    return {
        "week_start": week.week_start.isoformat(),
        "probability_before": round(week.shortfall_probability, 3),
        "probability_after": round(after.shortfall_probability, 3),
        "min_balance_after_minor": after.expected_min_balance_minor,
    }


def _actions(ctx: CashContext, week: WeekRisk, deficit: int) -> list[Action]:
    r, inp, cur = ctx.renderer, ctx.inp, ctx.inp.base_currency
    operating = next((a for a in inp.accounts if a.operating), inp.accounts[0])
    on = max(ctx.inp.as_of + timedelta(days=1), week.week_start - timedelta(days=2))
    out: list[Action] = []
    # the smallest of (deficit, 2x, 4x) that brings the week under 20 %: an amount that helps
    fin_effect: dict[str, str | int | float] = {}
    for factor in (1, 2, 4):
        fin_effect = _effect(ctx, DrawFinancing(operating.account_id, on, deficit * factor), week)
        if float(fin_effect["probability_after"]) < LOW_BALANCE_MIN:
            deficit *= factor
            break
    else:
        deficit *= 4
    spare = sorted(
        ((v, k) for k, v in ctx.savings_minor.items() if k != operating.account_id and v > 0),
        reverse=True,
    )
    if spare:
        amount = min(spare[0][0], deficit)
        sc = ScheduleTransfer(spare[0][1], operating.account_id, on, amount)
        out.append(
            Action(
                "schedule_transfer",
                r.phrase(
                    "action_transfer",
                    amount=r.money(amount, cur),
                    account=ctx.account_names.get(spare[0][1]) or spare[0][1],
                    day=r.day(on),
                ),
                {
                    "from_account_id": spare[0][1],
                    "to_account_id": operating.account_id,
                    "on": on.isoformat(),
                    "amount_minor": amount,
                },
                _effect(ctx, sc, week),
            )
        )
    movable = [
        i
        for i in inp.items
        if i.account_id == operating.account_id
        and i.amount_minor < 0
        and week.week_start <= i.due_date <= week.week_end
        and not i.category.startswith("tax.")
    ]
    if movable:
        it = min(movable, key=lambda i: i.amount_minor)
        new = week.week_end + timedelta(days=7)
        out.append(
            Action(
                "move_payment",
                r.phrase("action_move", name=it.counterparty or it.label, day=r.day(new)),
                {
                    "item_id": it.item_id,
                    "new_date": new.isoformat(),
                    "amount_minor": it.amount_minor,
                },
                _effect(ctx, MovePayment(it.item_id, new), week),
            )
        )
    out.append(
        Action(
            "view_financing",
            r.phrase("action_financing", amount=r.money(deficit, cur)),
            {"amount_minor": deficit, "on": on.isoformat()},
            fin_effect,
        )
    )
    return out


def _chart(fc: Forecast) -> dict[str, object]:
    pts = chart_data(fc, "week")
    return {
        "type": "balance_band",
        "currency": fc.base_currency,
        "points": [
            {
                "start": p.start.isoformat(),
                "inflow_minor": p.inflow_minor,
                "outflow_minor": p.outflow_minor,
                "p10_minor": p.p10_minor,
                "p50_minor": p.p50_minor,
                "p90_minor": p.p90_minor,
            }
            for p in pts
        ],
    }


def cash_shortfall(ctx: CashContext, threshold: float = SHORTFALL_THRESHOLD) -> Insight | None:
    """The first week whose shortfall probability reaches ``threshold``, explained."""
    week = next((w for w in ctx.fc.weeks if w.shortfall_probability >= threshold), None)
    if week is None:
        return None
    r, inp, cur = ctx.renderer, ctx.inp, ctx.inp.base_currency
    drivers, figures, _ = _drivers_text(ctx, week)
    below = below_text(r, inp.buffer_minor, cur)
    values = {
        "history": _history(r, ctx.fc.history_days),
        "below": below,
        "week": r.day(week.week_start),
        "probability": r.percent(week.shortfall_probability),
        "drivers": drivers,
    }
    # size the remedy for a bad path (p10 of the week), not the average one, rounded up to 100
    p10 = min(
        (b.p10_minor for b in ctx.fc.consolidated if week.week_start <= b.day <= week.week_end),
        default=week.expected_min_balance_minor,
    )
    deficit = max(1, inp.buffer_minor - min(p10, week.expected_min_balance_minor))
    deficit = -(-deficit // 10_000) * 10_000
    evidence = [
        Figure("shortfall probability", None, "", round(week.shortfall_probability, 4)),
        Figure("week start", None, "", week.week_start.isoformat()),
        Figure(
            "expected lowest balance",
            week.expected_min_balance_minor,
            cur,
            week.expected_min_day.isoformat(),
        ),
        Figure("buffer", inp.buffer_minor, cur),
        Figure("history days", None, "", ctx.fc.history_days),
        *figures,
    ]
    p = week.shortfall_probability
    return make_insight(
        inp.business_id,
        InsightKind.CASH_SHORTFALL,
        Severity.CRITICAL if p >= 0.7 else Severity.WARNING,
        r,
        title=r.title("cash_shortfall", **values),
        message=r.message("cash_shortfall", **values),
        evidence=evidence,
        confidence=week.confidence or p,
        source=week.source,
        now=ctx.now,
        valid_days=7,
        dedup_key=f"cash_shortfall:{week.week_start.isoformat()}",
        event_date=week.week_start,
        chart=_chart(ctx.fc),
        actions=_actions(ctx, week, deficit),
        score=p,
    )


def low_balance_soon(ctx: CashContext, days: int = 21) -> Insight | None:
    """No week is likely short, but one of the next weeks has a real chance and a thin margin."""
    soon = [w for w in ctx.fc.weeks if (w.week_start - ctx.fc.as_of).days <= days]
    cand = [w for w in soon if LOW_BALANCE_MIN <= w.shortfall_probability < SHORTFALL_THRESHOLD]
    if not cand or any(w.shortfall_probability >= SHORTFALL_THRESHOLD for w in ctx.fc.weeks):
        return None
    w = max(cand, key=lambda x: x.shortfall_probability)
    r, cur, buf = ctx.renderer, ctx.inp.base_currency, ctx.inp.buffer_minor
    values = {
        "history": _history(r, ctx.fc.history_days),
        "day": r.day(w.expected_min_day),
        "balance": r.money(w.expected_min_balance_minor, cur),
        "below_text": below_text(r, buf, cur),
        "probability": r.percent(w.shortfall_probability),
    }
    values["below_text"] = (
        r.phrase("below_buffer", buffer=r.money(buf, cur)) if buf > 0 else values["below_text"]
    )
    return make_insight(
        ctx.inp.business_id,
        InsightKind.LOW_BALANCE,
        Severity.NOTICE,
        r,
        title=r.title("low_balance", **values),
        message=r.message("low_balance", **values),
        evidence=[
            Figure(
                "expected lowest balance",
                w.expected_min_balance_minor,
                cur,
                w.expected_min_day.isoformat(),
            ),
            Figure("buffer", buf, cur),
            Figure("shortfall probability", None, "", round(w.shortfall_probability, 4)),
        ],
        confidence=w.confidence or 0.5,
        source=w.source,
        now=ctx.now,
        valid_days=7,
        dedup_key=f"low_balance:{w.week_start.isoformat()}",
        event_date=w.week_start,
        chart=_chart(ctx.fc),
        score=w.shortfall_probability,
    )
