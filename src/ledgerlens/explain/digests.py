"""Daily and weekly digests: unusual activity, upcoming tax payments, key cash events.

One ``Digest`` (data) rendered three ways: plain text (e-mail body, CLI), HTML (e-mail) and JSON
(API, app). Key cash events come from the forecast's expected daily flows and balance band:
the largest expected inflow and outflow days and the lowest expected balance in the window
(7 days for a daily digest, 14 for a weekly one). Every money figure is integer minor units in
the JSON and Babel-formatted in the text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from html import escape

from ledgerlens.analyze.cashflow import Forecast
from ledgerlens.explain.model import Insight, InsightKind
from ledgerlens.explain.render import Renderer
from ledgerlens.explain.tax_calendar import TaxDue

__all__ = ["CashEvent", "Digest", "build_digest", "to_html", "to_json", "to_text"]

_UNUSUAL = {InsightKind.UNUSUAL_TRANSACTION, InsightKind.DUPLICATE_PAYMENT, InsightKind.CARD_POLICY}


@dataclass(frozen=True, slots=True)
class CashEvent:
    kind: str  # largest_inflow | largest_outflow | lowest_balance
    day: date
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class Digest:
    business_id: str
    period: str  # daily | weekly
    start: date
    end: date
    language: str
    unusual: tuple[Insight, ...]
    taxes: tuple[TaxDue, ...]
    cash: tuple[CashEvent, ...]


def build_digest(
    business_id: str,
    period: str,
    now: datetime,
    stored: Sequence[Insight],
    fc: Forecast | None,
    taxes: Sequence[TaxDue],
    language: str = "en",
) -> Digest:
    if period not in ("daily", "weekly"):
        raise ValueError(f"period must be daily or weekly, not {period!r}")
    days = 1 if period == "daily" else 7
    since = now - timedelta(days=days)
    unusual = tuple(i for i in stored if i.kind in _UNUSUAL and i.created_at >= since)
    window = 7 if period == "daily" else 14
    upcoming = tuple(t for t in taxes if t.due_date <= now.date() + timedelta(days=42))
    cash: list[CashEvent] = []
    if fc is not None:
        h = min(window, fc.horizon_days)
        cur = fc.base_currency
        inflow, outflow = fc.inflow_mean_minor[:h], fc.outflow_mean_minor[:h]

        def day(k: int) -> date:
            return fc.as_of + timedelta(days=k + 1)

        if inflow and max(inflow) > 0:
            k = max(range(h), key=lambda j: inflow[j])
            cash.append(CashEvent("largest_inflow", day(k), inflow[k], cur))
        if outflow and min(outflow) < 0:
            k = min(range(h), key=lambda j: outflow[j])
            cash.append(CashEvent("largest_outflow", day(k), outflow[k], cur))
        low = min(fc.consolidated[:h], key=lambda b: b.p50_minor)
        cash.append(CashEvent("lowest_balance", low.day, low.p50_minor, cur))
    return Digest(
        business_id, period, since.date(), now.date(), language, unusual, upcoming, tuple(cash)
    )


def _lines(d: Digest, r: Renderer) -> list[tuple[str, list[str]]]:
    unusual = [i.title for i in d.unusual] or [r.phrase("digest_nothing")]
    taxes = [
        f"{t.name}: {r.money(t.amount_minor, t.currency)} — {r.day(t.due_date)}" for t in d.taxes
    ] or [r.phrase("digest_no_tax")]
    keys = {
        "largest_inflow": "digest_inflow",
        "largest_outflow": "digest_outflow",
        "lowest_balance": "digest_lowest",
    }
    cash = [
        r.phrase(
            keys[e.kind],
            amount=r.money(
                abs(e.amount_minor) if e.kind != "lowest_balance" else e.amount_minor, e.currency
            ),
            day=r.day(e.day),
        )
        for e in d.cash
    ]
    return [
        (r.phrase("digest_unusual"), unusual),
        (r.phrase("digest_tax"), taxes),
        (r.phrase("digest_cash"), cash),
    ]


def _title(d: Digest, r: Renderer) -> str:
    return r.phrase("digest_daily" if d.period == "daily" else "digest_weekly")


def to_text(d: Digest, r: Renderer) -> str:
    out = [f"{_title(d, r)} ({r.day(d.start)} – {r.day(d.end)})", ""]
    for head, items in _lines(d, r):
        out += [head, *(f"- {x}" for x in items), ""]
    return "\n".join(out).rstrip() + "\n"


def to_html(d: Digest, r: Renderer) -> str:
    parts = [f"<h1>{escape(_title(d, r))}</h1>"]
    for head, items in _lines(d, r):
        parts.append(
            f"<h2>{escape(head)}</h2><ul>"
            + "".join(f"<li>{escape(x)}</li>" for x in items)
            + "</ul>"
        )
    return f'<!doctype html><html lang="{d.language}"><body>{"".join(parts)}</body></html>\n'


def to_json(d: Digest) -> str:
    return json.dumps(
        {
            "business_id": d.business_id,
            "period": d.period,
            "start": d.start.isoformat(),
            "end": d.end.isoformat(),
            "language": d.language,
            "unusual": [i.to_dict() for i in d.unusual],
            "taxes": [
                {
                    **asdict(t),
                    "period_start": t.period_start.isoformat(),
                    "period_end": t.period_end.isoformat(),
                    "due_date": t.due_date.isoformat(),
                    "unshifted_due": t.unshifted_due.isoformat(),
                }
                for t in d.taxes
            ],
            "cash": [
                {
                    "kind": e.kind,
                    "day": e.day.isoformat(),
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                }
                for e in d.cash
            ],
        },
        indent=2,
        sort_keys=True,
        default=str,
    )
