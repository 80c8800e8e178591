"""Learning from corrections: the owner's category wins at once for that business's similar lines.

A ``Correction`` records that a business moved one transaction to another leaf. The business's
``CorrectionMemory`` then overrides the model (and the rules) for similar transactions of the
same business, with source ``rule:correction:<id>``:

1. same counterparty key (brand, tokenized IBAN or normalized name) and same direction, or
2. nearest neighbour on the normalized description (rapidfuzz token-set similarity ≥
   ``min_similarity``) among that business's corrections of the same direction,

the latest correction winning. Other businesses never see it: memories are per business.

A correction is kept as a labelled example for the next training run only when the business
has the ``model_improvement`` consent (``consented``); otherwise nothing but the key, direction,
normalized description and category is kept. Storage is the caller's: ``CorrectionStore`` is
the port, ``InMemoryCorrectionStore`` its twin for tests and batch runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ledgerlens.core.errors import ValidationError
from ledgerlens.core.ledger import Transaction, utc_now
from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.enrich.counterparties import normalize_counterparty, normalize_text, tokenize_iban

__all__ = [
    "Correction",
    "CorrectionMemory",
    "CorrectionStore",
    "InMemoryCorrectionStore",
    "make_correction",
]


@dataclass(frozen=True, slots=True)
class Correction:
    """One owner correction. ``example`` is the transaction, kept only with consent."""

    correction_id: str
    business_id: str
    transaction_id: str
    category: str
    counterparty_key: str
    direction: str  # "in" | "out"
    text: str  # normalized description (no IBAN, card number or date survives normalization)
    consented: bool
    created_at: datetime = field(default_factory=utc_now)
    example: Transaction | None = None


def _direction(tx: Transaction) -> str:
    return "in" if tx.amount_minor > 0 else "out"


def counterparty_key(tx: Transaction, iban_secret: bytes) -> str:
    token = tokenize_iban(tx.counterparty_iban, iban_secret) if tx.counterparty_iban else ""
    return normalize_counterparty(tx.description, tx.counterparty_name, tx.mcc, token).key


def make_correction(
    correction_id: str,
    tx: Transaction,
    category: str,
    *,
    consented: bool,
    iban_secret: bytes,
    created_at: datetime | None = None,
) -> Correction:
    """Build a correction of ``tx``; refuses a category that is not a taxonomy leaf."""
    if category not in load_taxonomy():
        raise ValidationError(f"not a category leaf: {category!r}")
    return Correction(
        correction_id=correction_id,
        business_id=tx.business_id,
        transaction_id=tx.transaction_id,
        category=category,
        counterparty_key=counterparty_key(tx, iban_secret),
        direction=_direction(tx),
        text=normalize_text(tx.description),
        consented=consented,
        created_at=created_at or utc_now(),
        example=tx if consented else None,
    )


class CorrectionStore(Protocol):
    """Where corrections live (the lead's database adapter implements it)."""

    def add(self, correction: Correction) -> None: ...
    def for_business(self, business_id: str) -> list[Correction]: ...
    def training_examples(self) -> list[tuple[Transaction, str]]:
        """(transaction, category) of consented corrections only: the next run's labels."""
        ...


class InMemoryCorrectionStore:
    def __init__(self) -> None:
        self._items: list[Correction] = []

    def add(self, correction: Correction) -> None:
        self._items.append(correction)

    def for_business(self, business_id: str) -> list[Correction]:
        return [c for c in self._items if c.business_id == business_id]

    def training_examples(self) -> list[tuple[Transaction, str]]:
        return [(c.example, c.category) for c in self._items if c.consented and c.example]


class CorrectionMemory:
    """One business's corrections, indexed for lookup (see the module docstring)."""

    def __init__(
        self,
        business_id: str,
        corrections: Iterable[Correction],
        *,
        iban_secret: bytes,
        min_similarity: float = 90.0,
    ) -> None:
        self.business_id = business_id
        self.iban_secret = iban_secret
        self.min_similarity = min_similarity
        self._by_key: dict[tuple[str, str], Correction] = {}
        self._texts: dict[str, list[str]] = {"in": [], "out": []}
        self._text_items: dict[str, list[Correction]] = {"in": [], "out": []}
        for c in sorted(corrections, key=lambda c: c.created_at):
            self.add(c)

    def add(self, c: Correction) -> None:
        """Take a new correction into account at once (later corrections win)."""
        if c.business_id != self.business_id:
            raise ValidationError("a correction belongs to another business")
        if c.counterparty_key:
            self._by_key[(c.counterparty_key, c.direction)] = c
        self._texts[c.direction].append(c.text)
        self._text_items[c.direction].append(c)

    def __len__(self) -> int:
        return sum(len(v) for v in self._text_items.values())

    def lookup(self, tx: Transaction) -> Correction | None:
        """The correction that decides ``tx``, or None (then rules and the model decide)."""
        if tx.business_id != self.business_id or not len(self):
            return None
        direction = _direction(tx)
        hit = self._by_key.get((counterparty_key(tx, self.iban_secret), direction))
        if hit is not None:
            return hit
        texts = self._texts[direction]
        if not texts:
            return None
        from rapidfuzz import fuzz, process

        found = process.extract(
            normalize_text(tx.description), texts, scorer=fuzz.token_set_ratio,
            score_cutoff=self.min_similarity, limit=None,
        )  # fmt: skip
        if not found:
            return None
        # the most similar wins; among equally similar, the latest correction
        _, _, index = max(found, key=lambda f: (f[1], f[2]))
        return self._text_items[direction][index]


def memories_for(
    store: CorrectionStore, business_ids: Sequence[str], *, iban_secret: bytes
) -> dict[str, CorrectionMemory]:
    """One memory per business that has corrections (businesses without any are left out)."""
    out: dict[str, CorrectionMemory] = {}
    for bid in dict.fromkeys(business_ids):
        items = store.for_business(bid)
        if items:
            out[bid] = CorrectionMemory(bid, items, iban_secret=iban_secret)
    return out
