"""Raw columns of one business's lines: amounts, days, payee keys, MCCs, cards, hour, place.

One pass per column with comprehensions (about twice as fast as a row loop, which matters at
100,000 lines a second). The payee key comes from ``enrich.counterparties`` (brand table first,
then the printed name, IBAN or description); hour and place are read from card lines the way
banks print them ("… 14.02.2026 23:58 Karte", "… //Berlin/DE", "CB SHELL 02/04 NANTES").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ledgerlens.core.ledger import Transaction
from ledgerlens.core.money import currency_exponent
from ledgerlens.enrich.counterparties import mcc_category, normalize_counterparty, normalize_text

__all__ = ["STATUTORY_PREFIXES", "Columns", "read_columns"]

STATUTORY_PREFIXES = ("tax.", "financing.")
_PLACE_STOP = frozenset(
    [
        "CD",
        "CARD",
        "CARTE",
        "KARTE",
        "PASVOLGNR",
        "TRANSACTIE",
        "TERM",
        "ORIG",
        "RATE",
        "POS",
        "PURCHASE",
        "CB",
        "X",
        "DE",
        "NL",
        "FR",
        "GB",
        "US",
        "KARTENZAHLUNG",
        "GIROCARD",
        "BETAALAUTOMAAT",
    ]
)


def _payee_key(
    tx: Transaction, cache: dict[tuple[str, str, str], tuple[str, str]]
) -> tuple[str, str]:
    """(payee key, brand/MCC category hint): printed name (brand-aware), else IBAN, else text."""
    probe = (
        tx.counterparty_name,
        tx.counterparty_iban,
        "" if tx.counterparty_name else tx.description,
    )
    hit = cache.get(probe)
    if hit is None:
        if tx.counterparty_name:
            cp = normalize_counterparty("", tx.counterparty_name)
            key, hint = cp.key, cp.category_hint
        elif tx.counterparty_iban:
            key, hint = "iban:" + tx.counterparty_iban.replace(" ", "").upper(), ""
        else:
            cp = normalize_counterparty(tx.description)
            key, hint = cp.key or normalize_text(tx.description)[:40], cp.category_hint
        hit = cache[probe] = (key or "?", hint)
    return hit


def _hour(description: str) -> int:
    """The hour of an "hh:mm" time printed on a card line, else -1 (str ops: ~10× a regex)."""
    j = description.find(":")
    while j != -1:
        if (
            j >= 2
            and description[j - 2 : j].isdigit()
            and description[j + 1 : j + 3].isdigit()
            and not description[j - 3 : j - 2].isdigit()
            and description[j + 3 : j + 4] != ":"
        ):
            h = int(description[j - 2 : j])
            return h if h < 24 else -1
        j = description.find(":", j + 1)
    return -1


def _place(description: str, merchant: str) -> str:
    """The first place-like word after the merchant on a card line ("BERLIN", "LOND")."""
    i = description.find(merchant) if merchant else -1
    if i < 0 and merchant:
        i = description.upper().find(merchant.upper())
    tail = description[i + len(merchant) :] if i >= 0 else description
    m_words = merchant.upper().split()
    for raw in tail.replace("/", " ").split():
        w = raw.strip("#.,*-'").upper()
        if len(w) >= 2 and w.isalpha() and w not in _PLACE_STOP and w not in m_words:
            return w
    return ""


@dataclass(slots=True)
class Columns:
    amount: np.ndarray
    exponent: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    mcc: np.ndarray
    payee: np.ndarray
    card: np.ndarray
    emp: np.ndarray
    place: np.ndarray
    account: np.ndarray
    category: list[str]
    payees: list[str]
    cards: list[str]
    emps: list[str]
    places: list[str]
    accounts: list[str]


def read_columns(txs: list[Transaction], cats: Mapping[str, str]) -> Columns:
    """Column by column with comprehensions (≈ 2× a row loop); codes first-seen first."""
    n = len(txs)
    exp_of = {c: currency_exponent(c) for c in {t.currency for t in txs}}
    payee_cache: dict[tuple[str, str, str], tuple[str, str]] = {}
    keyed = [_payee_key(t, payee_cache) for t in txs]
    payees: dict[str, int] = {}
    cards: dict[str, int] = {}
    emps: dict[str, int] = {}
    places: dict[str, int] = {}
    accounts: dict[str, int] = {}
    mccs = [t.mcc for t in txs]
    card_ids = [t.card_id for t in txs]
    cat_of_mcc: dict[str, str] = {}
    for code in set(mccs):
        hint = mcc_category(code) if code else None
        cat_of_mcc[code] = hint[0] if hint else ""
    category = [
        (cats.get(t.transaction_id, "") if cats else "")
        or (
            h if h.startswith(STATUTORY_PREFIXES) else ""
        )  # a tax office known from the brand table
        or cat_of_mcc[m]
        for t, (_, h), m in zip(txs, keyed, mccs, strict=True)
    ]
    hour = [_hour(t.description) if c else -1 for t, c in zip(txs, card_ids, strict=True)]
    place_names = [
        _place(t.description, t.counterparty_name) if c else ""
        for t, c in zip(txs, card_ids, strict=True)
    ]
    return Columns(
        amount=np.fromiter((t.amount_minor for t in txs), dtype=np.int64, count=n),
        exponent=np.array([exp_of[t.currency] for t in txs], dtype=np.int8),
        day=np.array(
            [
                (t.value_date if (c and t.value_date) else t.booking_date).toordinal()
                for t, c in zip(txs, card_ids, strict=True)
            ],
            dtype=np.int64,
        ),
        hour=np.array(hour, dtype=np.int8),
        mcc=np.array([int(m) if m else -1 for m in mccs], dtype=np.int16),
        payee=np.array([payees.setdefault(k, len(payees)) for k, _ in keyed], dtype=np.int32),
        card=np.array(
            [cards.setdefault(c, len(cards)) if c else -1 for c in card_ids], dtype=np.int32
        ),
        emp=np.array(
            [emps.setdefault(t.employee_id, len(emps)) if t.employee_id else -1 for t in txs],
            dtype=np.int32,
        ),
        place=np.array(
            [places.setdefault(p, len(places)) if p else -1 for p in place_names], dtype=np.int32
        ),
        account=np.array(
            [accounts.setdefault(t.account_id, len(accounts)) for t in txs], dtype=np.int32
        ),
        category=category,
        payees=list(payees),
        cards=list(cards),
        emps=list(emps),
        places=list(places),
        accounts=list(accounts),
    )
