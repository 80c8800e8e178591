"""Bank CSV exports in two real layouts: Lloyds UK (GBP accounts) and ING NL (EUR accounts).

Lloyds: ``Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,
Debit Amount,Credit Amount,Balance,`` (the header ends with a comma, rows do not), dd/mm/yyyy,
sort code with a leading apostrophe, newest first, running balance after each line.
ING: all fields quoted, ``"Datum","Naam / Omschrijving","Rekening","Tegenrekening","Code",
"Af Bij","Bedrag (EUR)","MutatieSoort","Mededelingen"``, yyyymmdd, unsigned amount with a decimal
comma and Af/Bij, newest first, no balance. Accounts in other currencies get no bank CSV (no real
layout was chosen for them); one file per account covers the whole history.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ledgerlens.synth.cultures import RAIL_CODES
from ledgerlens.synth.model import SimAccount, SimBusiness, SimTxn, World

__all__ = ["ING_HEADER", "LLOYDS_HEADER", "bank_csv_text", "write_bank_csv"]

LLOYDS_HEADER = (
    "Transaction Date,Transaction Type,Sort Code,Account Number,"
    "Transaction Description,Debit Amount,Credit Amount,Balance,"
)
ING_HEADER = (
    "Datum",
    "Naam / Omschrijving",
    "Rekening",
    "Tegenrekening",
    "Code",
    "Af Bij",
    "Bedrag (EUR)",
    "MutatieSoort",
    "Mededelingen",
)


def _dot(minor: int) -> str:
    s = "-" if minor < 0 else ""
    a = abs(minor)
    return f"{s}{a // 100}.{a % 100:02d}"


def _lloyds(world: World, acc: SimAccount, lines: list[tuple[SimTxn, int]]) -> str:
    buf = io.StringIO()
    buf.write(LLOYDS_HEADER + "\n")
    w = csv.writer(buf, lineterminator="\n")
    dates = world.day_dates
    sort = f"'{acc.sort_code}" if acc.sort_code else ""
    for r, bal in reversed(lines):
        d = dates[r.day]
        debit = _dot(-r.amount_minor) if r.amount_minor < 0 else ""
        credit = _dot(r.amount_minor) if r.amount_minor >= 0 else ""
        w.writerow(
            [
                f"{d.day:02d}/{d.month:02d}/{d.year}",
                RAIL_CODES[r.kind][2],
                sort,
                acc.account_number,
                r.description,
                debit,
                credit,
                _dot(bal),
            ]
        )
    return buf.getvalue()


def _ing(world: World, acc: SimAccount, lines: list[tuple[SimTxn, int]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writerow(ING_HEADER)
    dates = world.day_dates
    for r, _bal in reversed(lines):
        d = dates[r.day]
        vd = dates[r.value_day if r.value_day >= 0 else r.day]
        a = abs(r.amount_minor)
        codes = RAIL_CODES[r.kind]
        name = r.counterparty_name or r.description[:32]
        w.writerow(
            [
                f"{d.year}{d.month:02d}{d.day:02d}",
                name,
                acc.identifier,
                r.counterparty_iban,
                codes[3],
                "Bij" if r.amount_minor >= 0 else "Af",
                f"{a // 100},{a % 100:02d}",
                codes[4],
                f"{r.description} Valutadatum: {vd.day:02d}-{vd.month:02d}-{vd.year}",
            ]
        )
    return buf.getvalue()


def bank_csv_text(world: World, b: SimBusiness, account_index: int) -> str | None:
    """The account's whole history in its bank's CSV layout, or None for other currencies."""
    acc = b.accounts[account_index]
    if acc.currency not in ("GBP", "EUR"):
        return None
    h = world.history_days
    lines = [
        (r, bal)
        for r, bal in zip(b.txns, b.balances_after, strict=True)
        if r.account == account_index and r.day < h
    ]
    return _lloyds(world, acc, lines) if acc.currency == "GBP" else _ing(world, acc, lines)


def write_bank_csv(world: World, b: SimBusiness, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, acc in enumerate(b.accounts):
        text = bank_csv_text(world, b, k)
        if text is None:
            continue
        p = folder / f"{acc.account_id}.csv"
        p.write_text(text, encoding="utf-8", newline="")
        paths.append(p)
    return paths
