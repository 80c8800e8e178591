"""SWIFT MT940 (end of day) and MT942 (interim) account statements.

Why our own tag walk rather than the ``mt940`` package's parser: a transaction must carry the
1-based line where its ``:61:`` starts and every problem must name its line, which the package
cannot tell; and on the real corpus it chokes on ASN (IBAN as reference plus a second line),
Zenith (``:28C: /1``) and silently misreads the old Rabobank layout (amounts with a decimal
point: one transaction instead of 39). The package stays our reference in the tests: where it
copes, its counts and sums must equal ours.

What the walk tolerates, because real banks send it: ``{1:…}{4:`` block wrappers and ``-}``
terminators, bank header lines before the first tag, CRLF/LF/CR and a trailing ``^Z``, several
statements and currencies per file, a decimal point instead of the comma, funds codes (``DD``),
reversals (``RD``/``RC``) and expected entries (``ED``/``EC``), missing transaction types, an
entry date that crosses the new year, and ``:86:`` texts in the German ``?20``, Triodos ``>20``
and Dutch ``/NAME/…/REMI/`` layouts (see :mod:`.mt940_details`).

One ``ParsedStatement`` per ``:60F:/:60M:`` … ``:62F:/:62M:`` segment; an MT942 without balances
gives one statement per ``:25:`` block with no opening or closing balance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from ledgerlens.core.errors import AmountError, CurrencyError
from ledgerlens.core.money import to_minor, validate_currency
from ledgerlens.ingest.encoding import decode_text
from ledgerlens.ingest.formats.mt940_details import describe, entry_date, split_reference
from ledgerlens.ingest.model import (
    ImportIssue,
    ParsedStatement,
    ParsedTransaction,
    ParseResult,
)

__all__ = ["Mt940Parser"]

_EXTENSIONS = (".sta", ".mt940", ".mta", ".940", ".942", ".swi", ".stm")
_TAG_RE = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_HEAD_TAG_RE = re.compile(rb"(?m)^(?:\{4:)?:(20|25|28C|60F|60M|61|62F|34F|13D):")
_BALANCE_RE = re.compile(
    r"^\s*(?P<mark>[DC])(?P<date>\d{6})(?P<cur>[A-Z]{3})\s*(?P<amount>\d+(?:[,.]\d*)?)"
)
# 6!n[4!n]2a[1!a]15d1!a3!c16x[//16x]: value date, entry date, mark, funds code, amount, rest
_STATEMENT_LINE_RE = re.compile(
    r"^(?P<vdate>\d{6})(?P<edate>\d{4}|\s{4})?\s*(?P<mark>R[DC]|E[DC]|[DC])"
    r"(?P<funds>[A-Z])?\s?(?P<amount>\d+(?:[,.]\d*)?)(?P<rest>.*)$"
)
_IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_CURRENCY_IN_RE = re.compile(r"([A-Z]{3})")


@dataclass(slots=True)
class _Tag:
    """One tag with its value lines; ``widths`` are the physical line widths (for re-joining)."""

    name: str
    line: int
    lines: list[str]
    widths: list[int]


@dataclass(slots=True)
class _Segment:
    """A statement being collected: balances as printed, raw ``:61:`` tags with their ``:86:``."""

    line: int
    account: str
    ref: str
    currency: str = ""
    opening: tuple[int, date, str, str] | None = None  # (tag line, date, currency, amount text)
    closing: tuple[int, date, str, str] | None = None
    entries: list[tuple[_Tag, list[_Tag]]] = field(default_factory=list)
    interim: bool = False


class Mt940Parser:
    """Reads MT940/MT942 files into statements; see the module docstring for the tolerances."""

    format = "mt940"

    def identify(self, head: bytes, filename: str) -> bool:
        """Claim files whose lines start with MT940 tags (also inside a ``{4:`` block)."""
        found = {m.group(1) for m in _HEAD_TAG_RE.finditer(head)}
        has_body = bool(found & {b"61", b"60F", b"60M", b"62F", b"34F", b"13D"})
        if b"20" in found and b"25" in found and has_body:
            return True
        return filename.lower().endswith(_EXTENSIONS) and b"25" in found and has_body

    def parse(self, data: bytes, path: str) -> ParseResult:
        """Never raises on content: every problem becomes an ``ImportIssue``."""
        result = ParseResult(path=path, format=self.format)
        text, _ = decode_text(data)
        tags = _split_tags(text)
        if not tags:
            result.issues.append(
                ImportIssue(path, "no MT940 tags (:20:, :25:, :61: …) found", line=1)
            )
            return result
        try:
            _Walker(path, result).walk(tags)
        except Exception as exc:  # noqa: BLE001 - a parser reports, it never raises
            result.issues.append(ImportIssue(path, f"unreadable MT940 ({exc!r})", line=None))
        if result.refused:
            result.statements.clear()
        return result


def _split_tags(text: str) -> list[_Tag]:
    """Cut the text into tags, dropping SWIFT block wrappers, terminators and bank headers."""
    tags: list[_Tag] = []
    current: _Tag | None = None
    for no, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        line = raw.replace("\x1a", "")
        if line.startswith("{"):
            # {1:…}{2:…}{3:…}{4: opens a message; {5:…} or other blocks close one
            current = None
            pos = line.find("{4:")
            if pos < 0:
                continue
            line = line[pos + 3 :]
        stripped = line.rstrip()
        if stripped == "-" or stripped.startswith("-}"):
            current = None
            continue
        m = _TAG_RE.match(stripped)
        if m:
            current = _Tag(m.group(1), no, [m.group(2)], [len(line)])
            tags.append(current)
        elif current is not None:
            current.lines.append(stripped)
            current.widths.append(len(line))
    return tags


class _Walker:
    """Walks the tags in order, opening and closing statement segments."""

    def __init__(self, path: str, result: ParseResult) -> None:
        self.path = path
        self.result = result
        self.ref20 = ""
        self.ref28 = ""
        self.account = ""
        self.seg: _Segment | None = None
        self.closed_at: int | None = None  # line of the last closing balance in this message
        self.in_txn = False  # the last tag was a :61: (or an :86: that belongs to one)

    def issue(self, message: str, line: int | None, field: str = "", fatal: bool = True) -> None:
        self.result.issues.append(
            ImportIssue(self.path, message, line=line, field=field, fatal=fatal)
        )

    def walk(self, tags: list[_Tag]) -> None:
        for tag in tags:
            self.step(tag)
        if self.seg is not None:
            last = tags[-1]
            filled = [i for i, text in enumerate(last.lines) if text.strip()]
            self.finish(end_line=last.line + (filled[-1] if filled else 0))

    def step(self, tag: _Tag) -> None:
        name = tag.name
        value = tag.lines[0].strip()
        if name == "20":
            self.finish(end_line=tag.line - 1)
            self.ref20, self.ref28, self.closed_at = value, "", None
        elif name == "25":
            if self.seg is not None and self.seg.interim:
                self.finish(end_line=tag.line - 1)
            self.account = " ".join(" ".join(tag.lines).split())
            self.closed_at = None
        elif name in ("28", "28C"):
            self.ref28 = value
        elif name in ("60F", "60M", "60"):
            self.finish(end_line=tag.line - 1)
            self.seg = _Segment(line=tag.line, account=self.account, ref=self.ref28 or self.ref20)
            self.seg.opening = self.balance(tag)
            if self.seg.opening is not None:
                self.seg.currency = self.seg.opening[2]
        elif name == "61":
            self.statement_line(tag)
        elif name == "86":
            if self.seg is not None and self.in_txn and self.seg.entries:
                self.seg.entries[-1][1].append(tag)
                return
        elif name in ("62F", "62M", "62"):
            self.closing(tag)
        elif name in ("34F", "90D", "90C") and self.seg is not None and not self.seg.currency:
            m = _CURRENCY_IN_RE.search(value)
            if m:
                self.seg.currency = m.group(1)
        self.in_txn = name == "61"

    def statement_line(self, tag: _Tag) -> None:
        if self.seg is None:
            if self.closed_at is not None:
                self.issue(
                    f"statement line after the closing balance at line {self.closed_at} and "
                    "before a new opening balance :60F:/:60M:",
                    tag.line,
                    field=":61:",
                )
                return
            # MT942 interim report: transactions without balances, one statement per :25:
            self.seg = _Segment(
                line=tag.line, account=self.account, ref=self.ref28 or self.ref20, interim=True
            )
            m = re.search(r"([A-Z]{3})\s*$", self.account)
            if m and _is_currency(m.group(1)):
                self.seg.currency = m.group(1)
        self.seg.entries.append((tag, []))

    def closing(self, tag: _Tag) -> None:
        bal = self.balance(tag)
        if self.seg is None:
            self.issue(
                "closing balance without an opening balance :60F:/:60M:",
                tag.line,
                field=f":{tag.name}:",
                fatal=False,
            )
            self.seg = _Segment(line=tag.line, account=self.account, ref=self.ref28 or self.ref20)
        self.seg.closing = bal
        if bal is not None and not self.seg.currency:
            self.seg.currency = bal[2]
        self.seg.interim = False
        self.emit(self.seg)
        self.seg = None
        self.closed_at = tag.line

    def finish(self, end_line: int) -> None:
        """Close the open segment at a boundary: an interim one is complete, others truncated."""
        seg, self.seg = self.seg, None
        if seg is None:
            return
        if seg.interim:
            self.emit(seg)
            return
        self.issue(
            f"statement opened at line {seg.line} has no closing balance :62F:/:62M: "
            f"(it stops at line {max(end_line, seg.line)}); the file looks truncated",
            max(end_line, seg.line),
            field=":62F:",
        )

    def balance(self, tag: _Tag) -> tuple[int, date, str, str] | None:
        m = _BALANCE_RE.match(tag.lines[0])
        when = _yymmdd(m.group("date")) if m else None
        if m is None or when is None:
            self.issue(
                f"balance {tag.lines[0].strip()!r} is not D/C, YYMMDD date, currency, amount",
                tag.line,
                field=f":{tag.name}:",
            )
            return None
        amount = m.group("amount")
        if m.group("mark") == "D":
            amount = "-" + amount
        return tag.line, when, m.group("cur"), amount

    def emit(self, seg: _Segment) -> None:
        cur = seg.currency
        if not _is_currency(cur):
            self.issue(
                f"no valid ISO 4217 currency for the statement at line {seg.line} ({cur!r})",
                seg.line,
                field="currency",
            )
            return
        opening = self.minor(seg.opening, cur)
        closing = self.minor(seg.closing, cur)
        if seg.closing is not None and seg.closing[2] != cur:
            self.issue(
                f"closing balance currency {seg.closing[2]} differs from opening {cur}",
                seg.closing[0],
                field=":62F:",
            )
        txns = [t for t in (self.transaction(s, d, cur) for s, d in seg.entries) if t is not None]
        self.result.statements.append(
            ParsedStatement(
                account_identifier=seg.account,
                currency=cur,
                transactions=txns,
                opening_minor=opening,
                closing_minor=closing,
                period_start=seg.opening[1] if seg.opening else None,
                period_end=seg.closing[1] if seg.closing else None,
                statement_ref=seg.ref,
                line=seg.line,
            )
        )

    def minor(self, bal: tuple[int, date, str, str] | None, cur: str) -> int | None:
        if bal is None:
            return None
        try:
            return to_minor(_decimal(bal[3]), cur)
        except (AmountError, CurrencyError) as exc:
            self.issue(f"balance amount: {exc}", bal[0], field="amount")
            return None

    def transaction(self, tag: _Tag, details: list[_Tag], cur: str) -> ParsedTransaction | None:
        first = tag.lines[0]
        m = _STATEMENT_LINE_RE.match(first.strip())
        value_date = _yymmdd(m.group("vdate")) if m else None
        if m is None or value_date is None:
            self.issue(
                f"statement line {first.strip()!r} is not value date YYMMDD, [entry date MMDD], "
                "D/C mark, amount",
                tag.line,
                field=":61:",
            )
            return None
        try:
            amount = to_minor(_decimal(m.group("amount")), cur)
        except (AmountError, CurrencyError) as exc:
            self.issue(f"amount: {exc}", tag.line, field=":61: amount")
            return None
        if m.group("mark") in ("D", "RC", "ED"):
            amount = -amount
        booking = value_date
        edate = (m.group("edate") or "").strip()
        if edate:
            entry = entry_date(value_date, edate)
            if entry is None:
                self.issue(
                    f"entry date {edate!r} is not MMDD; the value date is used",
                    tag.line,
                    field=":61: entry date",
                    fatal=False,
                )
            else:
                booking = entry
        tx_type, reference, extra_name = split_reference(m.group("rest"))
        supplementary = " ".join(" ".join(tag.lines[1:]).split())
        info = describe(details)
        cp_name = info.counterparty_name or extra_name
        cp_iban = info.counterparty_iban
        if not cp_iban and _IBAN_RE.match(supplementary.replace(" ", "")):
            cp_iban = supplementary.replace(" ", "")
        elif not cp_name and supplementary and not supplementary.isdigit():
            cp_name = supplementary
        code = "/".join(p for p in (tx_type, info.gv_code) if p)
        description = info.description or " ".join(
            p for p in (reference, extra_name, supplementary) if p
        )
        original_minor: int | None = None
        if info.original_currency and info.original_amount:
            try:
                original_minor = to_minor(_decimal(info.original_amount), info.original_currency)
            except (AmountError, CurrencyError):
                original_minor = None
        return ParsedTransaction(
            booking_date=booking,
            amount_minor=amount,
            description=description,
            line=tag.line,
            value_date=value_date,
            counterparty_name=cp_name,
            counterparty_iban=cp_iban,
            bank_reference=reference,
            bank_tx_code=code,
            purpose_code=info.purpose_code,
            original_amount_minor=original_minor,
            original_currency=info.original_currency if original_minor is not None else "",
        )


def _decimal(text: str) -> Decimal:
    """MT940 amounts use a decimal comma ("1234,5", "203,"); some banks send a point."""
    s = text.strip().replace(",", ".")
    digits = s.removeprefix("-")
    if digits.count(".") > 1 or not digits.replace(".", "").isdigit():
        raise AmountError(f"not an MT940 amount: {text!r}")
    try:
        return Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - guarded above
        raise AmountError(f"not an MT940 amount: {text!r}") from exc


def _yymmdd(text: str) -> date | None:
    """SWIFT dates are YYMMDD; years 70–99 are taken as 19xx (old statements exist)."""
    try:
        yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:6])
        return date(1900 + yy if yy >= 70 else 2000 + yy, mm, dd)
    except ValueError:
        return None


def _is_currency(code: str) -> bool:
    try:
        validate_currency(code)
    except CurrencyError:
        return False
    return True
