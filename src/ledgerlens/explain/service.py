"""From one business's data to candidate insights: forecast, anomalies, series, taxes, offers.

``analyze_business`` is pure (no I/O): the pipeline reads the business from storage, calls it,
ranks the candidates against what was published before and stores the result. Each analysis
reuses the stage that owns it (``analyze.cashflow``, ``analyze.anomalies``,
``enrich.recurring``) and the enrichment's stored categories.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ledgerlens.analyze.anomalies import AnomalyReport, AnomalyResult, detect_anomalies
from ledgerlens.analyze.cashflow import (
    CustomerDelay,
    Forecast,
    ForecastInput,
    OpenInvoice,
    ScheduledPayment,
    TaxObligation,
    build_input,
    estimate_customer_delays,
    forecast,
    invoice_items,
    invoice_run_rates,
    pick_operating,
    scheduled_items,
    series_items,
    tax_items,
    without_covered,
)
from ledgerlens.consent.model import Preferences
from ledgerlens.core.ledger import Account, Annotation, AnnotationKind, Business, Transaction
from ledgerlens.enrich.recurring import RecurringSeries, detect_recurring
from ledgerlens.explain import events, good_news, insights
from ledgerlens.explain.model import Insight
from ledgerlens.explain.render import renderer
from ledgerlens.explain.tax_calendar import TaxDue, estimate_due

__all__ = ["BusinessSnapshot", "InsightRun", "analyze_business", "categories_of"]


@dataclass(frozen=True, slots=True)
class BusinessSnapshot:
    """What one refresh reads: the ledger, the enrichment, and inputs from other stages."""

    business: Business
    accounts: Sequence[Account]
    transactions: Sequence[Transaction]
    annotations: Sequence[Annotation] = ()
    as_of: date | None = None
    open_invoices: Sequence[OpenInvoice] = ()
    paid_invoices: Sequence[tuple[str, date, date]] = ()  # (customer, due, paid)
    scheduled: Sequence[ScheduledPayment] = ()
    # ``scheduled`` came from the business's store (the bank's systems): each stands for one
    # occurrence of a detected series at most (``known_items.without_covered``); otherwise
    # (the evaluation replays) they are payments of their own
    scheduled_stored: bool = False
    offers: Sequence[events.OfferInput] = ()
    fx_tips: Sequence[events.FxTipInput] = ()
    anomalies: Sequence[AnomalyResult] | None = None  # stored verdicts; None = compute here
    fx_to_base: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InsightRun:
    """The candidates and what they rest on (the digest reuses the forecast and taxes)."""

    candidates: tuple[Insight, ...]
    inp: ForecastInput | None
    fc: Forecast | None
    anomalies: tuple[AnomalyResult, ...]
    taxes: tuple[TaxDue, ...]
    series: tuple[RecurringSeries, ...]


def categories_of(annotations: Sequence[Annotation]) -> dict[str, str]:
    return {
        a.transaction_id: a.value
        for a in annotations
        if a.kind is AnnotationKind.CATEGORY and a.value
    }


def _series_category(series: Sequence[RecurringSeries], cats: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for s in series:
        votes = Counter(cats.get(t, "") for t in s.member_ids)
        votes.pop("", None)
        if votes:
            out[s.series_id] = votes.most_common(1)[0][0]
    return out


def _forecast_input(
    snap: BusinessSnapshot,
    as_of: date,
    prefs: Preferences,
    cats: Mapping[str, str],
    dues: Sequence[TaxDue],
) -> tuple[ForecastInput, list[RecurringSeries], dict[str, CustomerDelay]]:
    b = snap.business
    hist = [t for t in snap.transactions if t.booking_date <= as_of]
    series = detect_recurring(hist, as_of=as_of, country=b.country)
    items, explained = series_items(series, as_of, 91)
    by_series = _series_category(series, cats)
    items = [
        dataclasses.replace(i, category=by_series.get(i.item_id.split("#")[0], i.category))
        for i in items
    ]
    if snap.scheduled_stored:
        items = without_covered(items, snap.scheduled)
    items += scheduled_items(snap.scheduled, as_of)
    delays = estimate_customer_delays(snap.paid_invoices, snap.open_invoices, as_of)
    items += invoice_items(snap.open_invoices, as_of, delays)
    operating = pick_operating(snap.accounts, b.base_currency)
    if not any(c == "tax.vat" for c in by_series.values()):
        items += tax_items(
            [
                TaxObligation(operating, d.due_date, -d.amount_minor, d.name, d.category)
                for d in dues
                if d.amount_minor > 0
            ],
            as_of,
        )
    customers = {i.customer for i in snap.open_invoices}
    rates, inv_lines = invoice_run_rates(hist, customers, items, as_of)
    inp = build_input(
        b.business_id,
        b.base_currency,
        snap.accounts,
        hist,
        as_of,
        items=items,
        explained_ids=explained | inv_lines,
        run_rates=rates,
        fx_to_base=dict(snap.fx_to_base),
        buffer_minor=prefs.buffer_minor,
        operating_account_id=operating,
        history_source="enriched",
    )
    return inp, series, delays


def _monthly_inflows(
    txs: Sequence[Transaction], cats: Mapping[str, str], account_id: str, as_of: date
) -> dict[date, int]:
    """Money in per complete month on the operating account (transfers excluded)."""
    out: dict[date, int] = {}
    last = as_of.replace(day=1)
    for t in txs:
        if t.account_id != account_id or t.amount_minor <= 0 or t.booking_date >= last:
            continue
        if cats.get(t.transaction_id, "").startswith(("transfer.", "financing.")):
            continue
        m = t.booking_date.replace(day=1)
        out[m] = out.get(m, 0) + t.amount_minor
    return out


def analyze_business(
    snap: BusinessSnapshot,
    prefs: Preferences,
    now: datetime,
    previous: Sequence[Insight] = (),
) -> InsightRun:
    """All candidate insights for one business at ``snap.as_of`` (default: its last line)."""
    b = snap.business
    r = renderer(prefs.language)
    txs = list(snap.transactions)
    if not txs or not snap.accounts:
        return InsightRun((), None, None, (), (), ())
    as_of = snap.as_of or max(t.booking_date for t in txs)
    cats = categories_of(snap.annotations)
    dues = estimate_due(
        b.country,
        b.base_currency,
        [t for t in txs if t.booking_date <= as_of],
        cats,
        as_of,
        language=r.language,
    )
    inp, series, delays = _forecast_input(snap, as_of, prefs, cats, dues)
    fc = forecast(inp)
    out: list[Insight] = []
    savings = {
        a.account_id: a.opening_minor
        for a in inp.accounts
        if not a.operating and a.currency == b.base_currency
    }
    names = {a.account_id: a.name for a in snap.accounts if a.name}
    ctx = insights.CashContext(inp, fc, r, now, delays, savings, names)
    for built in (insights.cash_shortfall(ctx), insights.low_balance_soon(ctx)):
        if built is not None:
            out.append(built)
    out += good_news.gap_avoided(ctx, previous)
    operating = next(a.account_id for a in inp.accounts if a.operating)
    best = good_news.best_month(
        b.business_id, _monthly_inflows(txs, cats, operating, as_of), b.base_currency, r, now
    )
    if best is not None:
        out.append(best)
    anomalies: tuple[AnomalyResult, ...]
    if snap.anomalies is None:
        report: AnomalyReport = detect_anomalies(
            [t for t in txs if t.booking_date <= as_of], categories=cats
        )
        anomalies = report.alerts
    else:
        anomalies = tuple(a for a in snap.anomalies if a.is_anomaly)
    by_id = {t.transaction_id: t for t in txs}
    incidents: dict[str, list[AnomalyResult]] = {}
    for res in anomalies:
        incidents.setdefault(res.incident_id or res.transaction_id, []).append(res)
    for incident in incidents.values():
        made = events.anomaly_insight(incident, by_id, r, now)
        if made is not None:
            out.append(made)
    for s in series:
        made = events.price_rise(b.business_id, s, r, now, as_of)
        if made is not None:
            out.append(made)
    open_by: Counter[str] = Counter()
    for inv in snap.open_invoices:
        open_by[inv.customer] += inv.amount_minor
    for customer, delay in sorted(delays.items()):
        made = events.late_payer(
            b.business_id, customer, delay, open_by[customer], b.base_currency, r, now
        )
        if made is not None:
            out.append(made)
    for d in dues:
        made = events.tax_due(b.business_id, d, r, now)
        if made is not None:
            out.append(made)
    for tip in snap.fx_tips:
        made = events.fx_tip(b.business_id, tip, r, now)
        if made is not None:
            out.append(made)
    out += [events.product_offer(b.business_id, o, r, now) for o in snap.offers]
    return InsightRun(tuple(out), inp, fc, anomalies, tuple(dues), tuple(series))
