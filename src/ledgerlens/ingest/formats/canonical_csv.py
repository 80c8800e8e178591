"""Canonical CSV: LedgerLens's own import/export and batch contract (DESIGN.md §3).

The file is UTF-8 (a BOM is tolerated on input), one header row with exactly ``CANONICAL_COLUMNS``
in that order, then one transaction per row:

    transaction_id, business_id, account_id, account_currency, booking_date, value_date, amount,
    currency, description, counterparty_name, counterparty_iban, mcc, card_id, employee_id,
    balance_after, bank_reference

``amount`` is a signed decimal string (negative = money out) in ``currency``; dates are ISO
``yyyy-mm-dd``; an empty field means absent. The booked amount must be in the account currency:
a row whose ``currency`` differs from ``account_currency`` is refused (naming line and field)
rather than guessed to be an original/instructed amount, because the canonical file has no column
for the booked counter-value. ``balance_after`` is in the account currency too.

Round trip: ``canonical_row`` formats a stored ``Transaction`` exactly the way this module reads
it (``format_minor`` amounts, ``isoformat`` dates, "" for absent values) and the writer uses
``csv.writer(lineterminator="\\n")``, so exporting what a canonical import stored reproduces the
file byte for byte (when the file was itself written in canonical form).

Validation is strict because this is our own contract: a header mismatch, bad date, bad amount,
sub-minor precision, unknown currency, an MCC that is not four digits, a duplicate
``transaction_id`` or an unmasked card number in ``card_id`` are fatal issues that refuse the
file. Parsing streams (``iter_parse``): memory stays bounded by one chunk of at most
``CHUNK_SIZE`` transactions, plus 16 bytes a row for duplicate detection (a 64-bit hash of each
``transaction_id`` and its line; duplicates are reported when the stream ends).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import BinaryIO, TextIO

from ledgerlens.core.ledger import CANONICAL_COLUMNS, Transaction
from ledgerlens.core.money import ISO4217_CODES, currency_exponent, format_minor
from ledgerlens.ingest.model import ImportIssue, ParsedStatement, ParsedTransaction, ParseResult

__all__ = [
    "CANONICAL_COLUMNS",
    "CHUNK_SIZE",
    "CanonicalCsvParser",
    "canonical_row",
    "read_canonical_transactions",
    "write_canonical_csv",
]

CHUNK_SIZE = 10_000
MAX_ISSUES = 200  # a broken million-row file must not produce a million issues
_HEADER_LINE = ",".join(CANONICAL_COLUMNS)
_NCOLS = len(CANONICAL_COLUMNS)
_AMOUNT_RE = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?")
_UNMASKED_PAN_RE = re.compile(r"\d{13,}")
_NOT_UTF8 = "not UTF-8 text (canonical CSV is UTF-8)"


def canonical_row(tx: Transaction, account_currency: str) -> list[str]:
    """The canonical CSV fields of one stored transaction, in ``CANONICAL_COLUMNS`` order."""
    return [
        tx.transaction_id,
        tx.business_id,
        tx.account_id,
        account_currency,
        tx.booking_date.isoformat(),
        tx.value_date.isoformat() if tx.value_date is not None else "",
        format_minor(tx.amount_minor, tx.currency),
        tx.currency,
        tx.description,
        tx.counterparty_name,
        tx.counterparty_iban,
        tx.mcc,
        tx.card_id,
        tx.employee_id,
        (
            format_minor(tx.balance_after_minor, account_currency)
            if tx.balance_after_minor is not None
            else ""
        ),
        tx.bank_reference,
    ]


def write_canonical_csv(
    transactions: Iterable[Transaction],
    account_currency: Mapping[str, str] | Callable[[str], str],
    out: TextIO,
) -> int:
    """Write the header and one row per transaction; return the number of rows written.

    ``account_currency`` maps an ``account_id`` to its currency (a dict or a function). ``out``
    should be opened with ``newline=""`` so the "\\n" terminator is written as is.
    """
    lookup = (
        account_currency.__getitem__ if isinstance(account_currency, Mapping) else account_currency
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CANONICAL_COLUMNS)
    n = 0
    for tx in transactions:
        writer.writerow(canonical_row(tx, lookup(tx.account_id)))
        n += 1
    return n


def _header_issue(path: str, header: list[str]) -> ImportIssue:
    """Name what is wrong with a header: missing, unexpected or reordered columns."""
    missing = [c for c in CANONICAL_COLUMNS if c not in header]
    extra = [c for c in header if c not in CANONICAL_COLUMNS]
    parts = []
    if missing:
        parts.append(f"missing columns: {', '.join(missing)}")
    if extra:
        parts.append(f"unexpected columns: {', '.join(repr(c) for c in extra)}")
    if not parts:
        parts.append("columns are out of order or repeated")
    return ImportIssue(
        path, f"not a canonical CSV header ({'; '.join(parts)})", line=1, field="header"
    )


def read_canonical_transactions(path: str | os.PathLike[str]) -> list[Transaction]:
    """Every line of a canonical CSV file as a ``Transaction`` (account by account, as the
    parser returns them), for the batch commands and evaluations that work on a file without a
    database (risk, anomalies, forecast, the synthetic world). Refuses the whole file with its
    first issue, like an import does."""
    result = CanonicalCsvParser().parse(Path(path).read_bytes(), str(path))
    if result.refused:
        raise ValueError(f"{path}: canonical CSV refused: {result.issues[0]}")
    return [
        Transaction(
            transaction_id=p.transaction_id,
            business_id=p.business_id,
            account_id=p.account_id or st.account_identifier,
            booking_date=p.booking_date,
            value_date=p.value_date,
            amount_minor=p.amount_minor,
            currency=st.currency,
            description=p.description,
            counterparty_name=p.counterparty_name,
            counterparty_iban=p.counterparty_iban,
            mcc=p.mcc,
            card_id=p.card_id,
            employee_id=p.employee_id,
            balance_after_minor=p.balance_after_minor,
            bank_reference=p.bank_reference,
            original_amount_minor=p.original_amount_minor,
            original_currency=p.original_currency,
            source_path=str(path),
            source_line=p.line,
        )
        for st in result.statements
        for p in st.transactions
    ]


class CanonicalCsvParser:
    """Reads canonical CSV, streaming; see the module docstring for the contract."""

    format = "csv"

    def identify(self, head: bytes, filename: str) -> bool:
        """The first line is exactly the canonical header (a UTF-8 BOM allowed)."""
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        first = head.split(b"\n", 1)[0].rstrip(b"\r")
        try:
            text = first.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if text == _HEADER_LINE:
            return True
        try:
            return next(csv.reader([text]), []) == list(CANONICAL_COLUMNS)
        except csv.Error:
            return False

    def parse(self, data: bytes, path: str) -> ParseResult:
        """Whole-file parse: the streamed chunks merged into one statement per account."""
        issues: list[ImportIssue] = []
        merged: dict[tuple[str, str], list[ParsedStatement]] = {}
        for st in self.iter_parse(io.BytesIO(data), path, issues):
            merged.setdefault((st.account_identifier, st.currency), []).append(st)
        statements = []
        for parts in merged.values():
            txs = [t for p in parts for t in p.transactions]
            statements.append(
                ParsedStatement(
                    account_identifier=parts[0].account_identifier,
                    currency=parts[0].currency,
                    transactions=txs,
                    period_start=min(p.period_start for p in parts if p.period_start),
                    period_end=max(p.period_end for p in parts if p.period_end),
                    line=parts[0].line,
                )
            )
        if any(i.fatal for i in issues):
            statements = []  # a refused file offers nothing to store
        return ParseResult(path=path, format=self.format, statements=statements, issues=issues)

    def iter_parse(
        self, stream: BinaryIO, path: str, issues: list[ImportIssue]
    ) -> Iterator[ParsedStatement]:
        """Yield statements of at most ``CHUNK_SIZE`` consecutive rows of one account.

        Problems are appended to ``issues`` as they are found (duplicates at the end), so the
        caller must check them after the iterator is exhausted before committing anything.
        """
        start = stream.tell() if stream.seekable() else None
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            seen = yield from self._iter_text(text, path, issues)
        finally:
            with contextlib.suppress(ValueError):
                text.detach()  # leave the caller's stream open
        if seen is not None and seen.suspects:
            for message, line in _confirm_duplicates(stream, start, seen.suspects):
                issues.append(ImportIssue(path, message, line=line, field="transaction_id"))

    def _iter_text(
        self, text: TextIO, path: str, issues: list[ImportIssue]
    ) -> Generator[ParsedStatement, None, _SeenIds | None]:
        reader = csv.reader(text)
        n_issues = 0

        def report(message: str, line: int | None, fld: str = "") -> None:
            nonlocal n_issues
            n_issues += 1
            if n_issues <= MAX_ISSUES:
                issues.append(ImportIssue(path, message, line=line, field=fld))
            elif n_issues == MAX_ISSUES + 1:
                issues.append(ImportIssue(path, f"more than {MAX_ISSUES} problems; stopped"))

        try:
            header = next(reader, None)
        except UnicodeDecodeError:
            report(_NOT_UTF8, None)
            return None
        except csv.Error as exc:
            report(f"malformed CSV header: {exc}", 1, "header")
            return None
        if header is None:
            report("empty file: no header and no transactions", None, "header")
            return None
        if header != list(CANONICAL_COLUMNS):
            issues.append(_header_issue(path, header))
            return None

        # per currency: (exponent, matcher of the writer's exact form "-123.45")
        fast: dict[str, tuple[int, Callable[[str], object]]] = {}
        seen = _SeenIds()
        chunk: list[ParsedTransaction] = []
        key_account = key_currency = ""
        fromiso = date.fromisoformat
        new_tx = ParsedTransaction
        ncols = _NCOLS
        prev_end = 1
        rows = 0
        try:
            for row in reader:
                line = prev_end + 1
                prev_end = reader.line_num
                if len(row) != ncols:
                    if row:  # a blank line carries nothing
                        report(f"expected {ncols} fields, found {len(row)}", line)
                    continue
                (tid, bid, aid, acur, bdate, vdate, amount, cur, desc, cp_name, cp_iban, mcc,
                 card, emp, bal, ref) = row  # fmt: skip
                # fast path: the exact form the writer produces; anything else is re-checked
                # field by field by _check_row, which names every problem
                try:
                    exact = fast[acur][1]
                    if (
                        cur != acur
                        or bdate[4] != "-"
                        or bdate[7] != "-"
                        or len(bdate) != 10
                        or (vdate and (vdate[4] != "-" or vdate[7] != "-" or len(vdate) != 10))
                        or not exact(amount)
                        or (bal and not exact(bal))
                        or (mcc and not (len(mcc) == 4 and mcc.isascii() and mcc.isdigit()))
                        or (card and _has_unmasked_pan(card))
                    ):
                        raise ValueError
                    booking = fromiso(bdate)
                    value = fromiso(vdate) if vdate else None
                    amount_minor = int(amount.replace(".", "", 1))
                    balance_minor = int(bal.replace(".", "", 1)) if bal else None
                except (KeyError, ValueError, IndexError):
                    checked = _check_row(row, fast)
                    if isinstance(checked, list):
                        for message, fld in checked:
                            report(message, line, fld)
                        if n_issues > MAX_ISSUES:
                            break
                        continue
                    booking, value, amount_minor, balance_minor = checked
                if tid:
                    seen.add(tid)
                rows += 1
                if aid != key_account or acur != key_currency or len(chunk) >= CHUNK_SIZE:
                    if chunk:
                        yield _statement((key_account, key_currency), chunk)
                    chunk = []
                    key_account, key_currency = aid, acur
                chunk.append(
                    new_tx(
                        booking_date=booking,
                        amount_minor=amount_minor,
                        description=desc,
                        line=line,
                        value_date=value,
                        counterparty_name=cp_name,
                        counterparty_iban=cp_iban,
                        bank_reference=ref,
                        mcc=mcc,
                        card_id=card,
                        balance_after_minor=balance_minor,
                        transaction_id=tid,
                        business_id=bid,
                        account_id=aid,
                        employee_id=emp,
                    )
                )
        except UnicodeDecodeError:
            # the decoder works a block ahead of the csv reader: the bad byte is at or after
            report(_NOT_UTF8 + " (at or after this line)", prev_end + 1)
        except csv.Error as exc:
            report(f"malformed CSV: {exc}", reader.line_num)
        if chunk:
            yield _statement((key_account, key_currency), chunk)
        if rows == 0 and n_issues == 0:
            report("no transactions after the header", None)
        return seen


def _has_unmasked_pan(card: str) -> bool:
    """13 or more digits in a row (spaces and dashes ignored): a card number in clear."""
    return _UNMASKED_PAN_RE.search(card.replace(" ", "").replace("-", "")) is not None


def _check_row(
    row: list[str], fast: dict[str, tuple[int, Callable[[str], object]]]
) -> list[tuple[str, str]] | tuple[date, date | None, int, int | None]:
    """Every problem of one row as (message, field), or its values when it has none.

    The slow path: only rows the fast path did not accept come here, so a file in canonical form
    pays nothing for the detailed diagnostics. Learns each valid currency into ``fast``.
    """
    acur, bdate, vdate, amount, cur, mcc, card, bal = (row[i] for i in (3, 4, 5, 6, 7, 11, 12, 14))
    problems: list[tuple[str, str]] = []
    if acur not in ISO4217_CODES:
        return [(f"unknown ISO 4217 currency {acur!r}", "account_currency")]
    if acur not in fast:
        exp = currency_exponent(acur)
        form = rf"-?[0-9]+\.[0-9]{{{exp}}}" if exp else r"-?[0-9]+"
        fast[acur] = (exp, re.compile(form).fullmatch)
    exp = fast[acur][0]
    if cur != acur:
        if cur not in ISO4217_CODES:
            problems.append((f"unknown ISO 4217 currency {cur!r}", "currency"))
        else:
            why = f"the booked amount must be in the account currency {acur}, not {cur}"
            problems.append((why, "currency"))
    booking = _iso_date(bdate)
    if booking is None:
        problems.append((f"not a date (yyyy-mm-dd): {bdate!r}", "booking_date"))
    value = _iso_date(vdate) if vdate else None
    if vdate and value is None:
        problems.append((f"not a date (yyyy-mm-dd): {vdate!r}", "value_date"))
    amount_minor = _to_minor(amount, exp)
    if amount_minor is None:
        problems.append((_amount_problem(amount, exp, acur), "amount"))
    balance_minor = _to_minor(bal, exp) if bal else None
    if bal and balance_minor is None:
        problems.append((_amount_problem(bal, exp, acur), "balance_after"))
    if mcc and not (len(mcc) == 4 and mcc.isascii() and mcc.isdigit()):
        problems.append((f"an MCC is four digits, not {mcc!r}", "mcc"))
    if card and _has_unmasked_pan(card):
        problems.append(("card numbers must be masked (an unmasked card number)", "card_id"))
    if problems or booking is None or amount_minor is None:
        return problems
    return booking, value, amount_minor, balance_minor


def _to_minor(text: str, exponent: int) -> int | None:
    """Exact minor units of a plain decimal string, or None (too many decimals, not a number)."""
    m = _AMOUNT_RE.fullmatch(text)
    if m is None:
        return None
    sign, whole, frac = m.groups()
    frac = (frac or "").rstrip("0")
    if len(frac) > exponent:
        return None
    value = int(whole + frac.ljust(exponent, "0"))
    return -value if sign == "-" else value


def _iso_date(text: str) -> date | None:
    """``yyyy-mm-dd`` only (``fromisoformat`` alone would also take "20240105")."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _amount_problem(text: str, exponent: int, currency: str) -> str:
    if _AMOUNT_RE.fullmatch(text):
        return f"{text!r} has more than {exponent} decimals for {currency}"
    return f"not an amount: {text!r}"


def _statement(key: tuple[str, str], txs: list[ParsedTransaction]) -> ParsedStatement:
    dates = [t.booking_date for t in txs]
    return ParsedStatement(
        account_identifier=key[0],
        currency=key[1],
        transactions=txs,
        period_start=min(dates),
        period_end=max(dates),
        line=txs[0].line,
    )


class _SeenIds:
    """Which transaction ids a file has shown, in fixed memory (a Bloom filter of 2**27 bits,
    16 MiB, five probes): memory does not grow with the file. A hit is only a suspect —
    ``_confirm_duplicates`` reads the file once more for the few suspects to name both lines."""

    BITS = 1 << 27

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS >> 3)
        self.suspects: set[str] = set()

    def add(self, tid: str) -> None:
        h = hash(tid) & 0xFFFF_FFFF_FFFF_FFFF
        h1, h2 = h % self.BITS, (h >> 27) | 1
        bits, fresh = self._bits, False
        for k in range(5):
            idx = (h1 + k * h2) % self.BITS
            byte, mask = idx >> 3, 1 << (idx & 7)
            if not bits[byte] & mask:
                fresh = True
                bits[byte] |= mask
        if not fresh:
            self.suspects.add(tid)


def _confirm_duplicates(
    stream: BinaryIO, start: int | None, suspects: set[str]
) -> Iterator[tuple[str, int | None]]:
    """(message, line) for every real repeat of a suspected id, in file order."""
    if start is None:  # a stream read once cannot be read again: name the id, not the lines
        for tid in sorted(suspects):
            yield (f"transaction_id {tid!r} appears more than once", None)
        return
    stream.seek(start)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        next(reader, None)
        first: dict[str, int] = {}
        repeats: list[tuple[int, int]] = []
        prev_end = 1
        for row in reader:
            line, prev_end = prev_end + 1, reader.line_num
            if len(row) != _NCOLS or row[0] not in suspects:
                continue
            if row[0] in first:
                repeats.append((line, first[row[0]]))
            else:
                first[row[0]] = line
    finally:
        with contextlib.suppress(ValueError):
            text.detach()
    for line, first_line in sorted(repeats):
        yield (f"duplicate transaction_id (first on line {first_line})", line)
