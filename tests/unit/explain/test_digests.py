"""Digests: the cash events are the forecast's own extremes; three renderings of one digest."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ledgerlens.analyze.cashflow import forecast
from ledgerlens.explain.digests import build_digest, to_html, to_json, to_text
from ledgerlens.explain.render import renderer
from ledgerlens.explain.tax_calendar import TaxDue

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "golden"))
from test_messages import samples, shortfall_input

NOW = datetime(2033, 3, 1, 6, 0, tzinfo=UTC)


def test_weekly_digest_figures_come_from_the_forecast_and_the_feed() -> None:
    fc = forecast(shortfall_input())
    stored = list(samples("en").values())
    tax = TaxDue(
        "DE",
        "ustva_monthly",
        "VAT advance return",
        "tax.vat",
        date(2033, 2, 1),
        date(2033, 2, 28),
        date(2033, 3, 10),
        date(2033, 3, 10),
        412_345,
        "EUR",
        0.7,
    )
    d = build_digest("biz-golden", "weekly", NOW, stored, fc, [tax])
    cash = {e.kind: e for e in d.cash}
    inflow = fc.inflow_mean_minor[:14]
    outflow = fc.outflow_mean_minor[:14]
    assert cash["largest_inflow"].amount_minor == max(inflow)
    assert cash["largest_inflow"].day == fc.as_of + timedelta(days=inflow.index(max(inflow)) + 1)
    assert cash["largest_outflow"].amount_minor == min(outflow)
    low = min(fc.consolidated[:14], key=lambda b: b.p50_minor)
    assert (cash["lowest_balance"].day, cash["lowest_balance"].amount_minor) == (
        low.day,
        low.p50_minor,
    )
    assert {str(i.kind) for i in d.unusual} == {
        "unusual_transaction",
        "duplicate_payment",
        "card_policy_breach",
    }
    daily = build_digest("biz-golden", "daily", NOW + timedelta(days=2), stored, fc, [tax])
    assert daily.unusual == ()  # created two days ago: not in yesterday's digest

    r = renderer("de")
    text = to_text(d, r)
    assert "Wichtige Zahlungsereignisse" in text and "4.123,45\xa0€" in text
    assert to_html(d, r).startswith('<!doctype html><html lang="en">')
    data = json.loads(to_json(d))
    assert data["taxes"][0]["amount_minor"] == 412_345
    assert [c["kind"] for c in data["cash"]] == [e.kind for e in d.cash]
