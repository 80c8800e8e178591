"""A payment a bank's system registers stands for the detected occurrence it matches (same
account and payee, a few days and a quarter of the amount apart), never for the whole series,
and never for a payment of another size."""

from __future__ import annotations

from datetime import date, timedelta

from ledgerlens.analyze.cashflow.known_items import ScheduledPayment, stored_items, without_covered
from ledgerlens.analyze.cashflow.model import ItemKind, KnownItem
from ledgerlens.core.ledger import Account, Transaction
from ledgerlens.core.ports import KnownItemRecord
from ledgerlens.ml.forecast_csv import CsvBusiness, business_input


def _rent(month: int, amount: int = -180_000, payee: str = "Harbour Estates") -> KnownItem:
    return KnownItem(f"rent#{month}", "acc-1", date(2027, month, 1), amount, ItemKind.RECURRING,
                     counterparty=payee)  # fmt: skip


SERIES = [_rent(1), _rent(2), _rent(3)]


def _ids(items: list[KnownItem]) -> list[str]:
    return [i.item_id for i in items]


def test_the_stated_rent_replaces_only_its_own_month() -> None:
    stated = [ScheduledPayment("acc-1", date(2027, 2, 2), -180_000, counterparty="HARBOUR ESTATES")]
    assert _ids(without_covered(SERIES, stated)) == ["rent#1", "rent#3"]


def test_a_payment_of_another_size_or_day_or_payee_or_account_is_its_own() -> None:
    others = [
        ScheduledPayment("acc-1", date(2027, 2, 1), -40_000, counterparty="Harbour Estates"),
        ScheduledPayment("acc-1", date(2027, 2, 12), -180_000, counterparty="Harbour Estates"),
        ScheduledPayment("acc-1", date(2027, 2, 1), -180_000, counterparty="Other Landlord"),
        ScheduledPayment("acc-2", date(2027, 2, 1), -180_000, counterparty="Harbour Estates"),
        ScheduledPayment("acc-1", date(2027, 2, 1), -180_000),  # no payee: cannot match
    ]
    for payment in others:
        assert _ids(without_covered(SERIES, [payment])) == _ids(SERIES), payment


def test_only_recurring_occurrences_are_covered() -> None:
    invoice = KnownItem("inv-7", "acc-1", date(2027, 2, 1), -180_000, ItemKind.SCHEDULED,
                        counterparty="Harbour Estates")  # fmt: skip
    stated = [ScheduledPayment("acc-1", date(2027, 2, 1), -180_000, counterparty="Harbour Estates")]
    assert _ids(without_covered([*SERIES, invoice], stated)) == ["rent#1", "rent#3", "inv-7"]


def test_within_a_quarter_of_the_amount_counts_as_the_same_payment() -> None:
    near = [ScheduledPayment("acc-1", date(2027, 3, 4), -220_000, counterparty="Harbour Estates")]
    far = [ScheduledPayment("acc-1", date(2027, 3, 4), -230_000, counterparty="Harbour Estates")]
    assert _ids(without_covered(SERIES, near)) == ["rent#1", "rent#2"]
    assert _ids(without_covered(SERIES, far)) == _ids(SERIES)


def _ledger() -> CsvBusiness:
    """Twelve months of rent on the 1st and daily takings: a monthly series to detect."""
    txs = [
        Transaction(f"rent-{m}", "b", "acc-1", date(2026, m, 1), None, -180_000, "GBP",
                    "RENT HARBOUR ESTATES", counterparty_name="Harbour Estates")
        for m in range(1, 13)
    ] + [
        Transaction(f"sale-{d}", "b", "acc-1", date(2026, 1, 1) + timedelta(days=d), None,
                    25_000, "GBP", "CARD TAKINGS")
        for d in range(0, 360, 2)
    ]  # fmt: skip
    return CsvBusiness("b", "GBP", (Account("acc-1", "b", "GB00TEST", "GBP"),), tuple(txs))


def test_a_stored_payment_replaces_one_occurrence_the_world_payment_the_series() -> None:
    ledger, as_of = _ledger(), date(2026, 12, 20)
    stated = [ScheduledPayment("acc-1", date(2027, 1, 1), -180_000, counterparty="Harbour Estates")]

    def rents(items: tuple[KnownItem, ...] | list[KnownItem]) -> list[tuple[ItemKind, date]]:
        return sorted((i.kind, i.due_date) for i in items if i.amount_minor == -180_000)

    plain = business_input(ledger, as_of)
    assert [k for k, _ in rents(plain.items)].count(ItemKind.RECURRING) >= 3  # detected
    stored = business_input(ledger, as_of, scheduled=stated, stored=True)
    assert (ItemKind.SCHEDULED, date(2027, 1, 1)) in rents(stored.items)
    assert (ItemKind.RECURRING, date(2027, 1, 1)) not in rents(stored.items)
    assert len(rents(stored.items)) == len(rents(plain.items))  # January once, the rest kept
    world = business_input(ledger, as_of, scheduled=stated)
    assert rents(world.items) == [(ItemKind.SCHEDULED, date(2027, 1, 1))]  # replaces the series


def _invoice(ref: str, account: str = "acc-1") -> KnownItemRecord:
    return KnownItemRecord("b", f"item-{ref}", "invoice", account, date(2026, 12, 10), 500_000,
                           "GBP", counterparty="Brightside Events", reference=ref)  # fmt: skip


def _receipt(
    text: str, amount: int = 500_000, account: str = "acc-1", day: int = 12
) -> Transaction:
    return Transaction(f"t-{text}-{amount}-{account}-{day}", "b", account, date(2026, 12, day),
                       None, amount, "GBP", text)  # fmt: skip


def test_a_receipt_quoting_the_invoice_number_pays_it_before_the_store_is_told() -> None:
    as_of = date(2026, 12, 15)
    paid = _receipt("FASTER PAYMENT BRIGHTSIDE inv-2041")
    _, invoices = stored_items([_invoice("INV-2041")], as_of, [paid])
    assert invoices == []
    not_paying = [
        _receipt("FASTER PAYMENT INV-2041", amount=-500_000),  # money out quotes it
        _receipt("FASTER PAYMENT INV-2041", account="acc-2"),  # another account
        _receipt("FASTER PAYMENT INV-2041", day=20),  # after the as-of day
        _receipt("FASTER PAYMENT INV-2042"),  # another number
    ]
    _, invoices = stored_items([_invoice("INV-2041")], as_of, not_paying)
    assert [i.item_id for i in invoices] == ["item-INV-2041"]
    _, short = stored_items([_invoice("A1")], as_of, [_receipt("PAYMENT A1 THANKS")])
    assert [i.item_id for i in short] == ["item-A1"]  # too short to look for
