"""Labelled examples for the categorizer, from the synthetic world's ground truth.

Each simulated line becomes a ``core.ledger.Transaction`` as an import would store it, with the
category from the truth. The bank transaction code is drawn per line the way the formats carry
it: CAMT ``Domn/Fmly/SubFmly`` (45 %), MT940 transaction type (20 %) or none (35 %, as canonical
CSV and most bank CSVs), so the model neither depends on nor ignores bank codes; salary lines
carry the ISO purpose ``SALA`` in a third of the CAMT cases.

Splits are by business (never by line), so validation and test businesses are unseen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ledgerlens.core.ledger import Transaction
from ledgerlens.synth.cultures import RAIL_CODES
from ledgerlens.synth.model import World

__all__ = ["Example", "snapshot_hash", "split_by_business", "world_examples"]


@dataclass(frozen=True, slots=True)
class Example:
    tx: Transaction
    label: str
    account_type: str


def world_examples(world: World, *, seed: int = 0, history_only: bool = False) -> list[Example]:
    """Every line of every business (the hidden future too, unless ``history_only``)."""
    out: list[Example] = []
    dates = world.day_dates
    h = world.history_days
    for b in world.businesses:
        rng = np.random.default_rng([seed, b.index])
        draws = rng.random((len(b.txns), 2))
        accounts = b.accounts
        for k, (r, tid, ref) in enumerate(
            zip(b.txns, b.transaction_ids, b.bank_references, strict=True)
        ):
            if history_only and r.day >= h:
                continue
            acc = accounts[r.account]
            codes = RAIL_CODES.get(r.kind)
            u, v = draws[k]
            code = purpose = ""
            if codes is not None:
                if u < 0.45:
                    code = codes[0]
                    if r.kind == "salary" and v < 1 / 3:
                        purpose = "SALA"
                elif u < 0.65:
                    code = codes[1]
            tx = Transaction(
                transaction_id=tid,
                business_id=b.business_id,
                account_id=acc.account_id,
                booking_date=dates[r.day],
                value_date=dates[r.value_day] if r.value_day >= 0 else dates[r.day],
                amount_minor=r.amount_minor,
                currency=acc.currency,
                description=r.description,
                counterparty_name=r.counterparty_name,
                counterparty_iban=r.counterparty_iban,
                mcc=r.mcc,
                card_id=r.card_id,
                employee_id=r.employee_id,
                bank_reference=ref,
                bank_tx_code=code,
                purpose_code=purpose,
            )
            out.append(Example(tx, r.category, acc.account_type.value))
    return out


def split_by_business(
    examples: Sequence[Example], validation_share: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """(train, validation): each business wholly on one side, chosen by a seeded hash."""
    train: list[Example] = []
    val: list[Example] = []
    for ex in examples:
        h = hashlib.sha256(f"{seed}:{ex.tx.business_id}".encode()).digest()
        (val if h[0] / 256 < validation_share else train).append(ex)
    return train, val


def snapshot_hash(examples: Iterable[Example]) -> str:
    """sha256 over (id, description, amount, label) of every example: names the data a model saw."""
    h = hashlib.sha256()
    for ex in examples:
        t = ex.tx
        h.update(f"{t.transaction_id}\x1f{t.description}\x1f{t.amount_minor}\x1f{ex.label}\n"
                 .encode())  # fmt: skip
    return h.hexdigest()
