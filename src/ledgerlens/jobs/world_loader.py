"""Load a generated synthetic world straight into the database (the demo and benchmark fast path).

The rows are the same as the world's canonical CSV (same ids, same dedup keys as a canonical CSV
import would give), so loading a world and importing its CSV files are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ledgerlens.core.ledger import Account, Business, Transaction
from ledgerlens.core.money import to_minor
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.synth import World
from ledgerlens.synth.writers.canonical_csv import canonical_rows

__all__ = ["load_world"]


def load_world(
    uow_factory: Callable[[], UnitOfWork],
    world: World,
    *,
    batch_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Store every business, account and history transaction; return (businesses, new rows).

    Each business commits on its own, so a large world loads in bounded memory and a re-run adds
    nothing (businesses and accounts are idempotent, transactions dedupe by id).
    """
    new_rows = 0
    total = len(world.businesses)
    for done, b in enumerate(world.businesses, start=1):
        with uow_factory() as uow:
            uow.businesses.add(Business(b.business_id, b.name, b.country, b.base_currency))
            scope = uow.scope(b.business_id)
            for acc in b.accounts:
                scope.accounts.add(
                    Account(
                        acc.account_id,
                        b.business_id,
                        acc.identifier,
                        acc.currency,
                        acc.account_type,
                        acc.name,
                    )
                )
            batch: list[Transaction] = []
            for row in canonical_rows(world, b):
                batch.append(_transaction(row))
                if len(batch) >= batch_size:
                    new_rows += scope.transactions.add_new(batch)
                    batch = []
            if batch:
                new_rows += scope.transactions.add_new(batch)
            uow.commit()
        if progress is not None:
            progress(done, total)
    return total, new_rows


def _transaction(row: list[str]) -> Transaction:
    (tid, bid, acc, _acc_ccy, booked, value, amount, ccy, desc, cp_name, cp_iban, mcc, card,
     employee, balance, ref) = row  # fmt: skip
    return Transaction(
        transaction_id=tid,
        business_id=bid,
        account_id=acc,
        booking_date=date.fromisoformat(booked),
        value_date=date.fromisoformat(value) if value else None,
        amount_minor=to_minor(amount, ccy),
        currency=ccy,
        description=desc,
        counterparty_name=cp_name,
        counterparty_iban=cp_iban,
        mcc=mcc,
        card_id=card,
        employee_id=employee,
        balance_after_minor=to_minor(balance, ccy) if balance else None,
        bank_reference=ref,
        source_path="synth",
        dedup_key="id:" + tid,
    )
