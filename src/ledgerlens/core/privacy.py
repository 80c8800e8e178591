"""Personal data handling: card numbers are masked before storage, IBANs and names kept out of logs.

A primary account number (PAN) is 13–19 digits that pass the Luhn check, printed plain or in groups
of four. We mask every such run in any text we store (descriptions, card ids), keeping the last four
digits the way banks print them ("**** 1234"); an IBAN in a log line becomes its country code and
last four characters.
"""

from __future__ import annotations

import re

__all__ = ["luhn_ok", "mask_card_id", "mask_iban", "mask_pan", "mask_pans_in_text", "scrub_text"]

_PAN_RE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mask_pan(number: str) -> str:
    """``4111111111111111`` → ``**** 1111``; already-masked input is returned unchanged."""
    digits = re.sub(r"\D", "", number)
    if len(digits) < 4:
        return number
    return f"**** {digits[-4:]}"


def mask_card_id(value: str) -> str:
    """A card reference fit to store: any run of 13+ digits (a PAN, Luhn-valid or not) is masked.

    Opaque ids ("card_07") and masked forms ("**** 1234", "XXXX-XXXX-XXXX-1234") pass unchanged.
    """
    if value and re.search(r"\d{13,}", re.sub(r"[ -]", "", value)):
        return mask_pan(value)
    return value


def mask_pans_in_text(text: str) -> str:
    """Mask every Luhn-valid 13–19 digit run (spaces or dashes allowed between digits)."""

    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return mask_pan(digits)
        return m.group(0)

    return _PAN_RE.sub(repl, text)


def mask_iban(iban: str) -> str:
    """``NL91ABNA0417164300`` → ``NL**…4300`` for logs and support screens."""
    s = iban.replace(" ", "")
    if len(s) < 8:
        return "****"
    return f"{s[:2]}**…{s[-4:]}"


def scrub_text(text: str) -> str:
    """Remove card numbers and IBANs from free text bound for a log line."""
    text = mask_pans_in_text(text)
    return _IBAN_RE.sub(lambda m: mask_iban(m.group(0)), text)
