"""The people and firms a business deals with: names, IBANs, masked cards, typing slips.

Names come from the packaged lists in ``synth/data`` (invented combinations of common names);
IBANs carry valid ISO 13616 check digits (and a valid French RIB key) so that validators
downstream accept them; card numbers exist only masked ("**** 1234").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "Party",
    "company_name",
    "iban",
    "load_merchants",
    "load_names",
    "masked_card",
    "person_name",
    "typo",
]


@dataclass(frozen=True, slots=True)
class Party:
    """A counterparty as it appears on statements."""

    name: str
    iban: str  # "" where the rail carries none (US ACH)
    city: str = ""


@cache
def load_names() -> dict[str, Any]:
    names: dict[str, Any] = json.loads(
        resources.files("ledgerlens.synth").joinpath("data/names.json").read_text()
    )
    return names


@cache
def load_merchants() -> dict[str, Any]:
    raw = resources.files("ledgerlens.synth").joinpath("data/merchants.json").read_text()
    merchants: dict[str, Any] = json.loads(raw)
    return merchants


def _pick(rng: np.random.Generator, seq: list[Any]) -> Any:
    return seq[int(rng.integers(len(seq)))]


def person_name(rng: np.random.Generator, country: str) -> str:
    n = load_names()[country]
    return f"{_pick(rng, n['first'])} {_pick(rng, n['last'])}"


def company_name(rng: np.random.Generator, country: str, trade: str = "") -> str:
    """ "Keystone Logistics GmbH", "Bakker Bouw B.V."; a surname or a word, a trade, a form."""
    n = load_names()
    c = n[country]
    stem = _pick(rng, c["last"]) if rng.random() < 0.45 else _pick(rng, n["company_words"])
    legal = _pick(rng, c["legal"])
    return f"{stem} {trade} {legal}" if trade else f"{stem} {legal}"


def _digits(rng: np.random.Generator, k: int) -> str:
    return "".join(str(int(x)) for x in rng.integers(0, 10, size=k))


def _check_digits(country: str, bban: str) -> str:
    s = "".join(str(int(ch, 36)) for ch in bban + country) + "00"
    return f"{98 - int(s) % 97:02d}"


def _rib_key(bank: str, branch: str, account: str) -> str:
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def iban(rng: np.random.Generator, country: str, bank_code: str = "") -> str:
    """A syntactically valid IBAN for GB/DE/NL/FR (``""`` for the US, which has none)."""
    if country == "GB":
        bank = bank_code if len(bank_code) == 4 else "LOYD"
        bban = f"{bank}{_digits(rng, 6)}{_digits(rng, 8)}"
    elif country == "DE":
        blz = bank_code if len(bank_code) == 8 else "10070000"
        bban = f"{blz}{_digits(rng, 10)}"
    elif country == "NL":
        bank = bank_code if len(bank_code) == 4 else "INGB"
        bban = f"{bank}{_digits(rng, 10)}"
    elif country == "FR":
        bank = bank_code if len(bank_code) == 5 else "30004"
        branch, acct = _digits(rng, 5), _digits(rng, 11)
        bban = f"{bank}{branch}{acct}{_rib_key(bank, branch, acct)}"
    else:
        return ""
    return f"{country}{_check_digits(country, bban)}{bban}"


def masked_card(rng: np.random.Generator) -> tuple[str, str]:
    """(card_id, last4): the only form in which a card number exists in the world."""
    last4 = _digits(rng, 4)
    return f"**** {last4}", last4


_KEYS = "qwertyuiopasdfghjklzxcvbnm"


def typo(text: str, rng: np.random.Generator) -> str:
    """One human slip: a dropped, doubled or swapped letter (as payers type references)."""
    if len(text) < 4:
        return text
    i = int(rng.integers(1, len(text) - 2))
    k = int(rng.integers(3))
    if k == 0:
        return text[:i] + text[i + 1 :]
    if k == 1:
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
