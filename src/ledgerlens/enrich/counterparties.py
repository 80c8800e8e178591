"""Counterparty normalization: who a transaction was with, read from noisy bank text.

Banks print the same merchant many ways — ``SHELL 0231 LEICES CD 1417 14JAN24``,
``Kartenzahlung girocard SHELL//Berlin/DE 26.07.2026``, ``CB SHELL 02/04 NANTES CARTE X2834``.
This module gives:

* ``normalize_text`` — THE one normalizing function for model text (the categorizer's features,
  its ONNX export and the corrections memory all read its output, so Python and ONNX see the
  same characters): Unicode NFC, upper case, card masks, IBANs, dates and times removed, digit
  runs folded to ``0``, punctuation to single spaces. Accents stay (``BÜROBEDARF``, ``ŁÓDŹ``).
* ``normalize_counterparty`` — a canonical payee: the curated brand table first
  (``enrich/data/brands.json``), else the printed counterparty name, else the payee part of the
  description with rail boilerplate ("SEPA CT", "FASTER PAYMENT", "VIR SEPA RECU /DE", …), store
  numbers, cities after the card marker and references cut away.
* ``tokenize_iban`` — an HMAC-SHA256 token of the normalized IBAN, for grouping one payee's
  payments without the IBAN itself ever entering features, memories or logs.
* ``mcc_category`` — the hand-made MCC range table (``enrich/data/mcc_categories.json``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

__all__ = [
    "Brand",
    "Counterparty",
    "clear_caches",
    "counterparty_of_normalized",
    "load_brands",
    "mcc_category",
    "name_key",
    "normalize_counterparty",
    "normalize_text",
    "tokenize_iban",
]

_MON = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_CARD_MASK = re.compile(r"(?:[*X•]{2,}[ -]?)+\d{2,4}|\b(?:CD|CARD|CARTE|KARTE|PAN)\s*X?\d{4}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}\b")
_DATES = re.compile(
    rf"\b\d{{1,2}}(?:{_MON})\d{{2,4}}\b"  # 14JAN24
    r"|\b\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})?\b"  # 26.07.2026, 15-12-2025, 02/04, 2026-01-31
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"  # 19:45
)
_DIGITS = re.compile(r"\d+")
_NON_WORD = re.compile(r"[\W_]+")
MAX_TEXT_CHARS = 160  # longer tails are references; cutting them keeps the n-gram work bounded


_FOLD_DIGITS = str.maketrans("123456789", "000000000")


@lru_cache(maxsize=1 << 17)
def normalize_text(text: str) -> str:
    """Model text of a description or name (see the module docstring); pure.

    Every pattern below treats all ASCII digits alike, so the text is first folded digit by
    digit to ``0`` (a C-speed ``translate``) and the regex work is cached on the folded text:
    a bank's lines for one payee differ mostly in dates, amounts and references, so a batch
    pays the regexes once per line *shape*, not once per line. The raw text is cached too
    (a batch reads each description for the profile, the context and the features).
    """
    return _normalize_folded(text.translate(_FOLD_DIGITS))


@lru_cache(maxsize=1 << 16)
def _normalize_folded(text: str) -> str:
    s = unicodedata.normalize("NFC", text).upper()
    s = _CARD_MASK.sub(" ", s)
    s = _IBAN.sub(" IBAN ", s)
    s = _DATES.sub(" ", s)
    s = _DIGITS.sub("0", s)
    s = _NON_WORD.sub(" ", s).strip()
    return s[:MAX_TEXT_CHARS].rstrip()


def name_key(text: str) -> str:
    """Upper-case words of a name with digits kept ("1PASSWORD", "O2"), for brand matching."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFC", text).upper()).strip()


# --- the brand and MCC tables ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    category: str  # the leaf an SME most often books it to: a model hint, not a rule


@dataclass(frozen=True, slots=True)
class _BrandIndex:
    by_first: dict[str, list[tuple[tuple[str, ...], Brand]]]  # first word -> longest alias first


@cache
def _brand_index() -> _BrandIndex:
    raw = json.loads(_data("brands.json"))
    by_first: dict[str, list[tuple[tuple[str, ...], Brand]]] = {}
    for name, category, aliases in raw["brands"]:
        brand = Brand(name, category)
        for alias in aliases:
            words = tuple(name_key(alias).split())
            if words:
                by_first.setdefault(words[0], []).append((words, brand))
    for entries in by_first.values():
        entries.sort(key=lambda e: -len(e[0]))
    return _BrandIndex(by_first)


def load_brands() -> list[Brand]:
    """Every brand of the curated table (distinct, in table order)."""
    seen: dict[str, Brand] = {}
    for entries in _brand_index().by_first.values():
        for _, b in entries:
            seen.setdefault(b.name, b)
    return list(seen.values())


def _data(name: str) -> str:
    return resources.files("ledgerlens.enrich").joinpath("data", name).read_text("utf-8")


@cache
def _mcc_ranges() -> tuple[tuple[int, int, str, str], ...]:
    raw = json.loads(_data("mcc_categories.json"))
    return tuple((int(lo), int(hi), cat, label) for lo, hi, cat, label in raw["ranges"])


@lru_cache(maxsize=1024)
def mcc_category(mcc: str) -> tuple[str, str] | None:
    """(taxonomy leaf, label) for a four-digit MCC, or None when unknown or absent."""
    if not (len(mcc) == 4 and mcc.isdigit()):
        return None
    code = int(mcc)
    found = [(hi - lo, cat, label) for lo, hi, cat, label in _mcc_ranges() if lo <= code <= hi]
    if not found:
        return None
    _, cat, label = min(found)  # the narrowest range wins: 5541 is fuel, not "5511-5599 dealers"
    return cat, label


def _match_brand(words: list[str], anywhere: bool) -> Brand | None:
    """The longest alias found at the start of ``words`` (or at any word when ``anywhere``)."""
    index = _brand_index().by_first
    starts = range(len(words)) if anywhere else range(min(1, len(words)))
    for i in starts:
        for alias, brand in index.get(words[i], ()):
            if tuple(words[i : i + len(alias)]) == alias:
                return brand
    return None


# --- payee extraction --------------------------------------------------------------------------

_RAIL_PREFIX = re.compile(
    r"^(?:"
    r"CB|POS(?: PURCHASE| DEBIT)?|CARD PAYMENT(?: TO)?|DEBIT CARD PURCHASE|PURCHASE"
    r"|KARTENZAHLUNG(?: GIROCARD)?|GIROCARD|LASTSCHRIFT|GUTSCHRIFT|LOHN GEHALT|DAUERAUFTRAG"
    r"|SEPA(?: CT| DD| CREDIT TRANSFER| DIRECT DEBIT| ÜBERWEISUNG| LASTSCHRIFT| INSTANT)?"
    r"|VIR(?: SEPA)?(?: RECU| EMIS| INST)?(?: DE)?|PRLV(?: SEPA)?|PAIEMENT(?: CB)?"
    r"|FASTER PAYMENTS?(?: RECEIVED| OUT| IN| TO| FROM)?|FPI|FPO|BGC|DD|SO|TFR|BACS"
    r"|NAAM|BETAALAUTOMAAT|INCASSO|OVERSCHRIJVING"
    r"|ORIG CO NAME|ACH(?: DEBIT| CREDIT)?|RECURRING TRANSFER TO|ONLINE TRANSFER TO"
    r"|WIRE(?: TO| FROM)?"
    r"|PAYPAL|SQ|SUMUP|ZETTLE"
    r")\b\s*"
)
_CUT = re.compile(
    r"\b(?:CD|CARD|CARTE|KARTE|SVWZ|EREF|MREF|CRED|KREF|OMSCHRIJVING|KENMERK|MOTIF|REF|REFDO"
    r"|CO ENTRY|ENTRY DESCR|PASVOLGNR|TRANSACTIE|TERM|IND ID|SEC|INVOICE|INV|FACTURE|RECHNUNG"
    r"|FACTUUR|PAYOUT|MANDATE|MACHTIGING|ORIG|ON|VIA|IBAN)\b"
)
_LEGAL = {
    "GMBH", "AG", "KG", "UG", "EK", "OHG", "MBH", "CO", "SAS", "SASU", "SARL", "SA", "SCI", "EURL",
    "BV", "B V", "NV", "N V", "VOF", "V O F", "SRL", "SPA", "SP Z O O", "ZOO", "LTD", "LIMITED",
    "PLC", "LLP", "LLC", "INC", "CORP", "HOLDING",
}  # fmt: skip
_MAX_NAME_WORDS = 5


@dataclass(frozen=True, slots=True)
class Counterparty:
    """The canonical payee of one transaction.

    ``key`` groups a business's payments to the same payee (brand, IBAN token or name);
    ``category_hint`` is the brand table's leaf, else the MCC table's; ``source`` says which
    evidence named it: ``brand``, ``name`` (printed counterparty), ``description`` or ``none``.
    """

    name: str
    key: str
    source: str
    category_hint: str = ""
    hint_source: str = ""  # "brand:<name>" | "mcc:<code>" | ""
    legal_form: bool = False  # the name carried a company form (GMBH, LTD, B V …)


def _payee_words(normalized: str) -> list[str]:
    s = normalized
    for _ in range(3):  # "VIR SEPA RECU DE", "SEPA CT FASTER PAYMENT" …
        stripped = _RAIL_PREFIX.sub("", s, count=1)
        if stripped == s:
            break
        s = stripped
    cut = _CUT.search(s)
    if cut is not None and cut.start() > 0:
        s = s[: cut.start()]
    return [w for w in s.split() if w != "0"][: _MAX_NAME_WORDS + 3]


def _strip_legal(words: list[str]) -> list[str]:
    """Drop trailing legal forms ("GMBH", "V O F", "LTD"): one payee, however it is registered."""
    out = list(words)
    changed = True
    while changed and len(out) > 1:
        changed = False
        for n in (3, 2, 1):
            if len(out) > n and " ".join(out[-n:]) in _LEGAL:
                out, changed = out[:-n], True
                break
    return out


def normalize_counterparty(
    description: str, counterparty_name: str = "", mcc: str = "", iban_token: str = ""
) -> Counterparty:
    """Canonical payee from the printed name and the description (see the module docstring).

    ``iban_token`` (from ``tokenize_iban``) becomes the grouping key when no brand is known,
    because one IBAN is one payee however the bank spells the name. The description is read
    only through ``normalize_text``, so the work is cached on the normalized text.
    """
    return counterparty_of_normalized(
        normalize_text(description), counterparty_name, mcc, iban_token
    )


@lru_cache(maxsize=1 << 15)
def counterparty_of_normalized(
    normalized: str, counterparty_name: str = "", mcc: str = "", iban_token: str = ""
) -> Counterparty:
    """``normalize_counterparty`` given ``normalize_text(description)`` (cached)."""
    printed = name_key(counterparty_name).split()
    brand = _match_brand(printed, anywhere=False) if printed else None
    words = printed
    source = "name" if printed else "none"
    if brand is None:
        desc_words = _payee_words(normalized)
        if not printed:
            words, source = desc_words, "description" if desc_words else "none"
        brand = _match_brand(desc_words, anywhere=False) or (
            None if printed else _match_brand(normalized.split(), anywhere=True)
        )
    mcc_hint = mcc_category(mcc)
    if brand is not None:
        return Counterparty(brand.name, f"brand:{brand.name.upper()}", "brand", brand.category,
                            f"brand:{brand.name}")  # fmt: skip
    stripped = _strip_legal(words)
    core = stripped[:_MAX_NAME_WORDS]
    name = " ".join(core)
    key = iban_token or (f"name:{_DIGITS.sub('0', name)}" if name else "")
    hint, hint_src = (mcc_hint[0], f"mcc:{mcc}") if mcc_hint else ("", "")
    display = counterparty_name.strip() if printed else name.title()
    return Counterparty(display, key, source, hint, hint_src, len(stripped) < len(words))


def tokenize_iban(iban: str, secret: bytes) -> str:
    """``iban:<24 hex>``: HMAC-SHA256 of the IBAN without spaces, upper case; "" when empty.

    The secret is the deployment's (settings); with it the token is stable for grouping, and
    without it the IBAN cannot be recovered or confirmed by guessing.
    """
    norm = re.sub(r"\s+", "", iban).upper()
    if not norm:
        return ""
    return (
        "iban:" + hmac.new(secret, norm.encode("ascii", "ignore"), hashlib.sha256).hexdigest()[:24]
    )


def clear_caches() -> None:
    """Empty the normalization caches (benchmarks time a cold batch; tests start clean)."""
    normalize_text.cache_clear()
    _normalize_folded.cache_clear()
    counterparty_of_normalized.cache_clear()
