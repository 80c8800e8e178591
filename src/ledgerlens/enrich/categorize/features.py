"""Categorizer features: two strings per transaction, so the whole model exports to ONNX.

* ``text`` — ``normalize_text(description)`` plus `` ~ `` plus the normalized canonical payee;
  the model reads it as character 2–4-grams (``analyzer="char"``, ``lowercase=False``: exact in
  ONNX for any script, see DESIGN.md §4).
* ``meta`` — space-separated tokens for everything that is not free text: direction, log-size
  band of the amount, MCC and its group, bank transaction code at three depths (CAMT
  ``PMNT/CCRD/POSD``, MT940 ``NTRF/166``, ``BAI:195``, ``OFX:DEBIT``), ISO purpose code, account
  type, the brand/MCC table's hint, whether a card, employee, IBAN or foreign amount is present.

The IBAN never enters features (only "an IBAN is present" and its country); the card mask and
employee id only as presence flags.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from ledgerlens.core.errors import CurrencyError
from ledgerlens.core.ledger import Transaction
from ledgerlens.core.money import currency_exponent
from ledgerlens.enrich.counterparties import (
    Counterparty,
    mcc_category,
    normalize_counterparty,
    normalize_text,
)

__all__ = [
    "FEATURE_SCHEMA",
    "FeatureRow",
    "business_profiles",
    "feature_row",
    "feature_rows",
    "meta_tokens",
    "size_band",
]

FEATURE_SCHEMA: dict[str, object] = {
    "inputs": ["text", "meta"],
    "text": "normalize_text(description) + ' ~ ' + normalize_text(counterparty)",
    "meta_tokens": [
        "dir=in|out", "amt=<dir><band>", "mcc=<code>|none", "mccg=<leaf>", "hint=<leaf>",
        "cps=brand|name|description|none", "bk=<code>", "bkf=<domain/family>", "bkd=<domain>",
        "purp=<ISO purpose>", "acct=<account type>", "card=1", "emp=1", "iban=1",
        "ibanc=<country>", "fx=1", "legal=0|1", "x=<dir>:<group>|<trade word>",
    ],
}  # fmt: skip

FeatureRow = tuple[str, str]  # (text, meta)


def size_band(amount_minor: int, currency: str) -> int:
    """Half-decades of the absolute amount in major units: 0 (< ~3), 1 (< 10), … capped at 12."""
    try:
        exp = currency_exponent(currency)
    except CurrencyError:  # an unknown code still gets a band
        exp = 2
    major = abs(amount_minor) / (10**exp)
    return min(12, int(2 * math.log10(major + 1.0)))


def _bank_code_tokens(code: str) -> list[str]:
    code = code.strip().upper().replace(" ", "")
    if not code:
        return []
    parts = [p for p in code.replace(":", "/").split("/") if p]
    out = [f"bk={code}"]
    if len(parts) >= 3:
        out.append(f"bkf={parts[0]}/{parts[1]}")
    if len(parts) >= 2:
        out.append(f"bkd={parts[0]}")
    return out


def meta_tokens(
    tx: Transaction, cp: Counterparty, account_type: str = "", profile: Sequence[str] = ()
) -> str:
    """The non-text features of one transaction as one space-separated string."""
    direction = "in" if tx.amount_minor > 0 else "out"
    toks = [f"dir={direction}", f"amt={direction}{size_band(tx.amount_minor, tx.currency)}"]
    mcc = tx.mcc.strip()
    if mcc:
        toks.append(f"mcc={mcc}")
        found = mcc_category(mcc)
        if found is not None:
            toks.append(f"mccg={found[0]}")
    else:
        toks.append("mcc=none")
    if cp.category_hint:
        toks.append(f"hint={cp.category_hint}")
    toks.append(f"cps={cp.source}")
    if cp.source in ("name", "description"):
        toks.append(f"legal={int(cp.legal_form)}")
    group = (mcc_category(mcc) or ("", ""))[0] if mcc else ""
    anchor = group  # card lines only: transfers already name their payee
    if anchor:  # what this business's own suppliers say about its trade, crossed with the lead
        toks.extend(f"x={direction}:{anchor}|{w}" for w in profile)
    toks.extend(_bank_code_tokens(tx.bank_tx_code))
    if tx.purpose_code:
        toks.append(f"purp={tx.purpose_code.strip().upper()}")
    if account_type:
        toks.append(f"acct={account_type}")
    if tx.card_id:
        toks.append("card=1")
    if tx.employee_id:
        toks.append("emp=1")
    iban = tx.counterparty_iban.strip()
    if iban:
        toks.append("iban=1")
        if iban[:2].isalpha():
            toks.append(f"ibanc={iban[:2].upper()}")
    if tx.original_currency and tx.original_currency != tx.currency:
        toks.append("fx=1")
    return " ".join(toks)


def feature_row(
    tx: Transaction, account_type: str = "", profile: Sequence[str] = (), iban_token: str = ""
) -> FeatureRow:
    """(text, meta) of one transaction; ``iban_token`` only shapes the counterparty key."""
    cp = normalize_counterparty(tx.description, tx.counterparty_name, tx.mcc, iban_token)
    desc = normalize_text(tx.description)
    name = normalize_text(cp.name)
    text = f"{desc} ~ {name}" if name and name not in desc else desc
    return text, meta_tokens(tx, cp, account_type, profile)


_PROFILE_WORDS = 6
_STOP = frozenset({"THE", "AND", "UND", "VAN", "DER", "DEN", "DES", "LES", "GROUP", "GROEP",
                   "HOLDING", "COMPANY", "SERVICES", "SERVICE", "BANK", "INTERNET"})  # fmt: skip


def business_profiles(transactions: Iterable[Transaction]) -> dict[str, tuple[str, ...]]:
    """Per business, the words that name its trade: the most frequent words (4+ letters) of the
    counterparties it pays by transfer (no card), seen in at least two payments.

    A builder pays "TIMBER" and "CONCRETE" suppliers, a café "DAIRY" and "BAKERY" ones; crossed
    with a card line's MCC group these words let a linear model book DIY-store spend as
    materials for the one and as repairs for the other.
    """
    counts: dict[str, Counter[str]] = {}
    for tx in transactions:
        if tx.amount_minor >= 0 or tx.mcc or tx.card_id:
            continue
        cp = normalize_counterparty(tx.description, tx.counterparty_name, tx.mcc)
        if cp.source == "brand":
            continue
        name = cp.key.removeprefix("name:") if cp.key.startswith("name:") else cp.name
        words = {w for w in normalize_text(name).split()
                 if len(w) >= 4 and w.isalpha() and w not in _STOP}  # fmt: skip
        counts.setdefault(tx.business_id, Counter()).update(words)
    return {
        bid: tuple(sorted(w for w, n in c.most_common(_PROFILE_WORDS) if n >= 2))
        for bid, c in counts.items()
    }


def feature_rows(
    transactions: Sequence[Transaction],
    account_types: Mapping[str, str] | None = None,
    profiles: Mapping[str, Sequence[str]] | None = None,
) -> list[FeatureRow]:
    """Feature rows of a batch; profiles default to those of the batch itself."""
    types = account_types or {}
    if profiles is None:
        profiles = business_profiles(transactions)
    return [
        feature_row(tx, types.get(tx.account_id, ""), profiles.get(tx.business_id, ()))
        for tx in transactions
    ]
