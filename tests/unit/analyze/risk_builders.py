"""Hand-built ledgers for the risk tests: a business whose every feature we can compute by hand."""

from __future__ import annotations

from datetime import date, timedelta

from ledgerlens.core.ledger import Transaction

START = date(2026, 1, 1)


class Ledger:
    """Append lines to one business; balances of the primary account are kept as the bank would."""

    def __init__(self, business_id: str = "b1", opening_minor: int = 0) -> None:
        self.business_id = business_id
        self.lines: list[Transaction] = []
        self.balance = {"acc1": opening_minor, "acc2": 0}

    def add(
        self,
        day: int,
        amount_minor: int,
        *,
        account: str = "acc1",
        name: str = "",
        text: str = "payment",
    ) -> Transaction:
        self.balance[account] += amount_minor
        t = Transaction(
            transaction_id=f"{self.business_id}_t{len(self.lines)}",
            business_id=self.business_id,
            account_id=account,
            booking_date=START + timedelta(days=day),
            value_date=None,
            amount_minor=amount_minor,
            currency="EUR",
            description=text,
            counterparty_name=name,
            balance_after_minor=self.balance[account],
        )
        self.lines.append(t)
        return t


def steady_business(
    months: int = 12,
    *,
    revenue_minor: int = 1_000_000,
    customers: int = 4,
    growth: float = 0.0,
    opening_minor: int = 2_000_000,
) -> Ledger:
    """Customers paying monthly invoices, rent and payroll going out, a healthy buffer."""
    led = Ledger(opening_minor=opening_minor)
    for m in range(months):
        scale = (1 + growth) ** m
        for c in range(customers):
            led.add(m * 30 + 3 + c, round(revenue_minor * scale / customers), name=f"CUSTOMER {c}")
        led.add(m * 30 + 10, -round(revenue_minor * 0.5), name="LANDLORD", text="rent")
        led.add(m * 30 + 25, -round(revenue_minor * 0.4), name="PAYROLL", text="salaries")
    return led
