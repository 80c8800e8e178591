"""What every statement parser returns: statements with their transactions, and issues.

Parsers are a thin layer over third-party readers (mt-940, ofxtools, bai2, lxml). They never
raise on bad input: a problem becomes an ``ImportIssue`` naming the file, line or element, the
field and the reason; an issue with ``fatal=True`` refuses the whole file. Amounts are integer
minor units in the statement's currency; balances are copied as the bank gave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

__all__ = [
    "ImportIssue",
    "ParseResult",
    "ParsedStatement",
    "ParsedTransaction",
    "StatementParser",
]


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One problem found in a file. ``line`` is 1-based; ``element`` an XPath-like locator."""

    path: str
    message: str
    line: int | None = None
    element: str = ""
    field: str = ""
    fatal: bool = True

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
        if self.element:
            where += f" {self.element}"
        fld = f" [{self.field}]" if self.field else ""
        return f"{where}{fld}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "element": self.element,
            "field": self.field,
            "message": self.message,
            "fatal": self.fatal,
        }


@dataclass(frozen=True, slots=True)
class ParsedTransaction:
    """A transaction as read from a file, before it belongs to a stored account.

    ``amount_minor`` is signed in the statement's currency (negative = money out).
    ``line`` is the 1-based source line (or the line where its XML element starts).
    """

    booking_date: date
    amount_minor: int
    description: str
    line: int
    value_date: date | None = None
    counterparty_name: str = ""
    counterparty_iban: str = ""
    bank_reference: str = ""
    bank_tx_code: str = ""
    purpose_code: str = ""
    mcc: str = ""
    card_id: str = ""
    balance_after_minor: int | None = None
    original_amount_minor: int | None = None
    original_currency: str = ""
    # canonical CSV carries its own ids; other formats leave these empty
    transaction_id: str = ""
    business_id: str = ""
    account_id: str = ""
    employee_id: str = ""


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """One statement (or one account's section of a file) with its balances as printed.

    ``account_identifier`` is the bank's account id (IBAN, number, sort code + number), or ""
    when the format carries none (then ``--account`` must say which account it is).
    """

    account_identifier: str
    currency: str
    transactions: Sequence[ParsedTransaction]
    opening_minor: int | None = None
    closing_minor: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    statement_ref: str = ""
    line: int = 1
    account_type: str = ""  # "credit_card" when the format says so (OFX CCSTMTRS); else unknown

    @property
    def sum_minor(self) -> int:
        return sum(t.amount_minor for t in self.transactions)

    @property
    def reconciles(self) -> bool | None:
        """opening + Σ amounts == closing; None when the file gives no balances."""
        if self.opening_minor is None or self.closing_minor is None:
            return None
        return self.opening_minor + self.sum_minor == self.closing_minor


@dataclass(slots=True)
class ParseResult:
    """A parser's answer for one file: what it read and what it found wrong."""

    path: str
    format: str
    statements: list[ParsedStatement] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return any(i.fatal for i in self.issues)


@runtime_checkable
class StatementParser(Protocol):
    """One bank format. ``identify`` looks at the first bytes cheaply; ``parse`` reads it all.

    ``parse`` must not raise for bad content: every problem is returned as an ``ImportIssue``.
    """

    format: str

    def identify(self, head: bytes, filename: str) -> bool: ...

    def parse(self, data: bytes, path: str) -> ParseResult: ...
