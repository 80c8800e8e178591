"""One CAMT entry (``Ntry``) into one or more ``ParsedTransaction``.

An entry is what the bank booked; its ``TxDtls`` say what it was made of. A batch (salary run,
card acquiring payout, a notification of 40 incoming payments) is one entry with many
``TxDtls``. We split it into one transaction per ``TxDtls`` only when every ``TxDtls`` carries
its own amount in the account currency and those amounts add up to the entry exactly: then the
parts are the truth and the statement sum is unchanged. Otherwise the entry stays whole, because
a split we cannot prove would move money between counterparties on a guess.

Pending entries (``Sts`` PDNG) are not booked: they are left out (with a non-fatal issue) so
that opening + Σ amounts = closing holds over what the bank actually booked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from ledgerlens.core.errors import AmountError, CurrencyError
from ledgerlens.core.money import to_minor
from ledgerlens.core.privacy import mask_card_id
from ledgerlens.ingest.formats.camt.elements import Flat, IssueLog, read_amount, read_date
from ledgerlens.ingest.model import ParsedTransaction

if TYPE_CHECKING:
    from lxml.etree import _Element

__all__ = ["EntryOutcome", "read_entry"]

_SPACES = re.compile(r"\s+")
_DETAILS = "NtryDtls/TxDtls"
_SKIP_DETAILS = frozenset({_DETAILS})
_NOT_A_REFERENCE = {"", "NOTPROVIDED", "NONREF"}


@dataclass(slots=True)
class EntryOutcome:
    """What one ``Ntry`` gave: its transactions and facts the statement reports on.

    ``signed_minor`` is the entry's own signed amount (also for pending entries, None when
    unreadable) so that the statement can check it against ``TxsSummry``; ``undated`` says
    the entry had no ``BookgDt`` and was dated by a fallback.
    """

    transactions: list[ParsedTransaction] = field(default_factory=list)
    signed_minor: int | None = None
    pending: bool = False
    undated: bool = False


def read_entry(
    ntry: _Element,
    locator: str,
    currency: str,
    fallback_date: date | None,
    log: IssueLog,
) -> EntryOutcome:
    """Read one ``Ntry`` whose statement is in ``currency``.

    ``fallback_date`` dates an entry without ``BookgDt``, ``ValDt`` or settlement date (real
    Baltic camt.053 files omit all three); the caller reports how many entries needed it.
    """
    outcome = EntryOutcome()
    line = ntry.sourceline or 1
    entry = Flat(ntry, _SKIP_DETAILS)
    amount = read_amount(entry, "Amt", locator, log)
    if amount is None:
        if entry.first("Amt") is None:
            log.add("entry without Amt", line=line, element=locator, field="Amt")
        return outcome
    if amount.currency and amount.currency != currency:
        log.add(
            f"entry in {amount.currency} on a {currency} statement: amounts cannot be added",
            line=amount.line,
            element=amount.locator,
            field="Ccy",
        )
        return outcome
    minor = amount.minor(currency, log)
    sign = _sign(entry.text("CdtDbtInd"))
    if sign is None:
        log.add(
            f"CdtDbtInd must be CRDT or DBIT, not {entry.text('CdtDbtInd')!r}",
            line=line,
            element=f"{locator}/CdtDbtInd",
            field="CdtDbtInd",
        )
        return outcome
    if minor is None:
        return outcome
    signed = sign * minor
    outcome.signed_minor = signed

    status = entry.text("Sts/Cd") or entry.text("Sts/Prtry") or entry.text("Sts")
    if status.upper() == "PDNG":
        outcome.pending = True
        log.add(
            "pending entry (Sts PDNG) is not booked: left out of the transactions and the sum",
            line=line,
            element=f"{locator}/Sts",
            field="Sts",
            fatal=False,
        )
        return outcome

    booking = read_date(entry, "BookgDt", locator, log)
    value = read_date(entry, "ValDt", locator, log)
    outcome.undated = booking is None
    details = [Flat(element) for element in ntry.findall("{*}NtryDtls/{*}TxDtls")]
    parts = _split_amounts(details, signed, currency, sign)
    if parts is None and len(details) > 1:
        _report_unsplit(details, signed, currency, sign, line, locator, log)

    entry_ref = _reference(entry, ("AcctSvcrRef", "NtryRef"))
    entry_code = _bank_tx_code(entry)
    entry_info = _clean(entry.text("AddtlNtryInf"))
    if parts is None:
        single = details[0] if len(details) == 1 else None
        day = booking or value or _settlement_date(single) or fallback_date
        if day is None:
            log.add(
                "entry has no booking date and the statement gives none",
                line=line,
                element=f"{locator}/BookgDt",
                field="BookgDt",
            )
            return outcome
        outcome.transactions.append(
            _transaction(
                single,
                entry,
                signed,
                day,
                value,
                line,
                currency,
                log,
                reference=entry_ref or _tx_reference(single),
                code=(_bank_tx_code(single) if single is not None else "") or entry_code,
                entry_info=entry_info,
                locator=f"{locator}/NtryDtls/TxDtls" if single is not None else locator,
            )
        )
        return outcome

    for index, (detail, part) in enumerate(zip(details, parts, strict=True), start=1):
        day = booking or value or _settlement_date(detail) or fallback_date
        tx_line = detail.element.sourceline or line
        if day is None:
            log.add(
                "transaction has no booking date and the statement gives none",
                line=tx_line,
                element=f"{locator}/NtryDtls/TxDtls[{index}]",
                field="BookgDt",
            )
            continue
        reference = _tx_reference(detail) or (f"{entry_ref}/{index}" if entry_ref else "")
        outcome.transactions.append(
            _transaction(
                detail,
                entry,
                part,
                day,
                value,
                tx_line,
                currency,
                log,
                reference=reference,
                code=_bank_tx_code(detail) or entry_code,
                entry_info=entry_info,
                locator=f"{locator}/NtryDtls/TxDtls[{index}]",
            )
        )
    return outcome


def _sign(indicator: str) -> int | None:
    return {"CRDT": 1, "DBIT": -1}.get(indicator.upper())


def _own_amount(detail: Flat, currency: str, entry_sign: int) -> int | None:
    """Signed amount a ``TxDtls`` gives in the account currency, or None if it gives none."""
    for path in ("Amt", "AmtDtls/TxAmt/Amt"):
        found = detail.first(path)
        if found is None or not (found.text or "").strip():
            continue
        if (found.get("Ccy") or currency).strip().upper() != currency:
            continue
        try:
            minor = to_minor(found.text.strip(), currency)
        except (AmountError, CurrencyError):
            return None
        sign = _sign(detail.text("CdtDbtInd")) or entry_sign
        return sign * abs(minor)
    return None


def _split_amounts(
    details: list[Flat], signed: int, currency: str, entry_sign: int
) -> list[int] | None:
    """Per-``TxDtls`` amounts when there are several and they add up to the entry."""
    if len(details) < 2:
        return None
    parts = [_own_amount(d, currency, entry_sign) for d in details]
    if any(p is None for p in parts):
        return None
    amounts = [p for p in parts if p is not None]
    return amounts if sum(amounts) == signed else None


def _report_unsplit(
    details: list[Flat],
    signed: int,
    currency: str,
    entry_sign: int,
    line: int,
    locator: str,
    log: IssueLog,
) -> None:
    parts = [_own_amount(d, currency, entry_sign) for d in details]
    if all(p is not None for p in parts):
        total = sum(p for p in parts if p is not None)
        log.add(
            f"{len(details)} TxDtls add up to {total}, not the entry's {signed} (minor units): "
            "kept as one transaction",
            line=line,
            element=f"{locator}/NtryDtls",
            field="TxDtls",
            fatal=False,
        )


def _settlement_date(detail: Flat | None) -> date | None:
    return read_date(detail, "RltdDts/IntrBkSttlmDt") if detail is not None else None


def _bank_tx_code(flat: Flat | None) -> str:
    """ "PMNT/RCDT/ESCT" from the ISO domain code, else the bank's proprietary code."""
    if flat is None:
        return ""
    domain = flat.text("BkTxCd/Domn/Cd")
    if domain:
        family = flat.text("BkTxCd/Domn/Fmly/Cd")
        sub = flat.text("BkTxCd/Domn/Fmly/SubFmlyCd")
        return "/".join(p for p in (domain, family, sub) if p)
    return flat.text("BkTxCd/Prtry/Cd")


def _reference(flat: Flat | None, paths: tuple[str, ...]) -> str:
    """First real reference along ``paths`` ("NOTPROVIDED"/"NONREF" are placeholders)."""
    if flat is None:
        return ""
    for path in paths:
        ref = flat.text(path)
        if ref.upper() not in _NOT_A_REFERENCE:
            return ref
    return ""


def _tx_reference(detail: Flat | None) -> str:
    return _reference(
        detail, ("Refs/AcctSvcrRef", "Refs/TxId", "Refs/EndToEndId", "Refs/InstrId", "Refs/UETR")
    )


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _joined(flat: Flat, path: str) -> str:
    return " ".join(t for t in (_clean(e.text or "") for e in flat.all(path)) if t)


def _description(detail: Flat | None, entry_info: str) -> str:
    """Remittance text (or the structured creditor reference) with the additional info."""
    parts: list[str] = []
    if detail is not None:
        remittance = _joined(detail, "RmtInf/Ustrd") or _joined(
            detail, "RmtInf/Strd/CdtrRefInf/Ref"
        )
        parts += [remittance, _clean(detail.text("AddtlTxInf"))]
    parts.append(entry_info)
    unique: list[str] = []
    for part in parts:
        if part and part not in unique:
            unique.append(part)
    return " / ".join(unique)


def _counterparty(detail: Flat | None, amount: int) -> tuple[str, str]:
    """The other side: the debtor of a credit, the creditor of a debit (name, IBAN)."""
    if detail is None:
        return "", ""
    role = "Dbtr" if amount >= 0 else "Cdtr"
    name = ""
    for path in (role, f"{role}/Pty", f"Ultmt{role}", f"Ultmt{role}/Pty"):
        name = _clean(detail.text(f"RltdPties/{path}/Nm"))
        if name:
            break
    iban = detail.text(f"RltdPties/{role}Acct/Id/IBAN").replace(" ", "").upper()
    return name, iban


def _original_amount(
    detail: Flat | None,
    entry: Flat,
    amount: int,
    currency: str,
    locator: str,
    log: IssueLog,
) -> tuple[int | None, str]:
    """The instructed amount when it was in another currency (FX payments), signed like us."""
    for flat in (detail, entry):
        if flat is None:
            continue
        raw = read_amount(flat, "AmtDtls/InstdAmt/Amt", locator, log, fatal=False)
        if raw is None or not raw.currency or raw.currency == currency:
            continue
        minor = raw.minor(raw.currency, log, fatal=False)
        if minor is None:
            return None, ""
        return (-abs(minor) if amount < 0 else abs(minor)), raw.currency
    return None, ""


def _transaction(
    detail: Flat | None,
    entry: Flat,
    amount: int,
    day: date,
    value: date | None,
    line: int,
    currency: str,
    log: IssueLog,
    *,
    reference: str,
    code: str,
    entry_info: str,
    locator: str,
) -> ParsedTransaction:
    name, iban = _counterparty(detail, amount)
    original, original_currency = _original_amount(detail, entry, amount, currency, locator, log)
    purpose = card = ""
    if detail is not None:
        purpose = detail.text("Purp/Cd") or detail.text("Purp/Prtry")
        # the last four digits only, should a bank print the full card number
        card = mask_card_id(detail.text("CardTx/Card/PlainCardData/PAN"))
    return ParsedTransaction(
        booking_date=day,
        amount_minor=amount,
        description=_description(detail, entry_info),
        line=line,
        value_date=value,
        counterparty_name=name,
        counterparty_iban=iban,
        bank_reference=reference,
        bank_tx_code=code,
        purpose_code=purpose,
        original_amount_minor=original,
        original_currency=original_currency,
        card_id=card,
    )
