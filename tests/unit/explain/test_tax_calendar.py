"""Tax calendars as data: due dates per country, shifted for weekends and holidays; estimates."""

from __future__ import annotations

from datetime import date

import pytest

from ledgerlens.core.ledger import Transaction
from ledgerlens.explain.tax_calendar import due_dates, estimate_due, roll_to_banking_day


@pytest.mark.parametrize(
    ("country", "after", "until", "expected"),
    [
        # UK VAT quarter to 31 Dec: 1 month + 7 days = Sun 7 Feb 2027 -> met on Fri 5 Feb
        ("GB", date(2027, 1, 15), date(2027, 2, 28), [date(2027, 2, 5)]),
        # DE UStVA for December: 10 Jan 2027 is a Sunday -> Monday 11 Jan
        ("DE", date(2027, 1, 1), date(2027, 1, 31), [date(2027, 1, 11)]),
        # FR CA3 for November: 19 Dec 2026 is a Saturday -> Monday 21 Dec
        ("FR", date(2026, 12, 1), date(2026, 12, 31), [date(2026, 12, 21)]),
        # US estimated tax: 15 Jan 2028 is a Saturday; Mon 17 Jan is MLK day -> Tue 18 Jan
        ("US", date(2028, 1, 1), date(2028, 1, 31), [date(2028, 1, 18)]),
    ],
)
def test_due_dates_are_shifted_off_weekends_and_holidays(
    country: str, after: date, until: date, expected: list[date]
) -> None:
    assert [r[5] for r in due_dates(country, after, until)] == expected


def test_de_quarterly_variant_and_holiday_roll() -> None:
    got = due_dates("DE", date(2026, 12, 31), date(2027, 3, 31), "ustva_quarterly")
    assert [(r[2], r[3], r[5]) for r in got] == [
        (date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 11))
    ]
    assert roll_to_banking_day(date(2026, 12, 25), "DE") == date(2026, 12, 28)  # Christmas
    assert roll_to_banking_day(date(2026, 12, 25), "GB", backward=True) == date(2026, 12, 24)


def _tx(tid: str, day: date, amount: int) -> Transaction:
    return Transaction(tid, "b", "a", day, day, amount, "EUR", tid)


def test_vat_estimate_from_categorized_flows_scales_a_running_period() -> None:
    txs = [
        _tx("s1", date(2026, 11, 3), 1_190_000),
        _tx("s2", date(2026, 11, 20), 1_190_000),
        _tx("p1", date(2026, 11, 10), -595_000),
        _tx("r1", date(2026, 11, 2), -300_000),
    ]
    cats = {
        "s1": "income.sales",
        "s2": "income.sales",
        "p1": "cogs.inventory_materials",
        "r1": "opex.rent_lease",
    }
    (due,) = estimate_due("DE", "EUR", txs, cats, date(2026, 11, 30), horizon_days=20)
    assert due.due_date == date(2026, 12, 10)
    # 19 % VAT inside gross amounts: 2,380,000 * 19/119 = 380,000; 595,000 * 19/119 = 95,000
    assert due.evidence["output_vat_minor"] == 380_000
    assert due.evidence["input_vat_minor"] == 95_000  # rent carries no VAT here
    assert due.amount_minor == 285_000 and due.confidence == 0.7
    (mid,) = estimate_due("DE", "EUR", txs[:1], cats, date(2026, 11, 15), horizon_days=30)
    assert mid.evidence["period_share_seen"] == 0.5 and mid.amount_minor == 380_000  # x2


def test_unknown_country_has_no_calendar() -> None:
    assert due_dates("ZZ", date(2026, 1, 1), date(2026, 12, 31)) == []
