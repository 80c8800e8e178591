"""Read the free-form parts of MT940: ``:86:`` information, the ``:61:`` reference, entry dates.

``:86:`` lines become a readable description and a counterparty.

Banks fill ``:86:`` in three structured layouts besides free text, and each needs its own
reading to give a person (and the categorizer) the remittance text rather than field codes:

- German (DFÜ/DK) ``166?00Gutschrift?20purpose…?29?30BLZ?31account?32name?33name``: a 3-digit
  business transaction code ("GV code") then ``?nn`` subfields; Triodos uses ``>`` instead of ``?``.
- Dutch ``/TRTP/SEPA OVERBOEKING/IBAN/NL…/BIC/…/NAME/…/REMI/…/EREF/…`` (ABN AMRO, ING, Knab,
  Rabobank, ASN, bunq), with ``/CNTP/iban/bic/name/city/`` in newer Rabobank files.
- Free text: lines joined with spaces.

SWIFT lines are at most 65 characters and banks cut structured text at that width in mid-word
("NOTPROV" + "IDED"), so a line that fills the width is glued to the next one without a space;
German subfields are 27 characters wide and are glued the same way when full.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

__all__ = ["Details", "describe", "entry_date", "split_reference"]

_TYPE_RE = re.compile(r"^[A-Z][A-Z0-9 ]{3}")
_FULL_LINE = 60  # a physical line this wide was cut by the bank, not ended by it
_FULL_SUBFIELD = 27
_GERMAN_RE = re.compile(r"^\s*(\d{3})\s*([?>])(?=\d{2})")
_NL_KEYS = (
    "TRTP|IBAN|BIC|NAME|REMI|EREF|CSID|MARF|ORDP|BENM|ISDT|ADDR|CNTP|ACCW|PREF|RTRN|ULTC|ULTD|"
    "ULTB|PURP|SVCL|OCMT|CREF|IREF|KREF|BBAN|CHGS|EXCH|OGB|OSDR|ORDB|BENB|RTYP|FXRT|TXID"
)
_NL_KEY_RE = re.compile(rf"/({_NL_KEYS})(?=/)")
_SEPA_KEY_RE = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|PURP)\+")
_PURPOSE_KEYS = (*(str(k) for k in range(20, 30)), "60", "61", "62", "63")
_IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_LEADING_IBAN_RE = re.compile(r"^([A-Z]{2}\d{2}[A-Z0-9]{10,30})\s+(\S.*)$")
_AMOUNT_RE = re.compile(r"^([A-Z]{3})\s*(\d+(?:[,.]\d*)?)")


class _Lines(Protocol):
    lines: list[str]
    widths: list[int]


@dataclass(frozen=True, slots=True)
class Details:
    """What one transaction's ``:86:`` tags say, already made readable."""

    description: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    gv_code: str = ""
    purpose_code: str = ""
    original_currency: str = ""
    original_amount: str = ""


def describe(tags: Sequence[_Lines]) -> Details:
    """Read the ``:86:`` tags that follow one ``:61:`` (several are joined)."""
    if not tags:
        return Details()
    joined = " ".join(_join(t, glue_full=True) for t in tags)
    german = _GERMAN_RE.match(joined)
    if german:
        return _german(german.group(1), german.group(2), joined[german.start(2) :])
    if _NL_KEY_RE.search(joined):
        return _dutch(joined)
    text = _clean(" ".join(_join(t, glue_full=False) for t in tags))
    gv_code = ""
    if re.match(r"^999\D", text):  # DFÜ code 999: unstructured text follows
        gv_code, text = "999", text[3:]
    m = _LEADING_IBAN_RE.match(text)
    if m:  # ASN, ING: "NL29INGB0006475121 j blom …"
        return Details(description=text, counterparty_iban=m.group(1), gv_code=gv_code)
    return Details(description=text, gv_code=gv_code)


def _join(tag: _Lines, *, glue_full: bool) -> str:
    out = tag.lines[0]
    for prev_width, line in zip(tag.widths, tag.lines[1:], strict=False):
        glue = glue_full and prev_width >= _FULL_LINE
        out += line if glue else " " + line
    return out


def _clean(text: str) -> str:
    """Collapse whitespace; a soft hyphen (ING writes dates with it) becomes a plain one."""
    return " ".join(text.replace("\u00ad", "-").split())


def _german(gv_code: str, sep: str, body: str) -> Details:
    fields: dict[str, list[str]] = {}
    parts = re.split(r"\?(\d{2})" if sep == "?" else r">(\d{2})", body)
    for key, val in zip(parts[1::2], parts[2::2], strict=False):
        fields.setdefault(key, []).append(val)
    if sep == ">":
        return _triodos(gv_code, fields)
    purpose = _clean(_glue([v for k in _PURPOSE_KEYS for v in fields.get(k, [])]))
    name = _glue(fields.get("32", []) + fields.get("33", []))
    posting = _clean("".join(fields.get("00", [])))
    sepa = _sepa_fields(purpose)
    remittance = sepa.get("SVWZ", purpose) if sepa else purpose
    description = ": ".join(p for p in (posting, remittance) if p) or name
    return Details(
        description=description,
        counterparty_name=_clean(name),
        counterparty_iban=_clean("".join(fields.get("31", []))),
        gv_code=gv_code,
        purpose_code=sepa.get("PURP", ""),
    )


def _triodos(gv_code: str, fields: dict[str, list[str]]) -> Details:
    """Triodos: >10 counter account, >20… name, address and text (BIC, IBAN first), >31 own."""
    chunks = [v for k in _PURPOSE_KEYS for v in fields.get(k, [])]
    iban = _clean("".join(fields.get("10", [])))
    if len(chunks) > 1 and _IBAN_RE.match(chunks[1].strip()):
        iban, chunks = chunks[1].strip(), chunks[2:]
    return Details(
        description=_clean(_glue(chunks)),
        counterparty_name=_clean(chunks[0]) if chunks else "",
        counterparty_iban=iban,
        gv_code=gv_code,
    )


def _glue(chunks: list[str]) -> str:
    """German subfields are 27 wide: a full chunk continues the same word in the next one."""
    out = chunks[0] if chunks else ""
    for prev, chunk in itertools.pairwise(chunks):
        out += chunk if len(prev) >= _FULL_SUBFIELD else " " + chunk
    return out


def _sepa_fields(purpose: str) -> dict[str, str]:
    """SEPA keys inside a German purpose ("EREF+… SVWZ+…"); empty when there are none."""
    matches = list(_SEPA_KEY_RE.finditer(purpose))
    out: dict[str, str] = {}
    for m, nxt in zip(matches, [*matches[1:], None], strict=False):
        end = nxt.start() if nxt else len(purpose)
        out[m.group(1)] = _clean(purpose[m.end() : end])
    return out


def _dutch(text: str) -> Details:
    matches = list(_NL_KEY_RE.finditer(text))
    fields: dict[str, str] = {}
    for m, nxt in zip(matches, [*matches[1:], None], strict=False):
        end = nxt.start() if nxt else len(text)
        value = _clean(text[m.end() + 1 : end]).rstrip("/").strip()
        if value or m.group(1) not in fields:
            fields[m.group(1)] = value
    prefix = _clean(text[: matches[0].start()])
    iban = fields.get("IBAN", "")
    name = fields.get("NAME", "")
    if "CNTP" in fields:  # /CNTP/iban/bic/name/city/
        cntp = fields["CNTP"].split("/")
        iban = iban or cntp[0].strip()
        name = name or (cntp[2].strip() if len(cntp) > 2 else "")
    if not iban and "ACCW" in fields:
        iban = fields["ACCW"].split(",")[0].strip()
    if not iban and "BBAN" in fields:
        iban = fields["BBAN"]
    lead = _LEADING_IBAN_RE.match(prefix)
    if lead and not iban:
        iban = lead.group(1)
    ocmt_value, _, after_ocmt = fields.get("OCMT", "").partition("/")
    remi = re.sub(r"^(USTD|STRD)/+(CUR/)?", "", fields.get("REMI", "")).strip("/ ")
    rest = _clean(_NL_KEY_RE.sub(" ", text).replace("/", " "))
    description = remi or prefix or _clean(after_ocmt) or fields.get("TRTP", "") or name or rest
    ocmt = _AMOUNT_RE.match(ocmt_value)
    return Details(
        description=description,
        counterparty_name=name,
        counterparty_iban=iban,
        purpose_code=fields.get("PURP", ""),
        original_currency=ocmt.group(1) if ocmt else "",
        original_amount=ocmt.group(2) if ocmt else "",
    )


def split_reference(rest: str) -> tuple[str, str, str]:
    """Transaction type, reference ("cust//bank", NONREF dropped) and a name after the reference.

    The type is 4 characters (``NTRF``, ``N654``, ``NOV ``) but some banks leave it out and go
    straight to ``NONREF`` or ``//bank-ref``. The old Rabobank layout pads the 16-character
    reference with spaces and puts the counterparty's name after it.
    """
    tx_type = ""
    if not rest.startswith("NONREF") and not rest.startswith("//") and _TYPE_RE.match(rest):
        tx_type, rest = rest[:4].strip(), rest[4:]
    customer, _, bank = rest.partition("//")
    name = ""
    if not bank and len(customer) > 16 and customer[15] == " " and customer[16] != " ":
        customer, name = customer[:16], customer[16:].strip()
    customer, bank = customer.strip(), bank.strip()
    refs = [r for r in (customer, bank) if r and r.upper() != "NONREF"]
    reference = "//".join(refs) if customer and bank and len(refs) == 2 else "".join(refs[:1])
    return tx_type, reference, name


def entry_date(value_date: date, mmdd: str) -> date | None:
    """The entry date carries no year: take the MMDD nearest the value date (new-year rollover)."""
    if not mmdd.isdigit() or len(mmdd) != 4:
        return None
    month, day = int(mmdd[:2]), int(mmdd[2:])
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs((d - value_date).days))
