"""The shipped default categorizer, loaded once per session (as bootstrap would)."""

from __future__ import annotations

from datetime import date

import pytest

from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.categorize import Categorizer


@pytest.fixture(scope="session")
def categorizer() -> Categorizer:
    from ledgerlens.adapters.model_store import load_categorizer

    cat, _ = load_categorizer()
    return cat


def make_tx(
    n: int,
    description: str,
    amount_minor: int,
    *,
    business_id: str = "b1",
    counterparty_name: str = "",
    counterparty_iban: str = "",
    mcc: str = "",
    bank_tx_code: str = "",
    purpose_code: str = "",
    currency: str = "EUR",
) -> Transaction:
    return Transaction(
        transaction_id=f"{business_id}-t{n}",
        business_id=business_id,
        account_id=f"{business_id}-acc",
        booking_date=date(2026, 3, 1 + n % 28),
        value_date=None,
        amount_minor=amount_minor,
        currency=currency,
        description=description,
        counterparty_name=counterparty_name,
        counterparty_iban=counterparty_iban,
        mcc=mcc,
        bank_tx_code=bank_tx_code,
        purpose_code=purpose_code,
    )
