"""Categorizer features: two strings per transaction, so the whole model exports to ONNX.

* ``text`` — ``normalize_text(description)`` plus `` ~ `` plus the normalized canonical payee;
  the model reads it as character 2–4-grams (``analyzer="char"``, ``lowercase=False``: exact in
  ONNX for any script, see DESIGN.md §4).
* ``meta`` — space-separated tokens for everything that is not free text: direction, log-size
  band of the amount, MCC and its group, bank transaction code at three depths (CAMT
  ``PMNT/CCRD/POSD``, MT940 ``NTRF/166``, ``BAI:195``, ``OFX:DEBIT``), ISO purpose code, account
  type, the brand/MCC table's hint, whether a card, employee, IBAN or foreign amount is present.

* ``context`` meta tokens (``pn=``, ``pin=``, ``rel=``, ``gn=``): aggregates of the business's
  own lines in the batch — how often this payee appears per month, the share of its lines that
  are inflows, this amount against the business's median, how often the business buys in this
  MCC group. They tell a one-off large inflow from a bank (loan proceeds) from its monthly
  repayments, a monthly subcontractor from a weekly supplier, a café's weekly cash-and-carry
  from a consultancy's odd purchase. Emitted only when the batch holds enough of the
  business's history (``MIN_CONTEXT_LINES``); the model is trained with and without them.

The IBAN never enters features (only "an IBAN is present" and its country); the card mask and
employee id only as presence flags.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ledgerlens.core.errors import CurrencyError
from ledgerlens.core.ledger import Transaction
from ledgerlens.core.money import currency_exponent
from ledgerlens.enrich.counterparties import (
    Counterparty,
    counterparty_of_normalized,
    mcc_category,
    normalize_counterparty,
    normalize_text,
)

__all__ = [
    "FEATURE_SCHEMA",
    "MIN_CONTEXT_LINES",
    "BusinessContext",
    "FeatureRow",
    "business_contexts",
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
        "pn=<dir>:<payee lines per month band>", "pin=<payee inflow share band>",
        "rel=<dir><amount vs business median band>", "gn=<mcc group>|<lines per month band>",
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
    """The non-text, non-context features of one transaction as one space-separated string."""
    iban = tx.counterparty_iban.strip()
    return _static_meta(
        tx.amount_minor > 0, size_band(tx.amount_minor, tx.currency), tx.mcc.strip(), cp,
        account_type, tuple(profile), tx.bank_tx_code, tx.purpose_code, bool(tx.card_id),
        bool(tx.employee_id), iban[:2].upper() if iban[:2].isalpha() else ("-" if iban else ""),
        bool(tx.original_currency) and tx.original_currency != tx.currency,
    )  # fmt: skip


@lru_cache(maxsize=1 << 15)
def _static_meta(
    inflow: bool, band: int, mcc: str, cp: Counterparty, account_type: str,
    profile: tuple[str, ...], bank_code: str, purpose: str, card: bool, emp: bool,
    iban_country: str, fx: bool,
) -> str:  # fmt: skip
    """Meta tokens from a transaction's few discrete facts; cached because they repeat."""
    direction = "in" if inflow else "out"
    toks = [f"dir={direction}", f"amt={direction}{band}"]
    found = mcc_category(mcc) if mcc else None
    if mcc:
        toks.append(f"mcc={mcc}")
        if found is not None:
            toks.append(f"mccg={found[0]}")
    else:
        toks.append("mcc=none")
    if cp.category_hint:
        toks.append(f"hint={cp.category_hint}")
    toks.append(f"cps={cp.source}")
    if cp.source in ("name", "description"):
        toks.append(f"legal={int(cp.legal_form)}")
    anchor = found[0] if found else ""  # card lines only: transfers already name their payee
    if anchor:  # what this business's own suppliers say about its trade, crossed with the lead
        toks.extend(f"x={direction}:{anchor}|{w}" for w in profile)
    toks.extend(_bank_code_tokens(bank_code))
    if purpose.strip():
        toks.append(f"purp={purpose.strip().upper()}")
    if account_type:
        toks.append(f"acct={account_type}")
    if card:
        toks.append("card=1")
    if emp:
        toks.append("emp=1")
    if iban_country:
        toks.append("iban=1")
        if iban_country != "-":
            toks.append(f"ibanc={iban_country}")
    if fx:
        toks.append("fx=1")
    return " ".join(toks)


@lru_cache(maxsize=1 << 15)
def _text(desc: str, name: str) -> str:
    name = normalize_text(name)
    return f"{desc} ~ {name}" if name and name not in desc else desc


def feature_row(
    tx: Transaction,
    account_type: str = "",
    profile: Sequence[str] = (),
    iban_token: str = "",
    context: BusinessContext | None = None,
) -> FeatureRow:
    """(text, meta) of one transaction; ``iban_token`` only shapes the counterparty key;
    ``context`` (``business_contexts``) adds the business-level aggregate tokens."""
    desc = normalize_text(tx.description)
    cp = counterparty_of_normalized(desc, tx.counterparty_name, tx.mcc, iban_token)
    meta = meta_tokens(tx, cp, account_type, profile)
    if context is not None:
        meta = f"{meta} {context.tokens(tx, cp)}"
    return _text(desc, cp.name), meta


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


MIN_CONTEXT_LINES = 150  # about three months of a small business: fewer say too little
_BANDS_PER_MONTH = ((0.0, "0"), (0.75, "1"), (1.6, "2"), (4.5, "4"), (12.0, "w"))


def _rate_band(lines: int, months: float) -> str:
    if lines <= 1:
        return "once"
    rate = lines / months
    out = "0"
    for lo, name in _BANDS_PER_MONTH:
        if rate >= lo:
            out = name
    return out


@dataclass(slots=True)
class BusinessContext:
    """Aggregates of one business's lines in a batch (see the module docstring)."""

    months: float
    payees: dict[str, list[int]] = field(default_factory=dict)  # key -> [lines, inflows]
    groups: dict[str, int] = field(default_factory=dict)  # MCC group -> lines
    median_log: dict[bool, float] = field(default_factory=dict)  # inflow? -> log10 |amount|

    def tokens(self, tx: Transaction, cp: Counterparty) -> str:
        inflow = tx.amount_minor > 0
        d = "in" if inflow else "out"
        toks = []
        stats = self.payees.get(cp.key or cp.name)
        if stats is not None:
            lines, ins = stats
            toks.append(f"pn={d}:{_rate_band(lines, self.months)}")
            share = ins / lines
            toks.append(f"pin={'0' if share == 0 else '1' if share == 1 else 'm'}")
        med = self.median_log.get(inflow)
        if med is not None:
            rel = math.log10(abs(tx.amount_minor) + 1) - med
            toks.append(f"rel={d}{max(-2, min(3, round(rel)))}")
        found = mcc_category(tx.mcc) if tx.mcc else None
        if found is not None:
            n = self.groups.get(found[0], 0)
            toks.append(f"gn={found[0]}|{_rate_band(n, self.months)}")
        return " ".join(toks)


def business_contexts(
    transactions: Sequence[Transaction], min_lines: int = MIN_CONTEXT_LINES
) -> dict[str, BusinessContext]:
    """Per business with at least ``min_lines`` lines in the batch, its ``BusinessContext``."""
    by_biz: dict[str, list[Transaction]] = {}
    for tx in transactions:
        by_biz.setdefault(tx.business_id, []).append(tx)
    out: dict[str, BusinessContext] = {}
    for bid, txs in by_biz.items():
        if len(txs) < min_lines:
            continue
        days = max(t.booking_date for t in txs).toordinal() - min(
            t.booking_date for t in txs).toordinal()  # fmt: skip
        ctx = BusinessContext(months=max(1.0, (days + 1) / 30.44))
        logs: dict[bool, list[float]] = {True: [], False: []}
        for tx in txs:
            cp = counterparty_of_normalized(normalize_text(tx.description), tx.counterparty_name,
                                            tx.mcc)  # fmt: skip
            stats = ctx.payees.setdefault(cp.key or cp.name, [0, 0])
            stats[0] += 1
            stats[1] += tx.amount_minor > 0
            found = mcc_category(tx.mcc) if tx.mcc else None
            if found is not None:
                ctx.groups[found[0]] = ctx.groups.get(found[0], 0) + 1
            logs[tx.amount_minor > 0].append(math.log10(abs(tx.amount_minor) + 1))
        ctx.median_log = {k: statistics.median(v) for k, v in logs.items() if v}
        out[bid] = ctx
    return out


def feature_rows(
    transactions: Sequence[Transaction],
    account_types: Mapping[str, str] | None = None,
    profiles: Mapping[str, Sequence[str]] | None = None,
    contexts: Mapping[str, BusinessContext] | None = None,
) -> list[FeatureRow]:
    """Feature rows of a batch; profiles and contexts default to those of the batch itself
    (pass ``contexts={}`` for rows without the aggregate tokens)."""
    types = account_types or {}
    if profiles is None:
        profiles = business_profiles(transactions)
    if contexts is None:
        contexts = business_contexts(transactions)
    return [
        feature_row(tx, types.get(tx.account_id, ""), profiles.get(tx.business_id, ()),
                    context=contexts.get(tx.business_id))
        for tx in transactions
    ]  # fmt: skip
