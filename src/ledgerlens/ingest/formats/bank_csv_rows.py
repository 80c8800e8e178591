"""Reading the rows of a bank CSV export once its dialect and layout are known.

Split from ``bank_csv`` (recognition and the parser's surface) to keep both modules short. Rows
become statements here: amounts exact in minor units, dates per the dialect's formats, one
statement per account/currency/product in chronological order, running balances checked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from ledgerlens.core.money import ISO4217_CODES, currency_exponent, format_minor
from ledgerlens.ingest.model import ImportIssue, ParsedStatement, ParsedTransaction

if TYPE_CHECKING:
    from ledgerlens.ingest.formats.bank_csv import Dialect, _Layout

__all__ = ["read_rows"]

# roles whose column must exist in the header once the dialect declares them
_ESSENTIAL = ("booking_date", "amount", "debit", "credit", "sign", "currency", "state", "fee")


@dataclass(slots=True)
class _Row:
    line: int
    booking: date
    value: date | None
    amount_minor: int
    currency: str
    account: str
    group: str
    description: str
    counterparty_name: str
    counterparty_iban: str
    reference: str
    code: str
    balance_minor: int | None


class _RowError(Exception):
    """Internal: one field of one row cannot be read; becomes a fatal ImportIssue."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def _resolve(ref: str, header: list[str]) -> int | None:
    """The column a reference names; ``"Mutatie>1"`` is the nameless column right of "Mutatie"."""
    wanted = [" ".join(a.split()).casefold() for a in ref.split("|")]
    names = [" ".join(h.replace("\ufeff", "").split()).casefold() for h in header]
    for alt in wanted:
        if alt in names:
            return names.index(alt)
    for alt in wanted:
        base, _, offset = alt.rpartition(">")
        if base in names and offset.isdigit():
            i = names.index(base) + int(offset)
            if i < len(names) and not names[i]:
                return i
    return None


class _RowReader:
    """Turns the fields of one data row into a ``_Row`` for one dialect and header."""

    def __init__(self, dialect: Dialect, header: list[str]) -> None:
        self.d = dialect
        self.header = header
        self.idx: dict[str, int] = {}
        self.multi: dict[str, tuple[int, ...]] = {}
        self.missing: list[str] = []
        for role, ref in dialect.columns.items():
            if isinstance(ref, tuple):
                found = [_resolve(r, header) for r in ref]
                self.multi[role] = tuple(i for i in found if i is not None)
                continue
            i = _resolve(ref, header)
            if i is not None:
                self.idx[role] = i
            elif role in _ESSENTIAL:
                self.missing.append(ref)
        self._dates: dict[str, date | None] = {}
        self._exponents: dict[str, int] = {}

    def text(self, fields: list[str], role: str) -> str:
        i = self.idx.get(role)
        if i is None:
            return ""
        value = fields[i].strip()
        if self.d.strip_apostrophes and value.startswith("'"):
            value = value[1:-1] if value.endswith("'") and len(value) > 1 else value[1:]
        return value.strip()

    def joined(self, fields: list[str], role: str, sep: str) -> str:
        parts = []
        for i in self.multi.get(role, ()):
            value = fields[i].strip()
            if self.d.strip_apostrophes and value.startswith("'"):
                value = value[1:-1] if value.endswith("'") and len(value) > 1 else value[1:]
            if value.strip():
                parts.append(value.strip())
        return sep.join(parts)

    def date(self, fields: list[str], role: str, required: bool) -> date | None:
        raw = self.text(fields, role)
        if not raw:
            if required:
                raise _RowError(self.idx[role], "missing date")
            return None
        if raw not in self._dates:
            parsed = None
            for fmt in self.d.date_formats:
                try:
                    parsed = datetime.strptime(raw, fmt).date()
                    break
                except ValueError:
                    continue
            self._dates[raw] = parsed
        parsed = self._dates[raw]
        if parsed is None:
            formats = " or ".join(self.d.date_formats)
            raise _RowError(self.idx[role], f"not a date ({formats}): {raw!r}")
        return parsed

    def minor(self, fields: list[str], role: str, currency: str) -> int | None:
        """Exact minor units of an amount field; None when the field is empty."""
        raw = self.text(fields, role)
        if not raw:
            return None
        m = self.d.amount_re.fullmatch(raw.replace("\u00a0", "").replace(" ", ""))
        if m is None:
            raise _RowError(self.idx[role], f'not an amount "{raw}"')
        sign, whole, frac = m.groups()
        exp = self._exponents.get(currency)
        if exp is None:
            exp = self._exponents[currency] = currency_exponent(currency)
        frac = (frac or "").rstrip("0")
        if len(frac) > exp:
            raise _RowError(self.idx[role], f"{raw!r} has more than {exp} decimals for {currency}")
        whole = whole.replace(self.d.thousands, "") if self.d.thousands else whole
        value = int(whole + frac.ljust(exp, "0"))
        return -value if sign == "-" else value

    def blank_amount(self, fields: list[str]) -> bool:
        """No amount at all in the row (neither amount nor debit nor credit)."""
        return not any(self.text(fields, r) for r in ("amount", "debit", "credit"))

    def row(self, fields: list[str], line: int) -> _Row:
        d = self.d
        if "currency" in self.idx:
            currency = self.text(fields, "currency").upper()
            if currency not in ISO4217_CODES:
                raise _RowError(self.idx["currency"], f"unknown ISO 4217 currency {currency!r}")
        else:
            currency = d.currency
        booking = self.date(fields, "booking_date", required=True)
        value = self.date(fields, "value_date", required=False)
        if "amount" in self.idx:
            amount = self.minor(fields, "amount", currency)
            if amount is None:
                raise _RowError(self.idx["amount"], "missing amount")
            if "sign" in self.idx:
                marker = self.text(fields, "sign").casefold()
                if marker in d.sign_negative:
                    amount = -abs(amount)
                elif marker in d.sign_positive:
                    amount = abs(amount)
                else:
                    expected = ", ".join(d.sign_negative + d.sign_positive)
                    raise _RowError(
                        self.idx["sign"],
                        f"unknown debit/credit marker {self.text(fields, 'sign')!r} "
                        f"(expected one of {expected})",
                    )
        else:
            debit = self.minor(fields, "debit", currency)
            credit = self.minor(fields, "credit", currency)
            if debit is None and credit is None:
                raise _RowError(self.idx["debit"], "neither a debit nor a credit amount")
            if debit and credit:
                raise _RowError(self.idx["credit"], "both a debit and a credit amount")
            amount = abs(credit or 0) - abs(debit or 0)
        fee = self.minor(fields, "fee", currency) if "fee" in self.idx else None
        if fee:
            amount -= fee
        balance_role = "balance" if "balance" in self.idx else "balance_before"
        balance = self.minor(fields, balance_role, currency) if balance_role in self.idx else None
        reference = self.text(fields, "bank_reference")
        if reference and not reference.strip("0"):
            reference = ""  # "00000000": a placeholder, not a reference
        return _Row(
            line=line,
            booking=booking,  # type: ignore[arg-type]  # required=True never returns None
            value=value,
            amount_minor=amount,
            currency=currency,
            account=self.joined(fields, "account", " "),
            group=self.text(fields, "group"),
            description=self.joined(fields, "description", d.description_separator),
            counterparty_name=self.text(fields, "counterparty_name"),
            counterparty_iban=self.text(fields, "counterparty_iban").replace(" ", ""),
            reference=reference,
            code=self.text(fields, "bank_tx_code"),
            balance_minor=balance,
        )


def read_rows(
    text: str, layout: _Layout, path: str, issues: list[ImportIssue]
) -> list[ParsedStatement]:
    """Every statement of the export; problems are appended to ``issues``."""
    d = layout.dialect
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=layout.delimiter, quotechar=d.quotechar
    )
    header: list[str] | None = list(d.column_names) if d.headerless else None
    rr = _RowReader(d, header) if header is not None else None
    width = len(header) if header is not None else 0
    rows: list[_Row] = []
    data_rows = 0
    prev_end = 0

    def issue(message: str, line: int | None, index: int | None = None, fatal: bool = True) -> None:
        name = header[index] if header is not None and index is not None else ""
        if header is not None and index is not None and not name:  # "Mutatie>1"
            left = next((header[i] for i in range(index - 1, -1, -1) if header[i].strip()), "")
            name = f"column {index + 1}, right of {left}" if left else f"column {index + 1}"
        issues.append(ImportIssue(path, message, line=line, field=name, fatal=fatal))

    while True:
        try:
            fields = next(reader, None)
        except csv.Error as exc:
            issue(f"malformed CSV: {exc}", reader.line_num)
            return []
        if fields is None:
            break
        line, prev_end = prev_end + 1, reader.line_num
        if line <= layout.header_index:
            continue  # preamble before the header ("KNAB EXPORT")
        if rr is None:
            header = fields
            while header and not header[-1].strip():
                header.pop()  # a trailing delimiter names no column
            width = len(header)
            rr = _RowReader(d, header)
            if rr.missing:
                issue(f"the header lacks column(s) {', '.join(rr.missing)}", line)
                return []
            continue
        if not any(f.strip() for f in fields):
            continue
        data_rows += 1
        if len(fields) > width and not any(f.strip() for f in fields[width:]):
            fields = fields[:width]
        if len(fields) != width:
            issue(f"expected {width} fields like the header, found {len(fields)}", line)
            continue
        bad = next((i for i, f in enumerate(fields) if _space_before_quote(f, d.quotechar)), None)
        if bad is not None:
            issue("malformed quoting: a space before the opening quote", line, bad)
            continue
        if d.keep_states:
            state = rr.text(fields, "state")
            if state not in d.keep_states:
                issue(
                    f"skipped: state {state!r} is not a booked transaction",
                    line,
                    rr.idx["state"],
                    fatal=False,
                )
                continue
        if d.skip_blank_amount and rr.blank_amount(fields):
            at = rr.idx.get("amount", rr.idx.get("debit"))
            issue("skipped: no amount, so no money moved", line, at, fatal=False)
            continue
        try:
            rows.append(rr.row(fields, line))
        except _RowError as exc:
            issue(exc.message, line, exc.index)
    if rr is None:
        issue("no header found", None)
        return []
    if data_rows == 0:
        issue("no transactions after the header", prev_end or None)
        return []
    if not rows:
        if not any(i.fatal for i in issues):
            issue("no booked transactions: every row was skipped", None)
        return []
    if d.single_account:
        first = rows[0].account
        other = next((r for r in rows if r.account != first), None)
        if other is not None:
            issue(
                f"an export from {d.bank} holds one account only ({first}), but this row "
                f"is for {other.account}",
                other.line,
                rr.multi["account"][0] if rr.multi.get("account") else None,
            )
            return []
    groups: dict[tuple[str, str, str], list[_Row]] = {}
    for r in rows:
        groups.setdefault((r.account, r.currency, r.group), []).append(r)
    balance_index = rr.idx.get("balance", rr.idx.get("balance_before"))
    before = "balance_before" in rr.idx
    return [_statement(key, group, balance_index, before, issue) for key, group in groups.items()]


def _space_before_quote(value: str, quotechar: str) -> bool:
    """`, "text"`: the quotes became part of the value; the row's quoting is broken."""
    return value[:1].isspace() and value.lstrip()[:1] == quotechar


def _chain_break(rows: list[_Row], before: bool, currency: str) -> tuple[int, str] | None:
    """(index, reason) of the first row whose printed balance does not follow; None if all do."""
    for i, r in enumerate(rows):
        if r.balance_minor is None:
            return i, "no balance on this row"
        if i == 0:
            continue
        p = rows[i - 1]
        step = p.amount_minor if before else r.amount_minor
        expected = p.balance_minor + step  # type: ignore[operator]
        if r.balance_minor != expected:
            fmt = format_minor
            return i, (
                f"the file says {fmt(r.balance_minor, currency)}, but "
                f"{fmt(p.balance_minor, currency)} {'+' if step >= 0 else '-'} "  # type: ignore[arg-type]
                f"{fmt(abs(step), currency)} = {fmt(expected, currency)}"
            )
    return None


def _statement(
    key: tuple[str, str, str],
    rows: list[_Row],
    balance_index: int | None,
    before: bool,
    issue: Callable[..., None],
) -> ParsedStatement:
    account, currency, group = key
    if rows[0].booking > rows[-1].booking:
        rows = rows[::-1]  # newest first in the file
    opening = closing = None
    afters: list[int | None] = [None] * len(rows)
    if balance_index is not None:
        broken = _chain_break(rows, before, currency)
        if broken is not None and rows[0].booking == rows[-1].booking:
            flipped = rows[::-1]  # one day only: the dates cannot tell the order, the balances can
            if _chain_break(flipped, before, currency) is None:
                rows, broken = flipped, None
        if broken is None:
            if before:
                afters = [r.balance_minor + r.amount_minor for r in rows]  # type: ignore[operator]
                opening, closing = rows[0].balance_minor, afters[-1]
            else:
                afters = [r.balance_minor for r in rows]
                opening = rows[0].balance_minor - rows[0].amount_minor  # type: ignore[operator]
                closing = rows[-1].balance_minor
        else:
            i, reason = broken
            issue(
                f"running balance does not chain ({reason}); opening and closing balances "
                "left empty",
                rows[i].line,
                balance_index,
                fatal=False,
            )
    txs = [
        ParsedTransaction(
            booking_date=r.booking,
            amount_minor=r.amount_minor,
            description=r.description,
            line=r.line,
            value_date=r.value,
            counterparty_name=r.counterparty_name,
            counterparty_iban=r.counterparty_iban,
            bank_reference=r.reference,
            bank_tx_code=r.code,
            balance_after_minor=after,
        )
        for r, after in zip(rows, afters, strict=True)
    ]
    return ParsedStatement(
        account_identifier=account,
        currency=currency,
        transactions=txs,
        opening_minor=opening,
        closing_minor=closing,
        period_start=min(r.booking for r in rows),
        period_end=max(r.booking for r in rows),
        statement_ref=group,
        line=min(r.line for r in rows),
    )
