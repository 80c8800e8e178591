"""Bank CSV exports, one generic parser driven by dialects declared as data.

Each bank's export is described by a TOML file in ``ledgerlens/ingest/dialects/`` (see
``ing_nl.toml`` for a commented example): how to recognise its header (required names, with
localized alternatives written ``"Datum|Date"``) or, for headerless exports, a regex on the first
line plus the column names; the delimiter candidates; decimal and thousands separators; date
formats; and which columns hold the booking date, the amount (signed, or unsigned with a
debit/credit marker column, or separate debit and credit columns, minus a fee column), the
description parts, the counterparty, the account, the currency (or a fixed one), the running
balance (after or before the row), the state to keep, and references. Adding a bank is adding a
file, not code — the habit of beangulp's ``csvbase``.

Three declarations cover exports that do not fit one-name-one-column:

* ``"Mutatie>1"`` names the unnamed column right of "Mutatie" (DEGIRO prints the currency under
  "Mutatie" and the amount in the nameless column after it); the column must have no name.
* ``skip_blank_amount = true``: a row without an amount moved no money (DEGIRO's money-market
  conversions) and is skipped with a non-fatal issue instead of refusing the file.
* ``refuse = "why"``: the header is recognised, but the export holds nothing to import (ING's
  balance history); the file is claimed and refused with that reason rather than "unrecognised".
  ``[header] preamble`` does the same for a file that starts with the bank's preamble line but
  lacks the header (Knab's "KNAB EXPORT"): the refusal says which header names are missing.

What the parser promises:

* The file is decoded with ``decode_text`` (UTF-8, BOM, CP1252/Latin-1, CP1250, CP1257); the
  delimiter is sniffed among the dialect's candidates.
* Every transaction keeps its 1-based physical ``line``; every issue names the line and the
  field as the file spells it (``line 5 field "Bedrag (EUR)": not an amount '1,2,5'``).
* A row that cannot be read exactly (bad date, amount, marker, currency, field count, broken
  quoting) refuses the file: a statement with a silently missing row would mislead.
* One statement per account, currency (and product, for Revolut), in chronological order
  (newest-first exports are reversed). Where the export prints a running balance, the opening
  and closing balances and each row's ``balance_after_minor`` are derived only if the balances
  chain row to row; otherwise a non-fatal issue names the first row that breaks the chain and
  the balances stay empty — they are never "repaired".
"""

from __future__ import annotations

import contextlib
import csv
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

from ledgerlens.core.money import ISO4217_CODES
from ledgerlens.ingest.encoding import decode_text
from ledgerlens.ingest.formats.bank_csv_rows import read_rows
from ledgerlens.ingest.model import ImportIssue, ParseResult

__all__ = ["BankCsvParser", "Dialect", "detect_dialect", "load_dialects"]

HEADER_SEARCH_LINES = 10  # how far into a file a header may sit behind a preamble

_SINGLE_ROLES = frozenset(
    {
        "booking_date", "value_date", "amount", "debit", "credit", "sign", "fee", "currency",
        "counterparty_name", "counterparty_iban", "balance", "balance_before", "state", "group",
        "bank_reference", "bank_tx_code",
    }
)  # fmt: skip
_MULTI_ROLES = frozenset({"description", "account"})
_TOP_KEYS = frozenset(
    {
        "name", "bank", "country", "delimiters", "quotechar", "decimal", "thousands",
        "date_formats", "currency", "encoding", "header_within", "strip_apostrophes",
        "single_account", "description_separator", "keep_states", "header", "columns", "sign",
        "skip_blank_amount", "refuse",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Dialect:
    """One bank's CSV export, as declared in its TOML file."""

    name: str
    bank: str
    country: str
    delimiters: tuple[str, ...]
    decimal: str
    thousands: str
    date_formats: tuple[str, ...]
    columns: Mapping[str, str | tuple[str, ...]]
    required: tuple[str, ...] = ()
    first_line: re.Pattern[str] | None = None
    preamble: re.Pattern[str] | None = None
    column_names: tuple[str, ...] = ()
    quotechar: str = '"'
    currency: str = ""
    encoding: str = ""
    header_within: int = 1
    strip_apostrophes: bool = False
    single_account: bool = False
    description_separator: str = " "
    keep_states: tuple[str, ...] = ()
    sign_negative: tuple[str, ...] = ()
    sign_positive: tuple[str, ...] = ()
    skip_blank_amount: bool = False
    refuse: str = ""
    amount_re: re.Pattern[str] = field(default=re.compile(""), repr=False)

    @property
    def headerless(self) -> bool:
        return self.first_line is not None


def _dialect_from_toml(doc: dict[str, object], source: str) -> Dialect:
    """Build and check a dialect; a malformed dialect file is a packaging bug, so it raises."""

    def fail(why: str) -> ValueError:
        return ValueError(f"bank CSV dialect {source}: {why}")

    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    header = doc.get("header", {})
    cols_doc = doc.get("columns", {})
    sign = doc.get("sign", {})
    if not isinstance(header, dict) or not isinstance(cols_doc, dict) or not isinstance(sign, dict):
        raise fail("[header], [columns] and [sign] must be tables")
    columns: dict[str, str | tuple[str, ...]] = {}
    for role, ref in cols_doc.items():
        if role in _MULTI_ROLES:
            columns[role] = (ref,) if isinstance(ref, str) else tuple(ref)
        elif role in _SINGLE_ROLES and isinstance(ref, str):
            columns[role] = ref
        else:
            raise fail(f"unknown or malformed column role {role!r}")
    refuse = str(doc.get("refuse", ""))
    fixed = str(doc.get("currency", ""))
    if refuse:
        if columns:
            raise fail("a refusing dialect reads no rows, so it maps no [columns]")
    else:
        if "booking_date" not in columns:
            raise fail("needs a booking_date column")
        if ("amount" in columns) == ("debit" in columns and "credit" in columns):
            raise fail("needs either amount or both debit and credit")
        if "sign" in columns and not (sign.get("negative") and sign.get("positive")):
            raise fail("a sign column needs [sign] negative and positive values")
        if "balance" in columns and "balance_before" in columns:
            raise fail("declare balance (after the row) or balance_before, not both")
        if bool(fixed) == ("currency" in columns) or (fixed and fixed not in ISO4217_CODES):
            raise fail("needs exactly one of a fixed ISO currency or a currency column")
    first_line = header.get("first_line")
    preamble = header.get("preamble")
    if preamble is not None and first_line is not None:
        raise fail("a preamble comes before a header; a headerless dialect has none")
    names = tuple(header.get("columns", ()))
    if first_line is not None:
        refs = [r for ref in columns.values() for r in ((ref,) if isinstance(ref, str) else ref)]
        if not names or any(r not in names for r in refs):
            raise fail("a headerless dialect names its columns and maps only those")
    elif not header.get("required"):
        raise fail("needs [header] required names or a first_line regex")
    decimal, thousands = str(doc.get("decimal", ".")), str(doc.get("thousands", ""))
    grouped = rf"[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}})+|" if thousands else ""
    amount_re = re.compile(rf"([+-]?)({grouped}[0-9]+)(?:{re.escape(decimal)}([0-9]+))?")
    return Dialect(
        name=str(doc["name"]),
        bank=str(doc.get("bank", "")),
        country=str(doc.get("country", "")),
        delimiters=tuple(doc.get("delimiters", (",",))),  # type: ignore[arg-type]
        decimal=decimal,
        thousands=thousands,
        date_formats=tuple(doc["date_formats"]),  # type: ignore[arg-type]
        columns=columns,
        required=tuple(header.get("required", ())),
        first_line=re.compile(first_line) if first_line is not None else None,
        preamble=re.compile(preamble) if preamble is not None else None,
        column_names=names,
        quotechar=str(doc.get("quotechar", '"')),
        currency=fixed,
        encoding=str(doc.get("encoding", "")),
        header_within=int(doc.get("header_within", 1)),  # type: ignore[call-overload]
        strip_apostrophes=bool(doc.get("strip_apostrophes", False)),
        single_account=bool(doc.get("single_account", False)),
        description_separator=str(doc.get("description_separator", " ")),
        keep_states=tuple(doc.get("keep_states", ())),  # type: ignore[arg-type]
        sign_negative=tuple(s.casefold() for s in sign.get("negative", ())),
        sign_positive=tuple(s.casefold() for s in sign.get("positive", ())),
        skip_blank_amount=bool(doc.get("skip_blank_amount", False)),
        refuse=refuse,
        amount_re=amount_re,
    )


@cache
def load_dialects() -> tuple[Dialect, ...]:
    """Every packaged dialect: header ones first (most required names first), then headerless."""
    found = []
    folder = files("ledgerlens.ingest") / "dialects"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            doc = tomllib.loads(entry.read_text(encoding="utf-8"))
            found.append(_dialect_from_toml(doc, entry.name))
    return tuple(sorted(found, key=lambda d: (d.headerless, -len(d.required), d.name)))


def _norm(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def _split(line: str, delimiter: str, quotechar: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, quotechar=quotechar), [])
    except csv.Error:
        return []


def _delimiter_order(line: str, candidates: Sequence[str]) -> list[str]:
    """The candidates with csv.Sniffer's pick (limited to them) first."""
    if len(candidates) < 2:
        return list(candidates)
    try:
        sniffed = csv.Sniffer().sniff(line, delimiters="".join(candidates)).delimiter
    except csv.Error:
        return list(candidates)
    return [sniffed, *(c for c in candidates if c != sniffed)]


@dataclass(frozen=True, slots=True)
class _Layout:
    dialect: Dialect
    delimiter: str
    header_index: int  # 0-based line of the header; -1 when headerless
    missing: str = ""  # the preamble matched but the header did not: why, for the refusal


def _found(line: str, delim: str, d: Dialect) -> list[bool]:
    """For each required header name: is it (or one of its alternatives) in this line?"""
    names = {_norm(f) for f in _split(line, delim, d.quotechar)}
    return [any(_norm(a) in names for a in ref.split("|")) for ref in d.required]


def _missing_header(d: Dialect, lines: list[str], at: int) -> _Layout:
    """The preamble on line ``at`` but no header: say which required names the best line lacks."""
    best: tuple[int, list[bool]] | None = None
    for i, line in enumerate(lines[: d.header_within]):
        if i == at or not line.strip():
            continue
        for delim in d.delimiters:
            hits = _found(line, delim, d)
            if any(hits) and (best is None or sum(hits) > sum(best[1])):
                best = (i, hits)
    where = f"{d.bank} export ({lines[at].split(d.delimiters[0])[0].strip()!r} on line {at + 1})"
    if best is None:
        why = (
            f"{where} without its header line: expected "
            f"{d.delimiters[0].join(r.split('|')[0] for r in d.required)} "
            f"within the first {d.header_within} lines"
        )
        return _Layout(d, d.delimiters[0], at, why)
    i, hits = best
    lacking = ", ".join(r.split("|")[0] for r, ok in zip(d.required, hits, strict=True) if not ok)
    return _Layout(d, d.delimiters[0], i, f"{where}: the header on line {i + 1} lacks {lacking}")


def _locate(text: str, dialects: Iterable[Dialect]) -> _Layout | None:
    lines = [ln.rstrip("\r") for ln in text[:65536].split("\n")[:HEADER_SEARCH_LINES]]
    first = next((ln for ln in lines if ln.strip()), "")
    dialects = tuple(dialects)
    for d in dialects:
        if d.first_line is not None:
            if d.first_line.search(first):
                return _Layout(d, _delimiter_order(first, d.delimiters)[0], -1)
            continue
        for i, line in enumerate(lines[: d.header_within]):
            for delim in _delimiter_order(line, d.delimiters):
                if all(_found(line, delim, d)):
                    return _Layout(d, delim, i)
    for d in dialects:
        if d.preamble is not None and d.preamble.search(first):
            return _missing_header(d, lines, lines.index(first))
    return None


def detect_dialect(text: str) -> Dialect | None:
    """The packaged dialect whose header (or first-line pattern) this decoded text matches."""
    layout = _locate(text, load_dialects())
    return layout.dialect if layout else None


class BankCsvParser:
    """Parses any bank CSV export a packaged dialect describes; ``dialect`` forces one by name."""

    format = "bankcsv"

    def __init__(self, dialect: str | None = None) -> None:
        self._only = dialect

    def _dialects(self) -> tuple[Dialect, ...]:
        dialects = load_dialects()
        if self._only is None:
            return dialects
        chosen = tuple(d for d in dialects if d.name == self._only)
        if not chosen:
            raise ValueError(f"unknown bank CSV dialect {self._only!r}")
        return chosen

    def identify(self, head: bytes, filename: str) -> bool:
        """A dialect's header (or headerless first-line pattern) is in the first lines."""
        if not head.strip():
            return False
        cut = head.rfind(b"\n")
        text, _ = decode_text(head[:cut] if cut > 0 else head)
        return _locate(text, self._dialects()) is not None

    def parse(self, data: bytes, path: str) -> ParseResult:
        """Read the whole export; never raises for bad content (see the module docstring)."""

        result = ParseResult(path=path, format=self.format)
        if not data.strip():
            result.issues.append(ImportIssue(path, "empty file: no header and no transactions"))
            return result
        text, encoding = decode_text(data)
        layout = _locate(text, self._dialects())
        if layout is None:
            known = ", ".join(d.name for d in self._dialects())
            result.issues.append(
                ImportIssue(
                    path,
                    f"no known bank CSV header in the first {HEADER_SEARCH_LINES} lines "
                    f"(dialects: {known})",
                    line=1,
                    field="header",
                )
            )
            return result
        refusal = layout.missing or layout.dialect.refuse
        if refusal:
            line = layout.header_index + 1 if layout.header_index >= 0 else 1
            result.issues.append(ImportIssue(path, refusal, line=line, field="header"))
            return result
        hint = layout.dialect.encoding
        if hint and not encoding.startswith("utf-8") and hint != encoding:
            with contextlib.suppress(LookupError, UnicodeDecodeError):
                text = data.decode(hint)
        result.statements = read_rows(text, layout, path, result.issues)
        if result.refused:
            result.statements = []
        return result
