"""Realism checks: category mix, seasonality, tax calendars, cash gaps, future truth."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, timedelta

from ledgerlens.synth import ARCHETYPES, SimBusiness, World
from ledgerlens.synth.writers.truth_files import weekly_shortfall


def _mix(world: World, b: SimBusiness) -> dict[str, float]:
    """Share of income.* inflows / of non-transfer outflows per expected_mix key (history)."""
    h = world.history_days
    inflow: Counter[str] = Counter()
    outflow: Counter[str] = Counter()
    for r in b.txns:
        if r.day >= h or r.category.startswith("transfer."):
            continue
        if r.category.startswith("income."):
            inflow[r.category] += r.amount_minor
        elif r.amount_minor < 0:
            outflow[r.category] -= r.amount_minor
    total_in, total_out = sum(inflow.values()) or 1, sum(outflow.values()) or 1
    out = {}
    for key in ARCHETYPES[b.archetype].expected_mix:
        src, total = (inflow, total_in) if key.startswith("income") else (outflow, total_out)
        out[key] = sum(v for c, v in src.items() if c == key or c.startswith(key + ".")) / total
    return out


def test_every_archetype_present_and_mix_in_documented_ranges(synth_world: World) -> None:
    assert {b.archetype for b in synth_world.businesses} == set(ARCHETYPES)
    for b in synth_world.businesses:
        for key, share in _mix(synth_world, b).items():
            lo, hi = ARCHETYPES[b.archetype].expected_mix[key]
            assert lo <= share <= hi, (b.business_id, b.archetype, key, round(share, 3))


def _monthly_sales(world: World, b: SimBusiness) -> dict[int, int]:
    months: dict[int, int] = defaultdict(int)
    for r in b.txns:
        if r.day < world.history_days and r.category in (
            "income.sales",
            "income.marketplace_payout",
        ):
            months[world.day_dates[r.day].month] += r.amount_minor
    return months


def test_yearly_seasonality(synth_world: World) -> None:
    for b in synth_world.businesses:
        m = _monthly_sales(synth_world, b)
        if b.archetype == "tourism":
            assert m[6] + m[7] + m[8] > 2.5 * (m[12] + m[1] + m[2]), b.business_id
        if b.archetype == "retail":
            assert m[12] > 1.2 * (sum(m.values()) - m[12]) / 11, b.business_id


def test_weekly_seasonality_of_cafe_card_takings(synth_world: World) -> None:
    """Card takings settle per sale day; the reference ends with the sale date (ddmm)."""
    by_weekday: Counter[int] = Counter()
    ref = re.compile(r"\d{7} (\d{2})(\d{2})")
    cafes = [b for b in synth_world.businesses if b.archetype == "cafe"]
    assert cafes
    for b in cafes:
        for r in b.txns:
            m = ref.search(r.description)
            if r.kind == "batch_in" and r.category == "income.sales" and m:
                booked = synth_world.day_dates[r.day]
                sale = date(booked.year, int(m.group(2)), int(m.group(1)))
                if sale > booked:
                    sale = sale.replace(year=booked.year - 1)
                by_weekday[sale.weekday()] += r.amount_minor
    assert by_weekday[5] > 1.3 * by_weekday[0]  # Saturday beats Monday


def _tax_rows(world: World, category: str, who: str = "") -> dict[str, list[date]]:
    out: dict[str, list[date]] = defaultdict(list)
    for b in world.businesses:
        for r in b.txns:
            if r.category == category and r.amount_minor < 0 and who in r.counterparty_name:
                out[b.country].append(world.day_dates[r.day])
    return out


def test_vat_follows_each_countrys_calendar(synth_world: World) -> None:
    rows = _tax_rows(synth_world, "tax.vat")
    assert set(rows) >= {"GB", "DE", "NL", "FR"}
    for d in rows.get("GB", []):  # 1 month + 7 days after the quarter, paid to arrive by then
        assert 2 <= d.day <= 7, d
    for d in rows.get("DE", []):  # 10th of the next month (or a month later), rolled forward
        assert 10 <= d.day <= 14, d
    for d in rows.get("NL", []):  # end of the month after the quarter
        assert d.month in (1, 4, 7, 10) and (d + timedelta(days=4)).month != d.month, d
    for d in rows.get("FR", []):
        assert 15 <= d.day <= 27, d
    for d in rows.get("US", []):  # state sales tax on the 20th
        assert 20 <= d.day <= 24, d


def test_payroll_and_corporate_taxes_follow_the_calendar(synth_world: World) -> None:
    payroll = _tax_rows(synth_world, "opex.payroll_taxes_benefits")
    checks = {
        "GB": ("HMRC", lambda d: 18 <= d.day <= 22),
        "NL": ("Belasting", lambda d: (d + timedelta(days=4)).month != d.month),
        "FR": ("URSSAF", lambda d: 15 <= d.day <= 19),
        "US": ("IRS", lambda d: 15 <= d.day <= 19),
        "DE": ("Finanzamt", lambda d: 10 <= d.day <= 14),
    }
    n = 0
    for country, (who, ok) in checks.items():
        for d in _tax_rows(synth_world, "opex.payroll_taxes_benefits", who).get(country, []):
            assert ok(d), (country, d)
            n += 1
    assert n > 20 and payroll
    corp = _tax_rows(synth_world, "tax.corporate_income")
    for d in corp.get("DE", []):
        assert d.month in (3, 6, 9, 12) and 10 <= d.day <= 14
    for d in corp.get("FR", []):
        assert d.month in (3, 6, 9, 12) and 15 <= d.day <= 19
    for d in corp.get("US", []):
        assert d.month in (4, 6, 9, 12) and 15 <= d.day <= 19
    for d in corp.get("GB", []):
        assert (d.month, d.day) in ((10, 1), (9, 30), (9, 29), (9, 28)), d


def test_a_quarter_meet_a_cash_gap_and_history_stays_positive(synth_world: World) -> None:
    h = synth_world.history_days
    gaps = [b for b in synth_world.businesses if b.cash_gap]
    assert 0.15 <= len(gaps) / len(synth_world.businesses) <= 0.35
    assert {b.gap_foreseeable for b in gaps} == {True, False}
    # an unforeseeable gap says when its unannounced causes have all begun; a foreseeable one
    # has none
    for b in gaps:
        assert (b.gap_causes_begin is None) == b.gap_foreseeable
        if b.gap_causes_begin is not None:
            assert synth_world.history_end < b.gap_causes_begin
    for b in synth_world.businesses:
        primary = b.daily_balances[0]
        assert (primary[:h] >= 0).all(), b.business_id
        flags = [short for *_, short in weekly_shortfall(synth_world, b)]
        assert len(flags) == 13
        assert any(flags) == b.cash_gap == bool((primary[h:] < 0).any())


def test_future_items_are_known_at_history_end(synth_world: World) -> None:
    end = synth_world.history_end
    kinds: Counter[str] = Counter()
    for b in synth_world.businesses:
        for f in b.future_items:
            kinds[f.kind] += 1
            if f.kind == "scheduled_payment":
                assert f.series and end < f.due_date <= synth_world.future_end
            else:
                assert f.amount_minor > 0 and f.category == "income.sales"
    assert kinds["open_invoice"] > 0 and kinds["scheduled_payment"] > 0


def test_recurring_series_recur(synth_world: World) -> None:
    for b in synth_world.businesses:
        series = Counter(r.series for r in b.txns if r.series)
        assert series
        recurring = [s for s, n in series.items() if n >= 3]
        assert len(recurring) >= 0.7 * len(series), b.business_id


def test_distress_and_products_are_labelled(synth_world: World) -> None:
    assert any(b.distress for b in synth_world.businesses)
    assert not all(b.distress for b in synth_world.businesses)
    products = {p for b in synth_world.businesses for p, _ in b.products}
    assert len(products) >= 3
    for b in synth_world.businesses:
        assert 0.0 < b.distress_score < 1.0
