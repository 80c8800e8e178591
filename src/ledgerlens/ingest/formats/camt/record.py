"""One statement, report or notification (``Stmt``/``Rpt``/``Ntfctn``) built entry by entry.

The streaming reader hands us the record's header (everything before the first ``Ntry``: ``Id``,
``Acct``, ``Bal``, ``TxsSummry``) once, then each ``Ntry`` as it ends, then asks for the
finished ``ParsedStatement``. Nothing here holds XML after it has been read, so a statement of a
million entries costs a million small transactions, not a million XML subtrees.

Balances are signed by ``CdtDbtInd``. Opening is OPBD, else PRCD (the previous closing);
closing is CLBD; a camt.052 report without CLBD closes on its interim booked balance (ITBD)
when it has an opening, because that is what its booked entries lead to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ledgerlens.core.errors import CurrencyError
from ledgerlens.core.money import validate_currency
from ledgerlens.ingest.formats.camt.elements import (
    Flat,
    IssueLog,
    RawAmount,
    local_name,
    read_amount,
    read_date,
)
from ledgerlens.ingest.formats.camt.entries import read_entry
from ledgerlens.ingest.model import ParsedStatement, ParsedTransaction

if TYPE_CHECKING:
    from lxml.etree import _Element

__all__ = ["RecordBuilder"]

_SKIP_ENTRIES = frozenset({"Ntry"})
# ISO ExternalCashAccountType1Code -> LedgerLens AccountType value; others stay unknown ("")
_ACCOUNT_TYPES = {
    "CACC": "current",
    "TRAN": "current",
    "SVGS": "savings",
    "LLSV": "savings",
    "CARD": "credit_card",
}
_ACCOUNT_PATHS = ("Acct/Id/IBAN", "Acct/Id/Othr/Id", "Acct/Id/BBAN", "Acct/Id/PrtryAcct/Id")


@dataclass(frozen=True, slots=True)
class _Balance:
    code: str
    amount: RawAmount
    sign: int
    day: date | None
    locator: str


@dataclass(slots=True)
class RecordBuilder:
    """Accumulates one ``Stmt``/``Rpt``/``Ntfctn``; ``kind`` is its local name."""

    kind: str
    index: int
    line: int
    log: IssueLog
    group_created: date | None = None
    header_read: bool = False
    account: str = ""
    account_type: str = ""
    currency: str = ""
    reference: str = ""
    period_start: date | None = None
    period_end: date | None = None
    created: date | None = None
    balances: list[_Balance] = field(default_factory=list)
    transactions: list[ParsedTransaction] = field(default_factory=list)
    summary_count: int | None = None
    summary_net: int | None = None
    summary_raw: RawAmount | None = None
    summary_sign: int = 1
    entry_count: int = 0
    entry_net: int = 0
    entries_unreadable: int = 0
    undated: int = 0
    first_undated: tuple[int, str] | None = None
    fallback: date | None = None

    @property
    def locator(self) -> str:
        return f"{self.kind}[{self.index}]"

    def read_header(self, record: _Element) -> None:
        """Read identity, account, period, balances and totals (all precede the entries)."""
        self.header_read = True
        header = Flat(record, _SKIP_ENTRIES)
        self.reference = header.text("Id") or header.text("ElctrncSeqNb") or header.text("LglSeqNb")
        self.created = read_date(header, "CreDtTm", self.locator, self.log)
        self.period_start = read_date(header, "FrToDt/FrDtTm", self.locator, self.log)
        self.period_end = read_date(header, "FrToDt/ToDtTm", self.locator, self.log)
        for path in _ACCOUNT_PATHS:
            self.account = header.text(path).replace(" ", "")
            if self.account:
                break
        if not self.account:
            self.log.add(
                "no account identification (Acct/Id/IBAN or Acct/Id/Othr/Id)",
                line=self.line,
                element=f"{self.locator}/Acct/Id",
                field="Acct",
                fatal=False,
            )
        self.account_type = _ACCOUNT_TYPES.get(header.text("Acct/Tp/Cd").upper(), "")
        declared = header.text("Acct/Ccy").upper()
        if declared:
            try:
                self.currency = validate_currency(declared)
            except CurrencyError as exc:
                self.log.add(
                    str(exc), line=self.line, element=f"{self.locator}/Acct/Ccy", field="Ccy"
                )
        for index, bal in enumerate(header.all("Bal"), start=1):
            self._read_balance(Flat(bal), f"{self.locator}/Bal[{index}]")
        count = header.text("TxsSummry/TtlNtries/NbOfNtries")
        self.summary_count = int(count) if count.isdigit() else None
        self.summary_raw = read_amount(
            header, "TxsSummry/TtlNtries/TtlNetNtry/Amt", self.locator, self.log, fatal=False
        )
        indicator = header.text("TxsSummry/TtlNtries/TtlNetNtry/CdtDbtInd")
        self.summary_sign = -1 if indicator == "DBIT" else 1
        self.fallback = self._fallback_date()

    def _read_balance(self, bal: Flat, locator: str) -> None:
        code = (
            bal.text("Tp/CdOrPrtry/Cd") or bal.text("Tp/Cd") or bal.text("Tp/CdOrPrtry/Prtry")
        ).upper()
        amount = read_amount(bal, "Amt", locator, self.log)
        if amount is None:
            return
        indicator = bal.text("CdtDbtInd").upper()
        sign = -1 if indicator == "DBIT" else 1
        if indicator not in ("CRDT", "DBIT") and code in ("OPBD", "PRCD", "CLBD", "ITBD"):
            # Real LT camt.053.001.08 files omit it on every balance; ISO says mandatory.
            self.log.add(
                f"{code} balance without CdtDbtInd: read as a credit balance",
                line=bal.element.sourceline,
                element=f"{locator}/CdtDbtInd",
                field="CdtDbtInd",
                fatal=False,
            )
        day = read_date(bal, "Dt", locator, self.log)
        self.balances.append(_Balance(code, amount, sign, day, locator))

    def _fallback_date(self) -> date | None:
        """The day an entry is booked on when it names none: the statement's end date."""
        closing = self._balance("CLBD") or self._balance("ITBD")
        return (
            self.period_end
            or (closing.day if closing else None)
            or self.created
            or self.group_created
        )

    def _balance(self, *codes: str) -> _Balance | None:
        for code in codes:
            for balance in self.balances:
                if balance.code == code:
                    return balance
        return None

    def add_entry(self, ntry: _Element, number: int) -> None:
        """Read the ``number``-th ``Ntry`` (1-based) of this record."""
        locator = f"{self.locator}/Ntry[{number}]"
        self.entry_count += 1
        if not self.currency:
            amount = next((c for c in ntry if local_name(c) == "Amt"), None)
            currency = (amount.get("Ccy") if amount is not None else "") or (
                self._balance_currency()
            )
            try:
                self.currency = validate_currency((currency or "").strip().upper())
            except CurrencyError:
                self.log.add(
                    "no currency: neither Acct/Ccy nor a valid Ccy on the entry or balances",
                    line=ntry.sourceline,
                    element=f"{locator}/Amt",
                    field="Ccy",
                )
                self.entries_unreadable += 1
                return
        outcome = read_entry(ntry, locator, self.currency, self.fallback, self.log)
        if outcome.signed_minor is None:
            self.entries_unreadable += 1
        else:
            self.entry_net += outcome.signed_minor
        if outcome.undated and outcome.transactions:
            self.undated += 1
            if self.first_undated is None:
                self.first_undated = (ntry.sourceline or self.line, locator)
        self.transactions.extend(outcome.transactions)

    def _balance_currency(self) -> str:
        preferred = self._balance("OPBD", "PRCD", "CLBD", "ITBD")
        chosen = preferred or (self.balances[0] if self.balances else None)
        return chosen.amount.currency if chosen else ""

    def finish(self) -> ParsedStatement:
        """The statement as read; reports undated entries and a ``TxsSummry`` disagreement."""
        if not self.currency:
            currency = self._balance_currency()
            if currency:
                self.currency = currency
            elif self.balances or self.transactions:
                self.log.add(
                    "no currency anywhere in the record",
                    line=self.line,
                    element=self.locator,
                    field="Ccy",
                )
        if self.currency == "XXX":
            self.log.add(
                "currency XXX means 'no currency': amounts are kept without minor digits; "
                "confirm the account's real currency",
                line=self.line,
                element=f"{self.locator}/Acct",
                field="Ccy",
                fatal=False,
            )
        if self.undated and self.first_undated:
            line, locator = self.first_undated
            many = "entries have" if self.undated > 1 else "entry has"
            self.log.add(
                f"{self.undated} {many} no BookgDt: booked on the value or settlement date, "
                f"else the statement's end date {self.fallback}",
                line=line,
                element=f"{locator}/BookgDt",
                field="BookgDt",
                fatal=False,
            )
        self._check_summary()
        opening_bal = self._balance("OPBD") or self._balance("PRCD")
        closing_bal = self._balance("CLBD")
        if closing_bal is None and self.kind == "Rpt" and opening_bal is not None:
            closing_bal = self._balance("ITBD")
        opening = self._signed(opening_bal)
        closing = self._signed(closing_bal)
        start = self.period_start
        if start is None and opening_bal is not None and opening_bal.day is not None:
            shift = timedelta(days=1) if opening_bal.code == "PRCD" else timedelta()
            start = opening_bal.day + shift
        end = self.period_end or (closing_bal.day if closing_bal else None)
        days = [t.booking_date for t in self.transactions]
        return ParsedStatement(
            account_identifier=self.account,
            currency=self.currency,
            transactions=tuple(self.transactions),
            opening_minor=opening,
            closing_minor=closing,
            period_start=start or (min(days) if days else None),
            period_end=end or (max(days) if days else None),
            statement_ref=self.reference,
            line=self.line,
            account_type=self.account_type,
        )

    def _signed(self, balance: _Balance | None) -> int | None:
        if balance is None or not self.currency:
            return None
        if balance.amount.currency and balance.amount.currency != self.currency:
            self.log.add(
                f"{balance.code} balance is in {balance.amount.currency}, the statement in "
                f"{self.currency}: balance not used",
                line=balance.amount.line,
                element=balance.amount.locator,
                field="Ccy",
                fatal=False,
            )
            return None
        minor = balance.amount.minor(self.currency, self.log)
        return None if minor is None else balance.sign * minor

    def _check_summary(self) -> None:
        """Compare with the bank's own ``TxsSummry`` totals, when given (non-fatal)."""
        where = f"{self.locator}/TxsSummry/TtlNtries"
        if self.summary_count is not None and self.summary_count != self.entry_count:
            self.log.add(
                f"TxsSummry counts {self.summary_count} entries, the record has {self.entry_count}",
                line=self.line,
                element=where,
                field="NbOfNtries",
                fatal=False,
            )
        if self.summary_raw is None or self.entries_unreadable or not self.currency:
            return
        net = self.summary_raw.minor(self.currency, self.log, fatal=False)
        if net is not None and self.summary_sign * net != self.entry_net:
            self.log.add(
                f"TxsSummry net {self.summary_sign * net} differs from the entries' net "
                f"{self.entry_net} (minor units)",
                line=self.summary_raw.line,
                element=f"{where}/TtlNetNtry",
                field="TtlNetNtry",
                fatal=False,
            )
