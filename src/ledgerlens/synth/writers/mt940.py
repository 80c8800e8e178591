"""MT940 customer statements: one file per account per month of history.

Fields :20: (statement reference), :25: (IBAN or account number), :28C: (statement number),
:60F: / :62F: (opening / closing booked balance: D/C, YYMMDD, currency, comma decimal), and per
entry :61: (value date YYMMDD + entry date MMDD, C/D, amount, N + type code, customer reference
"NONREF" and //bank reference) followed by :86: (the bank text, up to 6 lines of 65 characters).
Text is transliterated to the SWIFT X character set, as banks do; lines end CRLF and no physical
line is longer than 65 characters.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

from ledgerlens.synth.cultures import RAIL_CODES
from ledgerlens.synth.model import SimBusiness, World
from ledgerlens.synth.writers.statements import StatementSlice, iter_statements

__all__ = ["mt940_text", "swift_text", "write_mt940"]

_NOT_X = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_SUBST = str.maketrans(
    {
        "ß": "ss",
        "&": "+",
        "*": " ",
        "#": " ",
        "@": " ",
        "_": "-",
        ";": ",",
        "!": ".",
        "|": "/",
        '"': "'",
        "%": " PCT",
        "=": "-",
    }
)


def swift_text(text: str) -> str:
    """Transliterate to the SWIFT X set ("Müller & Söhne" → "Muller + Sohne")."""
    t = text.translate(_SUBST)
    t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    return _NOT_X.sub(" ", t)


def _amount(minor: int) -> str:
    return f"{minor // 100},{minor % 100:02d}"


def _yymmdd(d: date) -> str:
    return f"{d.year % 100:02d}{d.month:02d}{d.day:02d}"


def _balance(tag: str, minor: int, d: date, ccy: str) -> str:
    return f":{tag}:{'C' if minor >= 0 else 'D'}{_yymmdd(d)}{ccy}{_amount(abs(minor))}"


def _lines_86(text: str) -> list[str]:
    t = swift_text(text).strip() or "NONREF"
    first, rest = t[:61], t[61 : 61 + 5 * 65]
    return [f":86:{first}"] + [rest[i : i + 65] for i in range(0, len(rest), 65)]


def mt940_text(world: World, b: SimBusiness, s: StatementSlice) -> str:
    acc, ccy, dates = s.account, s.account.currency, world.day_dates
    ref = f"{s.year % 100:02d}{s.month:02d}{acc.account_id[-9:]}"[:16]
    out = [
        f":20:{ref}",
        f":25:{acc.identifier}",
        f":28C:{s.seq:05d}/001",
        _balance("60F", s.opening_minor, s.first - timedelta(days=1), ccy),
    ]
    for r, _tid, bank_ref, _bal in s.lines:
        vd = dates[r.value_day if r.value_day >= 0 else r.day]
        bd = dates[r.day]
        dc = "C" if r.amount_minor >= 0 else "D"
        code = RAIL_CODES[r.kind][1]
        out.append(
            f":61:{_yymmdd(vd)}{bd.month:02d}{bd.day:02d}{dc}{_amount(abs(r.amount_minor))}"
            f"{code}NONREF//{bank_ref[:16]}"
        )
        out.extend(_lines_86(r.description))
    out.append(_balance("62F", s.closing_minor, s.last, ccy))
    return "\r\n".join(out) + "\r\n"


def write_mt940(world: World, b: SimBusiness, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in iter_statements(world, b):
        p = folder / f"{s.account.account_id}_{s.year}-{s.month:02d}.sta"
        p.write_bytes(mt940_text(world, b, s).encode("ascii"))
        paths.append(p)
    return paths
