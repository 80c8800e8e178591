"""BAI2 cash-management balance reports (North American banks).

Why our own reader rather than the ``bai2`` package: every transaction must carry its line and a
refusal must name the line and field; and the package stops on valid files: it does not know
type code 190 when an ``88`` continuation starts a new field (it glues "190" and "500000"), nor
records that follow each other on one physical line ("2/   02,…"). The package stays our
reference in the tests, where it copes (sample1 of moov-io).

The reader is tolerant in layout and strict in arithmetic: several records per physical line,
text that runs on to a line without a record code and missing ``/`` terminators are read (the
latter two with a warning), but every control total and record count in the ``49`` account, ``98``
group and ``99`` file trailers is checked, and a mismatch refuses the file, naming the trailer's
line and field. A file that does not add up cannot be trusted to be complete.

One ``ParsedStatement`` per ``03`` account. Amounts are integers in the currency's minor unit as
printed; ``16`` detail amounts are unsigned and take their sign from the type code (100–399 and
920–959 credit, 400–699 and 960–999 debit). Balances: ``010`` opening ledger, ``015`` closing
ledger, when the bank sends them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from ledgerlens.core.errors import CurrencyError
from ledgerlens.core.money import validate_currency
from ledgerlens.ingest.encoding import decode_text
from ledgerlens.ingest.model import (
    ImportIssue,
    ParsedStatement,
    ParsedTransaction,
    ParseResult,
)

__all__ = ["Bai2Parser"]

_CODES = ("01", "02", "03", "16", "49", "88", "98", "99")
_SPLIT_RE = re.compile(r"/\s+(?=(?:01|02|03|16|49|88|98|99),)")
_RECORD_RE = re.compile(r"^(\d{2}),")
_HEAD_RE = re.compile(rb"^\s*01,[^,\r\n]*,[^,\r\n]*,\d{6},")
# a header-shaped first record with the wrong code ("00,…,2/"): claim it to refuse it clearly
_MISCODED_HEAD_RE = re.compile(rb"^\s*\d{2},[^\r\n]*,2/[ \t]*(\r?\n|$)")
_DEFAULT_CURRENCY = "USD"  # the BAI2 specification's default when no record names one


@dataclass(slots=True)
class _Record:
    """A logical record: its own row plus any ``88`` continuation rows, with their lines."""

    code: str
    rows: list[tuple[int, str]]

    @property
    def line(self) -> int:
        return self.rows[0][0]

    @property
    def size(self) -> int:
        """Physical records it counts for in the trailers (itself and each 88)."""
        return len(self.rows)

    def fields(self) -> list[str]:
        return [f for _, row in self.rows for f in row.split(",")]


@dataclass(slots=True)
class _Account:
    record: _Record
    number: str
    currency: str
    summary: dict[str, int]
    total: int
    records: int
    transactions: list[ParsedTransaction] = field(default_factory=list)


@dataclass(slots=True)
class _Group:
    line: int
    as_of: date | None
    currency: str
    records: int = 1
    total: int = 0
    accounts: int = 0


class Bai2Parser:
    """Reads BAI2 files into one statement per account; see the module docstring."""

    format = "bai2"

    def identify(self, head: bytes, filename: str) -> bool:
        """A BAI2 file opens with an 01 file header: sender, receiver, YYMMDD creation date."""
        head = head.removeprefix(b"\xef\xbb\xbf")
        return _HEAD_RE.match(head) is not None or _MISCODED_HEAD_RE.match(head) is not None

    def parse(self, data: bytes, path: str) -> ParseResult:
        """Never raises on content: every problem becomes an ``ImportIssue``."""
        result = ParseResult(path=path, format=self.format)
        text, _ = decode_text(data)
        reader = _Reader(path, result)
        try:
            records = reader.records(text)
            if not result.refused:
                reader.walk(records)
        except Exception as exc:  # noqa: BLE001 - a parser reports, it never raises
            result.issues.append(ImportIssue(path, f"unreadable BAI2 ({exc!r})"))
        if result.refused:
            result.statements.clear()
        return result


class _Reader:
    def __init__(self, path: str, result: ParseResult) -> None:
        self.path = path
        self.result = result
        self.header_id = ""
        self.group: _Group | None = None
        self.account: _Account | None = None
        self.file_records = 0
        self.file_total = 0
        self.groups = 0
        self.closed = False

    def issue(self, message: str, line: int | None, field: str = "", fatal: bool = True) -> None:
        self.result.issues.append(
            ImportIssue(self.path, message, line=line, field=field, fatal=fatal)
        )

    # --- layout: physical lines to logical records ------------------------------------------

    def records(self, text: str) -> list[_Record]:
        records: list[_Record] = []
        for no, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
            line = raw.replace("\x1a", "").strip()
            if not line:
                continue
            for piece in _SPLIT_RE.split(line):
                self.piece(no, piece, records)
        if not records:
            if not self.result.issues:
                self.issue("no BAI2 records found", 1)
        elif records[0].code != "01":
            self.issue(
                f"a BAI2 file starts with an 01 file header, not {records[0].code!r}",
                records[0].line,
                field="record code",
            )
        return records

    def piece(self, no: int, piece: str, records: list[_Record]) -> None:
        m = _RECORD_RE.match(piece)
        body = piece[3:].rstrip()
        body = body[:-1] if body.endswith("/") else body
        if m and m.group(1) in _CODES:
            if m.group(1) != "88":
                records.append(_Record(m.group(1), [(no, body)]))
            elif records:
                records[-1].rows.append((no, body))
            else:
                self.issue("continuation record 88 before any record", no, field="record code")
            return
        if m or not records:
            code = m.group(1) if m else piece[:2]
            self.issue(f"unknown record code {code!r}", no, field="record code")
            return
        # text that runs on without a record code: keep it with the record above
        last_no, last = records[-1].rows[-1]
        text = piece.rstrip()
        records[-1].rows[-1] = (last_no, f"{last} {text[:-1] if text.endswith('/') else text}")
        self.issue(
            f"line does not start with a record code; read as text continuing line {last_no}",
            no,
            field="record code",
            fatal=False,
        )

    # --- structure and control totals -------------------------------------------------------

    def walk(self, records: list[_Record]) -> None:
        handlers = {
            "01": self.file_header,
            "02": self.group_header,
            "03": self.account_header,
            "16": self.detail,
            "49": self.account_trailer,
            "98": self.group_trailer,
            "99": self.file_trailer,
        }
        for rec in records:
            if self.closed:
                self.issue("record after the 99 file trailer", rec.line, field="record code")
                return
            self.file_records += rec.size
            if self.group is not None:
                self.group.records += rec.size if rec.code != "02" else 0
            if self.account is not None:
                self.account.records += rec.size
            handlers[rec.code](rec)
        if not self.closed:
            self.issue(
                "the file ends without a 99 file trailer; it looks truncated",
                records[-1].line,
                field="99",
            )

    def expect(self, rec: _Record, want: str, got: int, fld: str, what: str) -> None:
        try:
            value = int(want)
        except ValueError:
            self.issue(f"{what} {want!r} is not a number", rec.line, field=fld)
            return
        if value != got:
            self.issue(f"{what}: expected {value}, found {got}", rec.line, field=fld)

    def file_header(self, rec: _Record) -> None:
        f = rec.fields() + [""] * 9
        if self.file_records != rec.size:
            self.issue("a second 01 file header", rec.line, field="01")
        self.header_id = f[4]
        if f[7].strip() != "2":
            self.issue(
                f"version {f[7]!r} is not 2; read as BAI2", rec.line, field="version", fatal=False
            )

    def group_header(self, rec: _Record) -> None:
        if self.group is not None:
            self.issue(
                f"group at line {self.group.line} has no 98 group trailer", rec.line, field="98"
            )
        f = rec.fields() + [""] * 7
        as_of = _yymmdd(f[3])
        if as_of is None:
            self.issue(f"as-of date {f[3]!r} is not YYMMDD", rec.line, field="as-of date")
        self.group = _Group(line=rec.line, as_of=as_of, currency=f[5].strip())

    def account_header(self, rec: _Record) -> None:
        if self.group is None:
            self.issue("03 account outside a 02 group", rec.line, field="03")
            return
        if self.account is not None:
            self.issue(
                f"account at line {self.account.record.line} has no 49 account trailer",
                rec.line,
                field="49",
            )
        f = rec.fields()
        currency = (f[1] if len(f) > 1 else "").strip() or self.group.currency
        if not currency:
            currency = _DEFAULT_CURRENCY
            self.issue(
                f"neither the account nor its group names a currency; {_DEFAULT_CURRENCY} "
                "assumed as the BAI2 specification says",
                rec.line,
                field="currency",
                fatal=False,
            )
        summary: dict[str, int] = {}
        total = 0
        rest = f[2:]
        while rest:
            code, amount, _count, funds = ([*rest, "", "", "", ""])[:4]
            rest = rest[4:]
            width = _availability_width(funds, rest[0] if rest else "")
            if width is None:
                self.issue(f"funds type {funds!r} is not Z, 0-2, S, V or D", rec.line, "funds type")
                return
            rest = rest[width:]
            if not code.strip() and not amount.strip():
                continue
            value = self.number(rec, amount, f"03 type {code} amount")
            total += value
            summary.setdefault(code.strip(), value)
        self.account = _Account(rec, f[0].strip(), currency, summary, total, records=rec.size)

    def detail(self, rec: _Record) -> None:
        acct, group = self.account, self.group
        if acct is None or group is None:
            self.issue("16 detail outside a 03 account", rec.line, field="16")
            return
        fields = [(i, part) for i, (_, row) in enumerate(rec.rows) for part in row.split(",")]
        head = [p for _, p in fields[:3]] + ["", "", ""]
        type_code, amount_text, funds = head[0].strip(), head[1], head[2].strip()
        amount = self.number(rec, amount_text, "16 amount")
        acct.total += amount
        width = _availability_width(funds, fields[3][1] if len(fields) > 3 else "")
        if width is None:
            self.issue(f"funds type {funds!r} is not Z, 0-2, S, V or D", rec.line, "funds type")
            return
        rest_fields = fields[3 + width :]
        value_date = _yymmdd(fields[3][1]) if funds == "V" and len(fields) > 3 else None
        refs = [p.strip() for _, p in rest_fields[:2]] + ["", ""]
        text_parts: dict[int, list[str]] = {}
        for row, part in rest_fields[2:]:
            text_parts.setdefault(row, []).append(part)
        description = " ".join(" ".join(",".join(p) for p in text_parts.values()).split())
        sign = _direction(type_code)
        if sign == 0:
            self.issue(
                f"type code {type_code!r} is neither credit nor debit; amount kept as printed",
                rec.line,
                field="type code",
                fatal=False,
            )
        bank_ref, cust_ref = refs[0], refs[1]
        reference = "//".join(r for r in (bank_ref, cust_ref) if r)
        if group.as_of is None:
            return
        acct.transactions.append(
            ParsedTransaction(
                booking_date=group.as_of,
                amount_minor=amount * (sign or 1),
                description=description,
                line=rec.line,
                value_date=value_date,
                bank_reference=reference,
                bank_tx_code=f"BAI:{type_code}",
            )
        )

    def account_trailer(self, rec: _Record) -> None:
        acct, group = self.account, self.group
        if acct is None or group is None:
            self.issue("49 account trailer without a 03 account", rec.line, field="49")
            return
        f = [*rec.fields(), "", ""]
        self.expect(rec, f[0], acct.total, "account control total", "49 account control total")
        self.expect(rec, f[1], acct.records, "number of records", "49 record count")
        group.total += self.number(rec, f[0], "49 account control total")
        group.accounts += 1
        self.account = None
        currency = acct.currency
        try:
            validate_currency(currency)
        except CurrencyError:
            self.issue(f"unknown currency {currency!r}", acct.record.line, field="currency")
            return
        self.result.statements.append(
            ParsedStatement(
                account_identifier=acct.number,
                currency=currency,
                transactions=acct.transactions,
                opening_minor=acct.summary.get("010"),
                closing_minor=acct.summary.get("015"),
                period_start=group.as_of,
                period_end=group.as_of,
                statement_ref=self.header_id,
                line=acct.record.line,
            )
        )

    def group_trailer(self, rec: _Record) -> None:
        group = self.group
        if group is None:
            self.issue("98 group trailer without a 02 group", rec.line, field="98")
            return
        if self.account is not None:
            self.issue(
                f"account at line {self.account.record.line} has no 49 account trailer",
                rec.line,
                field="49",
            )
            self.account = None
        f = [*rec.fields(), "", "", ""]
        self.expect(rec, f[0], group.total, "group control total", "98 group control total")
        self.expect(rec, f[1], group.accounts, "number of accounts", "98 account count")
        self.expect(rec, f[2], group.records, "number of records", "98 record count")
        self.file_total += self.number(rec, f[0], "98 group control total")
        self.groups += 1
        self.group = None

    def file_trailer(self, rec: _Record) -> None:
        if self.group is not None:
            self.issue(f"group at line {self.group.line} has no 98 group trailer", rec.line, "98")
        f = [*rec.fields(), "", "", ""]
        self.expect(rec, f[0], self.file_total, "file control total", "99 file control total")
        self.expect(rec, f[1], self.groups, "number of groups", "99 group count")
        self.expect(rec, f[2], self.file_records, "number of records", "99 record count")
        self.closed = True

    def number(self, rec: _Record, text: str, what: str) -> int:
        s = text.strip()
        if not s:
            return 0
        try:
            return int(s)
        except ValueError:
            self.issue(f"{what} {text!r} is not a whole number of minor units", rec.line, what)
            return 0


def _availability_width(funds: str, first: str) -> int | None:
    """How many availability fields follow a funds type; None when the type is unknown.

    S: immediate, one-day, two-or-more-day amounts; V: value date and time; D: a count n
    followed by n (days, amount) pairs; Z, 0, 1, 2 or empty: none.
    """
    funds = funds.strip()
    if funds in ("", "Z", "0", "1", "2"):
        return 0
    if funds == "S":
        return 3
    if funds == "V":
        return 2
    if funds == "D" and (first.strip() or "0").isdigit():
        return 1 + 2 * int(first.strip() or "0")
    return None


def _direction(type_code: str) -> int:
    """+1 credit, -1 debit, 0 unknown, from the BAI type-code ranges."""
    if not type_code.isdigit():
        return 0
    code = int(type_code)
    if 100 <= code <= 399 or 920 <= code <= 959:
        return 1
    if 400 <= code <= 699 or 960 <= code <= 999:
        return -1
    return 0


def _yymmdd(text: str) -> date | None:
    s = text.strip()
    if len(s) != 6 or not s.isdigit():
        return None
    try:
        return date(2000 + int(s[:2]), int(s[2:4]), int(s[4:]))
    except ValueError:
        return None
