"""Recurring series: cadence, next date on banking days, amount band, price steps, rejections."""

from __future__ import annotations

import random
from datetime import date, timedelta

from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.recurring import SOURCE, Cadence, detect_recurring

_n = 0


def tx(day: date, amount: int, name: str, text: str, *, card: bool = False) -> Transaction:
    global _n
    _n += 1
    return Transaction(f"t{_n:05d}", "b1", "a1", day, day, amount, "EUR", text,
                       counterparty_name=name, card_id="**** 1234" if card else "",
                       mcc="5734" if card else "")  # fmt: skip


def banking_day(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def monthly(dom: int, months: int, start: tuple[int, int] = (2025, 1)) -> list[date]:
    y, m = start
    out = []
    for _ in range(months):
        out.append(banking_day(date(y, m, dom)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_subscription_with_price_step_next_date_and_band() -> None:
    days = monthly(14, 12)
    txs = [tx(d, -2_900 if i < 7 else -3_500, "NOTION LABS", "NOTION LABS INTERNET", card=True)
           for i, d in enumerate(days)]  # fmt: skip
    [s] = detect_recurring(txs, as_of=date(2025, 12, 31))
    assert s.cadence is Cadence.MONTHLY and s.direction == "outflow"
    assert s.member_ids == tuple(t.transaction_id for t in txs)
    [step] = s.price_changes
    assert (step.old_amount_minor, step.new_amount_minor) == (-2_900, -3_500)
    assert step.effective_date == days[7] and step.change_pct == 20.69
    assert s.expected_amount_minor == s.amount_low_minor == s.amount_high_minor == -3_500
    assert s.next_date == date(2026, 1, 14)  # a Wednesday
    assert s.active and s.source == SOURCE and s.confidence >= 0.9


def test_next_date_skips_weekend_and_public_holiday() -> None:
    days = monthly(25, 11, start=(2025, 1))  # Jan..Nov 2025; Dec 25 is a holiday
    txs = [tx(d, -80_000, "Vermieter GmbH", "Dauerauftrag Vermieter GmbH SVWZ+MIETE") for d in days]
    [s] = detect_recurring(txs, as_of=date(2025, 11, 30), country="DE")
    assert s.next_date == date(2025, 12, 29)  # 25th, 26th holidays, 27th/28th weekend
    [s_no_country] = detect_recurring(txs, as_of=date(2025, 11, 30))
    assert s_no_country.next_date == date(2025, 12, 25)


def test_weekly_and_quarterly_cadences() -> None:
    mon = date(2025, 1, 6)
    weekly = [tx(mon + timedelta(weeks=k), -4_000, "CLEANING CO", "CLEANING CO STANDING ORDER")
              for k in range(10)]  # fmt: skip
    quarterly = [tx(d, -60_000, "WATER CO", "WATER CO MD123456") for d in monthly(15, 12)[::3]]
    found = {
        s.counterparty: s for s in detect_recurring(weekly + quarterly, as_of=date(2025, 12, 31))
    }
    assert found["CLEANING CO"].cadence is Cadence.WEEKLY
    assert found["WATER CO"].cadence is Cadence.QUARTERLY
    assert not found["CLEANING CO"].active  # last seen in March: lapsed by December


def test_random_card_purchases_are_not_a_series() -> None:
    rng = random.Random(3)
    start = date(2025, 1, 1)
    txs = [tx(start + timedelta(days=rng.randrange(365)), -rng.randrange(500, 9_000), "TESCO",
              "TESCO STORES", card=True) for _ in range(40)]  # fmt: skip
    assert detect_recurring(txs, as_of=date(2025, 12, 31)) == []


def test_variable_amounts_need_a_commitment_to_be_a_series() -> None:
    """A supplier paid by hand every week is regular but not committed; a direct debit is."""
    rng = random.Random(5)
    mon = date(2025, 1, 6)
    amounts = [-rng.randrange(30_000, 90_000) for _ in range(20)]
    by_hand = [tx(mon + timedelta(weeks=k), a, "FRESH FOODS", f"FRESH FOODS INV {900 + k}")
               for k, a in enumerate(amounts)]  # fmt: skip
    assert detect_recurring(by_hand, as_of=date(2025, 6, 1)) == []
    mandate = [tx(mon + timedelta(weeks=k), a, "FRESH FOODS", f"FRESH FOODS M44120 INV {900 + k}")
               for k, a in enumerate(amounts)]  # fmt: skip
    [s] = detect_recurring(mandate, as_of=date(2025, 6, 1))
    assert s.cadence is Cadence.WEEKLY and s.evidence["constant_reference"] == 1
    assert s.amount_low_minor < s.expected_amount_minor < s.amount_high_minor


def test_same_day_duplicate_is_excluded_from_members() -> None:
    days = monthly(3, 8)
    txs = [tx(d, -12_000, "VODAFONE", "VODAFONE MD99812") for d in days]
    dup = tx(days[4], -12_000, "VODAFONE", "VODAFONE MD99812")
    [s] = detect_recurring([*txs, dup], as_of=date(2025, 9, 1))
    assert len(s.member_ids) == 8 and s.evidence["duplicates_excluded"] == 1


def test_two_series_to_one_payee_are_told_apart_by_their_wording() -> None:
    vat = [tx(d, -(50_000 + 7_919 * i), "Finanzamt", "SEPA-Lastschrift Finanzamt SVWZ+VAT "
              f"{d.month:02d}/2025") for i, d in enumerate(monthly(10, 10))]  # fmt: skip
    wage_tax = [tx(d, -(9_000 + 31 * i), "Finanzamt", "SEPA-Lastschrift Finanzamt SVWZ+PAYROLL TAX "
                   f"{d.month:02d}/2025") for i, d in enumerate(monthly(12, 10))]  # fmt: skip
    found = detect_recurring(vat + wage_tax, as_of=date(2025, 11, 1), country="DE")
    members = sorted(len(s.member_ids) for s in found)
    assert members == [10, 10]
    assert {frozenset(s.member_ids) for s in found} == {
        frozenset(t.transaction_id for t in vat),
        frozenset(t.transaction_id for t in wage_tax),
    }


def test_income_series_fixed_salary_in_yes_marketplace_payouts_no() -> None:
    rng = random.Random(9)
    salary = [tx(d, 250_000, "ACME LTD", "ACME LTD SALARY") for d in monthly(28, 9)]
    start = date(2025, 1, 3)
    payouts = [tx(start + timedelta(weeks=2 * k), rng.randrange(20_000, 90_000), "AMAZON PAYMENTS",
                  f"AMAZON PAYMENTS PAYOUT {k:06d}") for k in range(18)]  # fmt: skip
    [s] = detect_recurring(salary + payouts, as_of=date(2025, 10, 1))
    assert s.direction == "inflow" and s.counterparty == "ACME LTD"
    assert s.expected_amount_minor == 250_000


def test_lines_after_as_of_are_ignored() -> None:
    txs = [tx(d, -1_000, "SPOTIFY", "SPOTIFY", card=True) for d in monthly(5, 12)]
    [s] = detect_recurring(txs, as_of=date(2025, 6, 30))
    assert len(s.member_ids) == 6 and s.next_date == date(2025, 7, 7)  # 5 July is a Saturday
