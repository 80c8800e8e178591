"""Cash-flow forecast (p10/p50/p90 band, weekly shortfall risk, the gap week and why) and
what-if previews (move a payment, schedule a transfer, add a one-off item)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ledgerlens.analyze.cashflow import (
    AddOneOff,
    ChartPoint,
    Forecast,
    MovePayment,
    Scenario,
    ScheduleTransfer,
    WeekRisk,
    chart_data,
)
from ledgerlens.core.errors import ValidationError
from ledgerlens.core.money import format_minor, to_minor
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.forecasting import (
    GAP_THRESHOLD,
    BusinessForecast,
    ForecastCache,
    gap_week,
    load_forecast,
    run_what_if,
)
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.schemas.forecast import (
    AccountBalanceOut,
    ChartPointOut,
    DriverOut,
    ForecastOut,
    KnownItemOut,
    WeekChangeOut,
    WeekRiskOut,
    WhatIfIn,
    WhatIfOut,
)
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["forecast"])
_UPCOMING = 12


def _cache(request: Request) -> ForecastCache:
    cache = getattr(request.app.state, "forecast_cache", None)
    if cache is None:
        cache = request.app.state.forecast_cache = ForecastCache()
    return cache


def _week(w: WeekRisk | None, ccy: str) -> WeekRiskOut | None:
    if w is None:
        return None
    return WeekRiskOut(
        week_start=w.week_start,
        week_end=w.week_end,
        shortfall_probability=round(w.shortfall_probability, 4),
        expected_min_balance=format_minor(w.expected_min_balance_minor, ccy),
        expected_min_day=w.expected_min_day,
        confidence=round(w.confidence, 4),
        source=w.source,
    )


def _chart(points: list[ChartPoint], ccy: str) -> list[ChartPointOut]:
    f = format_minor
    return [
        ChartPointOut(start=p.start, inflow=f(p.inflow_minor, ccy), outflow=f(p.outflow_minor, ccy),
                      p10=f(p.p10_minor, ccy), p50=f(p.p50_minor, ccy), p90=f(p.p90_minor, ccy))
        for p in points
    ]  # fmt: skip


def _forecast_out(bf: BusinessForecast) -> ForecastOut:
    fc, inp, ccy = bf.fc, bf.inp, bf.fc.base_currency
    opening = {a.account_id: a.opening_minor for a in inp.accounts}
    operating = {a.account_id for a in inp.accounts if a.operating}
    currency = {a.account_id: a.currency for a in bf.accounts}
    horizon_end = fc.as_of.toordinal() + fc.horizon_days
    items = sorted(
        (i for i in inp.items if i.due_date.toordinal() <= horizon_end),
        key=lambda i: -abs(i.amount_minor),
    )[:_UPCOMING]
    drivers = bf.explanation.drivers if bf.explanation is not None else ()
    return ForecastOut(
        business_id=fc.business_id, base_currency=ccy, as_of=fc.as_of,
        horizon_days=fc.horizon_days, buffer=format_minor(inp.buffer_minor, ccy),
        source=fc.source,
        history=bf.explanation.history if bf.explanation else _history(fc),
        balances=[
            AccountBalanceOut(account_id=a.account_id, name=a.name, currency=a.currency,
                              account_type=str(a.account_type),
                              balance=format_minor(opening.get(a.account_id, 0), a.currency),
                              operating=a.account_id in operating)
            for a in bf.accounts
        ],
        weeks=[w for w in (_week(w, ccy) for w in fc.weeks) if w is not None],
        gap_week=_week(bf.gap, ccy), gap_threshold=GAP_THRESHOLD,
        drivers=[
            DriverOut(kind=d.kind, label=d.label, amount=format_minor(d.amount_minor, ccy),
                      due_date=d.due_date, item_id=d.item_id, evidence=dict(d.evidence))
            for d in drivers
        ],
        chart=_chart(chart_data(fc), ccy),
        upcoming=[
            KnownItemOut(item_id=i.item_id, account_id=i.account_id, due_date=i.due_date,
                         amount=format_minor(i.amount_minor, currency.get(i.account_id, ccy)),
                         kind=str(i.kind), label=i.label or i.item_id,
                         probability=round(i.probability, 4))
            for i in sorted(items, key=lambda i: i.due_date)
        ],
        evidence=dict(fc.evidence),
    )  # fmt: skip


def _history(fc: Forecast) -> str:
    from ledgerlens.analyze.cashflow import history_basis

    return history_basis(fc.history_days)


def _scenarios(body: WhatIfIn, bf: BusinessForecast) -> list[Scenario]:
    """The request's actions as kernel scenarios; amounts in their account's currency."""
    currency = {a.account_id: a.currency for a in bf.accounts}
    out: list[Scenario] = []
    try:
        for a in body.actions:
            if a.type == "move_payment":
                out.append(MovePayment(a.item_id, a.new_date))
            elif a.type == "schedule_transfer":
                src_ccy, dst_ccy = currency[a.from_account_id], currency[a.to_account_id]
                if src_ccy != dst_ccy:
                    raise ValidationError("transfers between currencies are not previewed yet")
                out.append(ScheduleTransfer(a.from_account_id, a.to_account_id, a.on,
                                            abs(to_minor(a.amount, src_ccy))))  # fmt: skip
            else:
                amount = to_minor(a.amount, currency[a.account_id])
                out.append(AddOneOff(a.account_id, a.on, amount, a.label or "one-off item"))
    except KeyError as exc:
        raise ApiProblem(422, f"unknown account {exc.args[0]!r}", slug="refused") from None
    except ValidationError as exc:
        raise ApiProblem(422, str(exc), slug="refused") from None
    return out


@router.get(
    "/{business_id}/forecast",
    response_model=ForecastOut,
    responses=READ_ERRORS,
    summary="Cash-flow forecast: balance band, weekly shortfall risk, the gap week and why",
)
async def get_forecast(
    business_id: BusinessId, principal: CurrentPrincipal, state: State, request: Request
) -> ForecastOut:
    authorize(principal, business_id, Permission.READ_LEDGER)
    bf = await run_in_threadpool(load_forecast, state.read_uow, business_id, _cache(request))
    return _forecast_out(bf)


@router.post(
    "/{business_id}/forecast/what-if",
    response_model=WhatIfOut,
    responses=READ_ERRORS,
    summary="Preview actions: each week's shortfall probability before and after",
)
async def post_what_if(
    business_id: BusinessId,
    body: WhatIfIn,
    principal: CurrentPrincipal,
    state: State,
    request: Request,
) -> WhatIfOut:
    authorize(principal, business_id, Permission.READ_LEDGER)
    bf = await run_in_threadpool(load_forecast, state.read_uow, business_id, _cache(request))
    scenarios = _scenarios(body, bf)
    try:
        result = await run_in_threadpool(run_what_if, bf, scenarios)
    except KeyError as exc:
        raise ApiProblem(422, str(exc.args[0]), slug="refused") from None
    ccy = bf.fc.base_currency
    return WhatIfOut(
        business_id=business_id,
        source=result.scenario.source,
        weeks=[
            WeekChangeOut(week_start=w.week_start, before=round(w.before, 4),
                          after=round(w.after, 4), change=w.change)
            for w in result.weeks
        ],
        gap_week_before=_week(gap_week(result.base), ccy),
        gap_week_after=_week(gap_week(result.scenario), ccy),
        chart=_chart(chart_data(result.scenario), ccy),
    )  # fmt: skip
