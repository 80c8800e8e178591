"""Real-time ingestion: a batch of transactions pushed by a bank system, stored whole or not at all.

The API's ``POST /v1/businesses/{id}/transactions`` hands rows here (canonical fields, amounts
as decimal strings). Every row is checked first — its account must be one of the business's,
its currency the account's, its amount exact in that currency — and any bad row refuses the
whole batch with an ``ImportIssue`` per problem (``line`` is the row's 1-based position), so a
client never has to guess which half of a batch landed.

De-duplication is the importer's: the client's ``transaction_id`` when it sends one, else the
bank reference with date and amount, else a fingerprint (``dedupe.transaction_keys``); the
database decides, so a retried or concurrent batch stores each transaction once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ledgerlens.core.errors import ImportRefused, LedgerLensError, NotFound
from ledgerlens.core.ledger import Account, Transaction
from ledgerlens.core.money import to_minor
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.ingest.dedupe import transaction_keys
from ledgerlens.ingest.model import ImportIssue, ParsedTransaction
from ledgerlens.ingest.service import to_transaction

__all__ = ["IncomingTransaction", "IngestResult", "TransactionIngestor"]

MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class IncomingTransaction:
    """One pushed transaction in canonical fields; ``amount`` is a signed decimal string."""

    account_id: str
    booking_date: date
    amount: str
    currency: str
    description: str = ""
    transaction_id: str = ""
    value_date: date | None = None
    counterparty_name: str = ""
    counterparty_iban: str = ""
    mcc: str = ""
    card_id: str = ""
    employee_id: str = ""
    balance_after: str | None = None
    bank_reference: str = ""


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one batch did: how many rows were new and how many were already stored."""

    received: int
    created: int
    duplicates: int
    # ids of the batch's lines as stored (a duplicate may name the row it duplicates, or a row
    # that was never stored when another key matched): what the pipeline enriches next
    transaction_ids: tuple[str, ...] = ()
    # the lines as stored when every one of them was new (none a duplicate): what enrichment
    # takes without reading them back; empty otherwise
    new_lines: tuple[Transaction, ...] = ()


class TransactionIngestor:
    """Stores pushed transaction batches for one business at a time (atomic, idempotent)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], source: str = "api") -> None:
        self._uow_factory = uow_factory
        self._source = source

    def ingest(self, business_id: str, rows: Sequence[IncomingTransaction]) -> IngestResult:
        """Check every row, then insert the new ones in one transaction.

        Raises ``NotFound`` for an unknown business and ``ImportRefused`` (with one issue per
        bad row) when any row is unacceptable; nothing is stored then.
        """
        with self._uow_factory() as uow:
            result = self.ingest_in(uow, business_id, rows)
            uow.commit()
        return result

    def ingest_in(
        self,
        uow: UnitOfWork,
        business_id: str,
        rows: Sequence[IncomingTransaction],
        accounts: Mapping[str, Account] | None = None,
    ) -> IngestResult:
        """``ingest`` inside an open unit of work (the caller commits). ``accounts``: the
        business's accounts by id as the caller holds them (``pipeline_realtime``'s facts,
        re-read when a row names an account they lack); the business's existence is then
        taken as known and nothing of it is read here."""
        if len(rows) > MAX_BATCH:
            raise ImportRefused(
                self._source, [ImportIssue(self._source, f"more than {MAX_BATCH} transactions")]
            )
        if accounts is None and uow.businesses.get(business_id) is None:
            raise NotFound(f"unknown business {business_id!r}")
        scope = uow.scope(business_id)
        owned = accounts
        if owned is None:
            owned = {a.account_id: a for a in scope.accounts.list()}
        issues: list[ImportIssue] = []
        parsed: list[tuple[Account, ParsedTransaction]] = []
        for line, row in enumerate(rows, start=1):
            checked = self._check(row, line, owned, issues)
            if checked is not None:
                parsed.append(checked)
        if issues:
            raise ImportRefused(self._source, list(issues))
        keys = transaction_keys([p for _, p in parsed])
        txs = [
            to_transaction(business_id, account, p, key, self._source)
            for (account, p), key in zip(parsed, keys, strict=True)
        ]
        created = scope.transactions.add_new(txs)
        return IngestResult(
            received=len(rows),
            created=created,
            duplicates=len(rows) - created,
            transaction_ids=tuple(t.transaction_id for t in txs),
            new_lines=tuple(txs) if created == len(txs) else (),
        )

    def _check(
        self,
        row: IncomingTransaction,
        line: int,
        owned: Mapping[str, Account],
        issues: list[ImportIssue],
    ) -> tuple[Account, ParsedTransaction] | None:
        account = owned.get(row.account_id)
        if account is None:
            issues.append(
                ImportIssue(self._source, "unknown account", line=line, field="account_id")
            )
            return None
        if row.currency != account.currency:
            issues.append(
                ImportIssue(
                    self._source,
                    f"currency {row.currency} is not the account's ({account.currency})",
                    line=line,
                    field="currency",
                )
            )
            return None
        try:
            amount_minor = to_minor(row.amount, account.currency)
            balance = (
                to_minor(row.balance_after, account.currency)
                if row.balance_after is not None
                else None
            )
        except LedgerLensError as exc:
            issues.append(ImportIssue(self._source, str(exc), line=line, field="amount"))
            return None
        return account, ParsedTransaction(
            booking_date=row.booking_date,
            amount_minor=amount_minor,
            description=row.description,
            line=line,
            value_date=row.value_date,
            counterparty_name=row.counterparty_name,
            counterparty_iban=row.counterparty_iban,
            bank_reference=row.bank_reference,
            mcc=row.mcc,
            card_id=row.card_id,
            balance_after_minor=balance,
            transaction_id=row.transaction_id,
            account_id=row.account_id,
            employee_id=row.employee_id,
        )
