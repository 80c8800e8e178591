"""Importing statement files: detect, parse, check, and store each file whole or not at all.

The flow for one file:
    read → detect format → parse (streaming where the parser can) → for each statement: resolve the
    account, key every transaction, insert the new ones → record the file → commit.
Any fatal issue, or any storage failure, rolls the whole file back: a refused file leaves the
database exactly as it was. Re-importing adds nothing (``dedupe``); two imports of the same file
running at once add it once (the repository's insert ignores existing keys).
Balances are checked (opening + Σ = closing) and reported per statement, never repaired.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from ledgerlens.core.errors import LedgerLensError
from ledgerlens.core.ids import stable_id
from ledgerlens.core.ledger import Account, AccountType, Statement, Transaction
from ledgerlens.core.money import validate_currency
from ledgerlens.core.ports import BusinessScope, UnitOfWork
from ledgerlens.core.privacy import mask_card_id, mask_pans_in_text
from ledgerlens.ingest.dedupe import statement_key, transaction_keys
from ledgerlens.ingest.detect import HEAD_BYTES, default_parsers, detect_parser, parsers_for
from ledgerlens.ingest.model import (
    ImportIssue,
    ParsedStatement,
    ParsedTransaction,
    StatementParser,
)

__all__ = ["ImportReport", "StatementImporter", "to_transaction"]


class _StreamingParser(Protocol):
    def iter_parse(
        self, stream: BinaryIO, path: str, issues: list[ImportIssue]
    ) -> Iterator[ParsedStatement]: ...


@dataclass(slots=True)
class ImportReport:
    """What happened to one file; ``--json`` prints ``as_dict()``."""

    path: str
    format: str = ""
    statements: int = 0
    transactions: int = 0
    new: int = 0
    duplicates: int = 0
    reconciled: int = 0
    unreconciled: int = 0
    issues: list[ImportIssue] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return any(i.fatal for i in self.issues)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "statements": self.statements,
            "transactions": self.transactions,
            "new": self.new,
            "duplicates": self.duplicates,
            "reconciled": self.reconciled,
            "unreconciled": self.unreconciled,
            "refused": self.refused,
            "issues": [i.as_dict() for i in self.issues],
        }


class _Refused(Exception):
    """Internal: abort the unit of work; the report already holds the issue."""


class StatementImporter:
    """Imports statement files for one business into storage, atomically and idempotently."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        parsers: Sequence[StatementParser] | None = None,
        batch_size: int = 5000,
    ) -> None:
        self._uow_factory = uow_factory
        self._parsers = list(parsers) if parsers is not None else default_parsers()
        self._batch_size = batch_size

    def import_file(
        self,
        path: Path,
        business_id: str,
        account_id: str | None = None,
        fmt: str = "auto",
        source_name: str | None = None,
    ) -> ImportReport:
        """Import one file; ``source_name`` is what reports and rows call it (an upload's name
        rather than the server's temporary path)."""
        shown = source_name or str(path)
        report = ImportReport(path=shown)
        try:
            candidates = parsers_for(fmt, self._parsers)
        except ValueError as exc:
            report.issues.append(ImportIssue(shown, str(exc), field="format"))
            return report
        try:
            with path.open("rb") as fh:
                head = fh.read(HEAD_BYTES)
        except OSError as exc:
            report.issues.append(ImportIssue(shown, f"cannot read file: {exc.strerror or exc}"))
            return report
        if not head.strip():
            report.issues.append(ImportIssue(shown, "the file is empty"))
            return report
        parser = detect_parser(head, path.name, candidates)
        if parser is None:
            wanted = "" if fmt == "auto" else f" as {fmt}"
            report.issues.append(ImportIssue(shown, f"unrecognised statement format{wanted}"))
            return report
        report.format = parser.format
        try:
            self._import(path, parser, business_id, account_id, report)
        except _Refused:
            pass
        except LedgerLensError as exc:
            report.issues.append(ImportIssue(shown, f"refused: {exc}"))
        except Exception as exc:  # noqa: BLE001 - a parser or storage bug must not crash the run
            report.issues.append(
                ImportIssue(shown, f"internal error while importing ({type(exc).__name__})")
            )
        if report.refused:
            report.new = report.duplicates = 0
        return report

    # -- the work ----------------------------------------------------------------------------

    def _statements(
        self, path: Path, parser: StatementParser, report: ImportReport
    ) -> Iterator[ParsedStatement]:
        shown = report.path
        if hasattr(parser, "iter_parse"):
            streaming: _StreamingParser = parser  # type: ignore[assignment]
            with path.open("rb") as fh:
                yield from streaming.iter_parse(fh, shown, report.issues)
            return
        result = parser.parse(path.read_bytes(), shown)
        if result.format:
            report.format = result.format
        report.issues.extend(result.issues)
        if result.refused:
            raise _Refused
        yield from result.statements

    def _import(
        self,
        path: Path,
        parser: StatementParser,
        business_id: str,
        account_id: str | None,
        report: ImportReport,
    ) -> None:
        shown = report.path
        digest = hashlib.sha256()
        with self._uow_factory() as uow:
            if uow.businesses.get(business_id) is None:
                report.issues.append(
                    ImportIssue(shown, f"unknown business {business_id!r}", field="business")
                )
                raise _Refused
            scope = uow.scope(business_id)
            accounts: dict[tuple[str, str], Account] = {}
            pending: list[Transaction] = []
            for statement in self._statements(path, parser, report):
                if report.refused:
                    raise _Refused
                pending.extend(
                    self._store_statement(scope, statement, account_id, accounts, report)
                )
                if len(pending) >= self._batch_size:
                    self._flush(scope, pending, report)
            if report.refused:
                raise _Refused
            self._flush(scope, pending, report)
            if report.statements == 0 and report.transactions == 0:
                report.issues.append(ImportIssue(shown, "the file holds no statements"))
                raise _Refused
            if report.transactions == 0:
                report.issues.append(
                    ImportIssue(shown, "balance report only: no transactions", fatal=False)
                )
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            scope.imports.record(
                digest.hexdigest(), shown, report.format, report.transactions, report.new
            )
            uow.commit()

    def _account_for(
        self,
        scope: BusinessScope,
        statement: ParsedStatement,
        account_id: str | None,
        cache: dict[tuple[str, str], Account],
        report: ImportReport,
    ) -> Account:
        shown = report.path
        currency = statement.currency
        try:
            validate_currency(currency)
        except LedgerLensError as exc:
            report.issues.append(
                ImportIssue(shown, str(exc), line=statement.line, field="currency")
            )
            raise _Refused from exc
        cache_key = (account_id or statement.account_identifier, currency)
        if cache_key in cache:
            return cache[cache_key]
        if account_id:
            account = scope.accounts.get(account_id)
            if account is None:
                report.issues.append(
                    ImportIssue(shown, f"unknown account {account_id!r}", field="account")
                )
                raise _Refused
            if account.currency != currency:
                report.issues.append(
                    ImportIssue(
                        shown,
                        f"statement is in {currency} but account {account_id} is in "
                        f"{account.currency}",
                        line=statement.line,
                        field="currency",
                    )
                )
                raise _Refused
        else:
            identifier = statement.account_identifier.strip() or f"{report.format}:{currency}"
            account = scope.accounts.get(identifier) or scope.accounts.find(identifier, currency)
            if account is not None and account.currency != currency:
                account = None
            if account is None:
                new_id = (
                    identifier
                    if report.format == "csv" and statement.account_identifier
                    else stable_id("acc", scope.business_id, identifier, currency)
                )
                kind = (
                    AccountType(statement.account_type)
                    if statement.account_type in AccountType._value2member_map_
                    else AccountType.CURRENT
                )
                account = Account(new_id, scope.business_id, identifier, currency, kind)
                scope.accounts.add(account)
        cache[cache_key] = account
        return account

    def _store_statement(
        self,
        scope: BusinessScope,
        statement: ParsedStatement,
        account_id: str | None,
        accounts: dict[tuple[str, str], Account],
        report: ImportReport,
    ) -> list[Transaction]:
        """Check and record one statement; return its transactions, ready to insert."""
        shown = report.path
        account = self._account_for(scope, statement, account_id, accounts, report)
        parsed = list(statement.transactions)
        for t in parsed:
            if t.business_id and t.business_id != scope.business_id:
                report.issues.append(
                    ImportIssue(
                        shown,
                        f"row belongs to business {t.business_id!r}, not {scope.business_id!r}",
                        line=t.line,
                        field="business_id",
                    )
                )
                raise _Refused
        keys = transaction_keys(parsed)
        count = len(parsed)
        total = sum(t.amount_minor for t in parsed)
        # canonical CSV has no statements, only rows (its parser hands them over in chunks)
        is_statement = report.format != "csv"
        statement_id = ""
        if is_statement:
            skey = statement_key(statement, count, total)
            statement_id = stable_id("stm", account.account_id, skey)
            scope.statements.add_if_new(
                Statement(
                    statement_id=statement_id,
                    business_id=scope.business_id,
                    account_id=account.account_id,
                    currency=statement.currency,
                    opening_minor=statement.opening_minor,
                    closing_minor=statement.closing_minor,
                    sum_minor=total,
                    transaction_count=count,
                    period_start=statement.period_start,
                    period_end=statement.period_end,
                    source_format=report.format,
                    source_path=shown,
                    bank_statement_ref=statement.statement_ref,
                ),
                skey,
            )
            report.statements += 1
            verdict = statement.reconciles
            if verdict is True:
                report.reconciled += 1
            elif verdict is False:
                report.unreconciled += 1
        report.transactions += count
        return [
            to_transaction(scope.business_id, account, t, key, shown, statement_id)
            for t, key in zip(parsed, keys, strict=True)
        ]

    def _flush(
        self, scope: BusinessScope, pending: list[Transaction], report: ImportReport
    ) -> None:
        """Insert what has accumulated (across statements: a file of many small statements
        still inserts in large batches) and count what was new."""
        for start in range(0, len(pending), self._batch_size):
            report.new += scope.transactions.add_new(pending[start : start + self._batch_size])
        pending.clear()
        report.duplicates = report.transactions - report.new


def to_transaction(
    business_id: str,
    account: Account,
    t: ParsedTransaction,
    key: str,
    source: str,
    statement_id: str = "",
) -> Transaction:
    """The stored form of a parsed line: booked in the account's currency, card numbers masked,
    keyed for idempotency; the one place every ingestion path (files, API) builds it."""
    return Transaction(
        transaction_id=t.transaction_id or stable_id("txn", account.account_id, key),
        business_id=business_id,
        account_id=account.account_id,
        booking_date=t.booking_date,
        value_date=t.value_date,
        amount_minor=t.amount_minor,
        currency=account.currency,
        description=mask_pans_in_text(t.description),
        counterparty_name=mask_pans_in_text(t.counterparty_name),
        counterparty_iban=t.counterparty_iban,
        mcc=t.mcc,
        card_id=mask_card_id(t.card_id),
        employee_id=t.employee_id,
        balance_after_minor=t.balance_after_minor,
        bank_reference=t.bank_reference,
        bank_tx_code=t.bank_tx_code,
        purpose_code=t.purpose_code,
        original_amount_minor=t.original_amount_minor,
        original_currency=t.original_currency,
        statement_id=statement_id,
        source_path=source,
        source_line=t.line,
        dedup_key=key,
    )
