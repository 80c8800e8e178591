"""A small, hand-built business for the anomaly tests: ordinary habits plus what a test adds."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledgerlens.core.ledger import Transaction

START = date(2026, 1, 5)  # a Monday
BID = "b1"


@dataclass
class Book:
    """Collects transactions with unique ids; ``add`` returns the new line."""

    lines: list[Transaction] = field(default_factory=list)

    def add(self, day: int, amount_minor: int, description: str, name: str = "", *,
            mcc: str = "", card: str = "", employee: str = "", iban: str = "",
            account: str = "a1") -> Transaction:  # fmt: skip
        d = START + timedelta(days=day)
        t = Transaction(
            transaction_id=f"t{len(self.lines):05d}", business_id=BID, account_id=account,
            booking_date=d, value_date=d, amount_minor=amount_minor, currency="EUR",
            description=description, counterparty_name=name, counterparty_iban=iban, mcc=mcc,
            card_id=card, employee_id=employee,
        )  # fmt: skip
        self.lines.append(t)
        return t


def ordinary_business(days: int = 300, seed: int = 7) -> Book:
    """Sales in, suppliers weekly, a steady utility bill, staff cards at regular merchants."""
    rng = random.Random(seed)
    book = Book()
    suppliers = ["Weber Imports KG", "Bos Beverages B.V.", "Apex Roasters GmbH"]
    for day in range(days):
        wd = (START + timedelta(days=day)).weekday()
        if wd < 6:
            book.add(day, rng.randint(80_000, 160_000), "CARD SETTLEMENT VISA", "VISA")
        if wd == 1:
            for k, s in enumerate(suppliers):
                book.add(day, -rng.randint(20_000, 60_000), f"SEPA CT {s} INV {day}{k}", s,
                         iban=f"DE0012345678901234{k}")  # fmt: skip
        if day % 30 == 3:
            book.add(day, -rng.randint(9_500, 10_500), "SEPA DD STADTWERKE MREF 77", "STADTWERKE")
            book.add(day, -250_000, "SEPA CT Hausverwaltung Miete", "Hausverwaltung Meyer")
        if wd < 5 and rng.random() < 0.6:
            card, emp = rng.choice([("**** 1111", "e1"), ("**** 2222", "e2")])
            merchant, mcc = rng.choice([("ARAL", "5541"), ("REWE", "5411"), ("MCPAPER", "5943")])
            hh = rng.randint(8, 18)
            when = (START + timedelta(days=day)).strftime("%d.%m.%Y")
            book.add(day, -rng.randint(800, 9_000),
                     f"Kartenzahlung girocard {merchant}//Berlin/DE {when} {hh:02d}:15 Karte",
                     merchant, mcc=mcc, card=card, employee=emp)  # fmt: skip
    return book
