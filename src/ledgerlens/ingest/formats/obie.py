"""UK Open Banking (OBIE) Account Information API: the transactions response as JSON.

``GET /accounts/{AccountId}/transactions`` (v3.1 and v4) answers
``{"Data": {"Transaction": [...]}, "Links": ..., "Meta": ...}``. Each entry carries its own
``AccountId``, so one file may hold several accounts: we return one ParsedStatement per AccountId
in order of first appearance, in that account's ``Amount.Currency``.

Choices, documented here because the import service relies on them:
- Only booked entries count (v3.1 "Booked", v4 ISO "BOOK"). Pending, future, information-only
  and rejected entries are skipped with a non-fatal issue: they have not moved money (yet).
- Amounts are unsigned in the API; ``CreditDebitIndicator`` gives the sign (Debit = money out).
  A signed amount contradicts the spec and is refused rather than guessed.
- Booking and value dates are the date part as printed (the offset is not applied).
- No opening or closing balance: the API has none per call, so reconciliation is "not checkable".
  ``Balance`` after each entry is kept as ``balance_after_minor``; period = first..last booking.
- The counterparty is the creditor of a debit and the debtor of a credit; only an IBAN scheme
  fills ``counterparty_iban``. Card numbers are never kept whole: ``card_id`` is "**** 1234" and
  card numbers in the narrative are masked the same way (``core.privacy``).
- JSON has no useful lines, so ``line`` is the entry's 1-based position in ``Data.Transaction``
  and ``element`` a 0-based path such as ``Data.Transaction[2].Amount.Amount`` (as jq writes it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledgerlens.core.errors import LedgerLensError
from ledgerlens.core.money import to_minor, validate_currency
from ledgerlens.core.privacy import mask_pan, mask_pans_in_text
from ledgerlens.ingest.encoding import decode_text
from ledgerlens.ingest.model import ImportIssue, ParsedStatement, ParsedTransaction, ParseResult

__all__ = ["OpenBankingParser"]

_BOOKED = {"BOOKED", "BOOK"}
_NOT_BOOKED = {
    "PENDING": "pending",
    "PDNG": "pending",
    "FUTR": "future",
    "INFO": "information-only",
    "REJECTED": "rejected",
    "RJCT": "rejected",
}
_HEAD_RE = re.compile(rb'"Data"\s*:\s*\{.*?"Transactions?"\s*:\s*\[', re.S)
_UNSIGNED_RE = re.compile(r"^\d+(\.\d+)?$")


def _card_id(ident: str) -> str:
    """Only a masked form of the card is kept ("**** 1234"), whatever form the bank sent."""
    return mask_pan(ident) if ident else ""


def _text(obj: Any, *keys: str) -> str:
    """Nested string value (``_text(tx, "Amount", "Currency")``), "" when absent or not text."""
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(obj, (int, Decimal)) and not isinstance(obj, bool):
        return str(obj)  # a number where the spec says string (MCC 5411, TransactionId 17)
    return obj.strip() if isinstance(obj, str) else ""


def _date(value: Any) -> date | None:
    """Date part of an ISO 8601 date-time as printed; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        return None


@dataclass(slots=True)
class _Account:
    currency: str
    line: int
    transactions: list[ParsedTransaction] = field(default_factory=list)


class _EntryReader:
    """Reads the entries of ``Data.Transaction`` into per-account lists, collecting issues."""

    def __init__(self, path: str, issues: list[ImportIssue], key: str) -> None:
        self.path = path
        self.issues = issues
        self.key = key
        self.accounts: dict[str, _Account] = {}

    def issue(self, index: int, where: str, message: str, *, fatal: bool = True) -> None:
        element = f"Data.{self.key}[{index}]" + (f".{where}" if where else "")
        fld = where.rsplit(".", 1)[-1]
        self.issues.append(ImportIssue(self.path, message, index + 1, element, fld, fatal))

    def money(
        self, index: int, where: str, obj: Any, sign: int, *, fatal: bool = True
    ) -> tuple[int, str] | None:
        """Signed minor units and currency of an ``{Amount, Currency}`` object; None if bad."""
        if not isinstance(obj, dict):
            self.issue(index, where, "missing amount", fatal=fatal)
            return None
        raw, currency = obj.get("Amount"), _text(obj, "Currency")
        text = str(raw).strip() if isinstance(raw, (str, int, Decimal)) else ""
        try:
            validate_currency(currency)
        except LedgerLensError as exc:
            self.issue(index, f"{where}.Currency", str(exc), fatal=fatal)
            return None
        if not _UNSIGNED_RE.match(text):
            why = " (signed: the sign comes from CreditDebitIndicator)" if text[:1] in "+-" else ""
            self.issue(index, f"{where}.Amount", f"bad amount {raw!r}{why}", fatal=fatal)
            return None
        try:
            return sign * to_minor(Decimal(text), currency), currency
        except LedgerLensError as exc:
            self.issue(index, f"{where}.Amount", str(exc), fatal=fatal)
            return None

    def sign(self, index: int, where: str, indicator: Any, *, fatal: bool = True) -> int | None:
        value = indicator.strip().lower() if isinstance(indicator, str) else ""
        if value not in {"credit", "debit"}:
            msg = f"CreditDebitIndicator must be Credit or Debit, not {indicator!r}"
            self.issue(index, where, msg, fatal=fatal)
            return None
        return -1 if value == "debit" else 1

    def entry(self, index: int, tx: Any) -> None:
        if not isinstance(tx, dict):
            self.issue(index, "", "a transaction must be a JSON object")
            return
        status = _text(tx, "Status").upper()
        if status in _NOT_BOOKED:
            msg = f"{_NOT_BOOKED[status]} transaction skipped: only booked entries are imported"
            self.issue(index, "Status", msg, fatal=False)
            return
        if status not in _BOOKED:
            self.issue(index, "Status", f"unknown transaction status {tx.get('Status')!r}")
            return
        account_id = _text(tx, "AccountId")
        if not account_id:
            self.issue(index, "AccountId", "missing AccountId")
        sign = self.sign(index, "CreditDebitIndicator", tx.get("CreditDebitIndicator"))
        booked = _date(tx.get("BookingDateTime"))
        if booked is None:
            self.issue(index, "BookingDateTime", f"not a date-time: {tx.get('BookingDateTime')!r}")
        amount = self.money(index, "Amount", tx.get("Amount"), sign or 1)
        if not account_id or sign is None or booked is None or amount is None:
            return
        account = self.accounts.setdefault(account_id, _Account(amount[1], index + 1))
        if amount[1] != account.currency:
            msg = f"{amount[1]} entry in account {account_id} kept in {account.currency}"
            self.issue(index, "Amount.Currency", msg)
            return
        account.transactions.append(self.transaction(index, tx, sign, booked, amount))

    def transaction(
        self, index: int, tx: dict[str, Any], sign: int, booked: date, amount: tuple[int, str]
    ) -> ParsedTransaction:
        amount_minor, currency = amount
        value_raw = tx.get("ValueDateTime")
        value_date = _date(value_raw)
        if value_raw is not None and value_date is None:
            self.issue(index, "ValueDateTime", f"not a date-time: {value_raw!r}", fatal=False)
        # never the other side: the debtor of a debit is the account holder itself
        account = tx.get("CreditorAccount" if sign < 0 else "DebtorAccount")
        ultimate = "UltimateCreditor" if sign < 0 else "UltimateDebtor"
        name = (
            _text(tx, "MerchantDetails", "MerchantName")
            or _text(account, "Name")
            or _text(tx, ultimate, "Name")
        )
        iban = ""
        if _text(account, "SchemeName").upper().endswith("IBAN"):
            iban = _text(account, "Identification").replace(" ", "").upper()
        info, ref = _text(tx, "TransactionInformation"), _text(tx, "TransactionReference")
        parts = [info] + ([ref] if ref and ref not in info else [])
        code = _text(tx, "ProprietaryBankTransactionCode", "Code")
        description = " / ".join(p for p in parts if p) or name or code
        iso_code = "/".join(
            c for c in (_text(tx, "BankTransactionCode", k) for k in ("Code", "SubCode")) if c
        )
        mcc = _text(tx, "MerchantDetails", "MerchantCategoryCode")
        original = self.original(index, tx, sign)
        if original is not None and original[1] == currency:
            original = None  # instructed in the account's own currency: nothing foreign
        return ParsedTransaction(
            booking_date=booked,
            amount_minor=amount_minor,
            description=mask_pans_in_text(description),
            line=index + 1,
            value_date=value_date,
            counterparty_name=name,
            counterparty_iban=iban,
            bank_reference=_text(tx, "TransactionId"),
            bank_tx_code=iso_code or (f"PRTRY:{code}" if code else ""),
            purpose_code=_text(tx, "PaymentPurposeCode") or _text(tx, "CategoryPurposeCode"),
            mcc=mcc.zfill(4) if mcc.isdigit() and len(mcc) in (3, 4) else "",
            card_id=_card_id(_text(tx, "CardInstrument", "Identification")),
            balance_after_minor=self.balance(index, tx.get("Balance"), currency),
            original_amount_minor=original[0] if original else None,
            original_currency=original[1] if original else "",
        )

    def balance(self, index: int, balance: Any, currency: str) -> int | None:
        """The account balance after the entry, signed by its own indicator; None if absent.

        A bad balance loses the balance, not the file: its issues are not fatal.
        """
        if not isinstance(balance, dict):
            return None
        indicator = balance.get("CreditDebitIndicator")
        sign = self.sign(index, "Balance.CreditDebitIndicator", indicator, fatal=False)
        if sign is None:
            return None
        money = self.money(index, "Balance.Amount", balance.get("Amount"), sign, fatal=False)
        if money is not None and money[1] != currency:
            msg = f"balance in {money[1]}, entry in {currency}: balance not kept"
            self.issue(index, "Balance.Amount.Currency", msg, fatal=False)
            return None
        return money[0] if money is not None else None

    def original(self, index: int, tx: dict[str, Any], sign: int) -> tuple[int, str] | None:
        """The instructed amount of a currency exchange in its own currency, signed like the entry.

        An unreadable instructed amount only loses the original amount: not fatal.
        """
        exchange = tx.get("CurrencyExchange")
        if not isinstance(exchange, dict) or "InstructedAmount" not in exchange:
            return None
        where = "CurrencyExchange.InstructedAmount"
        return self.money(index, where, exchange["InstructedAmount"], sign, fatal=False)


class OpenBankingParser:
    """OBIE AIS transactions JSON → one ParsedStatement per AccountId."""

    format = "obie"

    def identify(self, head: bytes, filename: str) -> bool:
        body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        return body.startswith(b"{") and _HEAD_RE.search(body) is not None

    def parse(self, data: bytes, path: str) -> ParseResult:
        result = ParseResult(path=path, format=self.format)
        text, _ = decode_text(data)
        try:
            doc = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            msg = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            result.issues.append(ImportIssue(path, msg, exc.lineno))
            return result
        data_obj = doc.get("Data") if isinstance(doc, dict) else None
        lists = data_obj if isinstance(data_obj, dict) else {}
        key = next(
            (k for k in ("Transaction", "Transactions") if isinstance(lists.get(k), list)), ""
        )
        if not key:
            msg = "not an Open Banking transactions response: no Data.Transaction list"
            result.issues.append(ImportIssue(path, msg, 1, "Data.Transaction"))
            return result
        reader = _EntryReader(path, result.issues, key)
        entries = lists[key]
        for index, tx in enumerate(entries):
            reader.entry(index, tx)
        for account_id, acct in reader.accounts.items():
            days = [t.booking_date for t in acct.transactions]
            first, last = (min(days), max(days)) if days else (None, None)
            result.statements.append(
                ParsedStatement(
                    account_id,
                    acct.currency,
                    acct.transactions,
                    period_start=first,
                    period_end=last,
                    line=acct.line,
                )
            )
        if not entries:
            msg = "no transactions in the response"
            result.issues.append(ImportIssue(path, msg, 1, f"Data.{key}", fatal=False))
        return result
