"""Internal transfer matching: pairs, categories, FX evidence, one-to-one and the date window."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlens.core.ledger import Account, AccountType, Transaction
from ledgerlens.enrich.transfers import SOURCE, EcbRates, match_transfers

CUR = Account("a1", "b1", "GB29NWBK60161331926819", "GBP", AccountType.CURRENT)
SAV = Account("a2", "b1", "GB94BARC10201530093459", "GBP", AccountType.SAVINGS)
CARD = Account("a3", "b1", "CC00001234", "GBP", AccountType.CREDIT_CARD)
USD = Account("a4", "b1", "GB33BUKB20201555555555", "USD", AccountType.CURRENCY)


def tx(
    tid: str, acc: Account, day: date, amount: int, text: str = "", iban: str = ""
) -> Transaction:
    return Transaction(tid, "b1", acc.account_id, day, day, amount, acc.currency, text,
                       counterparty_iban=iban)  # fmt: skip


class FixedRates:
    """A stand-in for ECB rates: one rate per (sell, buy), fixing dated the day before."""

    def __init__(self, rates: dict[tuple[str, str], float]) -> None:
        self.rates = rates

    def rate(self, sell: str, buy: str, on: date) -> tuple[float, date] | None:
        r = self.rates.get((sell, buy))
        return None if r is None else (r, on - timedelta(days=1))


MON = date(2026, 3, 2)


def test_same_currency_transfer_is_paired_with_evidence() -> None:
    txs = [
        tx("t1", CUR, MON, -50_000, "TO ****3459 SAVINGS", SAV.identifier),
        tx("t2", SAV, MON, 50_000, "FROM ****6819 SAVINGS", CUR.identifier),
        tx("t3", CUR, MON, 50_000, "CUSTOMER PAYMENT INV 12"),  # same amount, same account
    ]
    [m] = match_transfers(txs, [CUR, SAV])
    assert m.leg_ids == ("t1", "t2")
    assert m.category == "transfer.internal"
    assert m.source == SOURCE and SOURCE.startswith("rule:transfers@")
    assert m.evidence["out_amount_minor"] == -50_000 and m.evidence["in_amount_minor"] == 50_000
    assert m.evidence["text_evidence"] == "out_leg_names_account+in_leg_names_account+wording"
    assert 0.9 <= m.confidence <= 0.99


def test_card_settlement_current_debit_to_card_credit() -> None:
    txs = [
        tx("t1", CUR, MON, -123_456, "HSBC CARD CC00001234 STATEMENT 02/2026"),
        tx("t2", CARD, MON + timedelta(days=1), 123_456, "PAYMENT RECEIVED THANK YOU"),
    ]
    [m] = match_transfers(txs, [CUR, CARD])
    assert m.category == "transfer.card_settlement"
    assert m.evidence["business_days_apart"] == 1


def test_fx_conversion_within_spread_names_rate_and_its_date() -> None:
    rates = FixedRates({("USD", "GBP"): 0.80})
    txs = [
        tx("t1", USD, MON, -100_000, "FX USD/GBP 1000.00 @ 0.80 FX123"),
        tx("t2", CUR, MON, 79_200, "FX USD/GBP 1000.00 @ 0.80 FX123"),  # 1 % bank margin
    ]
    [m] = match_transfers(txs, [CUR, USD], fx_rates=rates)
    assert m.category == "transfer.fx_conversion"
    assert m.evidence["rate"] == 0.8
    assert m.evidence["rate_date"] == (MON - timedelta(days=1)).isoformat()
    assert m.evidence["rate_deviation_pct"] == pytest.approx(1.0)


def test_fx_outside_spread_or_without_rates_is_not_paired() -> None:
    txs = [
        tx("t1", USD, MON, -100_000, "FX USD/GBP FX123"),
        tx("t2", CUR, MON, 75_000, "FX USD/GBP FX123"),  # 6.25 % off the rate
    ]
    assert match_transfers(txs, [CUR, USD], fx_rates=FixedRates({("USD", "GBP"): 0.80})) == []
    ok = [txs[0], tx("t3", CUR, MON, 80_000, "FX USD/GBP FX123")]
    assert match_transfers(ok, [CUR, USD]) == []  # no rates: no cross-currency evidence
    assert len(match_transfers(ok, [CUR, USD], fx_rates=FixedRates({("USD", "GBP"): 0.8}))) == 1


def test_fx_needs_more_than_a_rate_coincidence() -> None:
    """A card purchase abroad and an unrelated receipt that happen to match the rate."""
    txs = [
        tx("t1", USD, MON, -100_000, "AMAZON WEB SERVICES"),
        tx("t2", CUR, MON, 80_000, "CUSTOMER INVOICE 77"),
    ]
    assert match_transfers(txs, [CUR, USD], fx_rates=FixedRates({("USD", "GBP"): 0.8})) == []


def test_each_leg_in_at_most_one_pair_best_score_wins() -> None:
    txs = [
        tx("t1", CUR, MON, -20_000, "SUPPLIER PAYMENT"),  # same amount, no reference
        tx("t2", CUR, MON, -20_000, "TO ****3459", SAV.identifier),
        tx("t3", SAV, MON, 20_000, "FROM ****6819", CUR.identifier),
    ]
    [m] = match_transfers(txs, [CUR, SAV])
    assert m.leg_ids == ("t2", "t3")


def test_window_is_three_business_days() -> None:
    fri = date(2026, 3, 6)
    near = [
        tx("t1", CUR, fri, -9_000, "TO ****3459"),
        tx("t2", SAV, fri + timedelta(days=4), 9_000),
    ]
    far = [tx("t1", CUR, fri, -9_000, "TO ****3459"), tx("t2", SAV, fri + timedelta(days=8), 9_000)]
    assert len(match_transfers(near, [CUR, SAV])) == 1  # Fri -> Tue: 2 business days
    assert match_transfers(far, [CUR, SAV]) == []  # Fri -> next Sat: 6 business days


def test_single_account_or_foreign_accounts_give_nothing() -> None:
    txs = [tx("t1", CUR, MON, -500, "A"), tx("t2", CUR, MON, 500, "B")]
    assert match_transfers(txs, [CUR]) == []
    other = Account("zz", "b2", "GB00", "GBP")
    assert match_transfers([txs[0], tx("t3", other, MON, 500, "C")], [CUR, SAV]) == []


class FakeConverter:
    """Mimics currency_converter: bounds, and no fixing on weekends."""

    class _B:
        first_date, last_date = date(2020, 1, 1), date(2026, 10, 30)

    bounds: ClassVar[dict[str, object]] = {"USD": _B(), "GBP": _B()}

    def convert(self, amount: float, sell: str, buy: str, day: date) -> float:
        if day.weekday() >= 5:
            raise ValueError("no rate")
        return amount * 1.25


def test_ecb_rates_fall_back_to_the_last_fixing() -> None:
    rates = EcbRates(FakeConverter())
    sat = date(2026, 3, 7)
    assert rates.rate("GBP", "USD", sat) == (1.25, date(2026, 3, 6))  # Friday's fixing
    assert rates.rate("GBP", "USD", date(2026, 11, 20)) == (1.25, date(2026, 10, 30))
    assert rates.rate("GBP", "JPY", sat) is None  # a currency the converter does not know


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([CUR, SAV, CARD]),
            st.integers(0, 20),
            st.sampled_from([-5_000, -2_500, 2_500, 5_000, 7_000]),
            st.sampled_from(["TO ****3459", "FROM ****6819", "PAYMENT RECEIVED", "SHOP"]),
        ),
        max_size=30,
    )
)
def test_pairs_are_one_to_one_opposite_and_inside_the_window(rows: list) -> None:
    txs = [tx(f"t{k}", acc, MON + timedelta(days=d), amt, text)
           for k, (acc, d, amt, text) in enumerate(rows)]  # fmt: skip
    by_id = {t.transaction_id: t for t in txs}
    matches = match_transfers(txs, [CUR, SAV, CARD])
    legs = [leg for m in matches for leg in m.leg_ids]
    assert len(legs) == len(set(legs))
    for m in matches:
        a, b = by_id[m.out_transaction_id], by_id[m.in_transaction_id]
        assert a.amount_minor == -b.amount_minor < 0
        assert a.account_id != b.account_id
        assert abs(m.evidence["business_days_apart"]) <= 3
        assert 0.6 <= m.confidence <= 0.99
