"""Learning from corrections: at once for the business's similar lines, never for others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.enrich.conftest import make_tx

from ledgerlens.core.errors import ValidationError
from ledgerlens.enrich.categorize import Categorizer
from ledgerlens.enrich.corrections import (
    CorrectionMemory,
    InMemoryCorrectionStore,
    make_correction,
    memories_for,
)

SECRET = b"test-secret"


def _fuel(n: int, business: str) -> object:
    return make_tx(n, f"CB SHELL {n % 28 + 1:02d}/03 NANTES CARTE X2834", -4000 - 37 * n,
                   business_id=business, mcc="5541")  # fmt: skip


def test_three_corrections_redirect_that_business_and_no_other(categorizer: Categorizer) -> None:
    store = InMemoryCorrectionStore()
    history = [_fuel(i, "b1") for i in range(3)]
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    for i, tx in enumerate(history):
        store.add(
            make_correction(
                f"c{i}",
                tx,
                "opex.travel",
                consented=False,  # type: ignore[arg-type]
                iban_secret=SECRET,
                created_at=t0 + timedelta(minutes=i),
            )
        )
    later = [_fuel(100 + i, "b1") for i in range(200)]
    other = [_fuel(100 + i, "b2") for i in range(200)]
    memories = memories_for(store, ["b1", "b2"], iban_secret=SECRET)
    assert set(memories) == {"b1"}
    results = categorizer.categorize(later + other, corrections=memories, with_reasons=False)  # type: ignore[arg-type]
    mine, theirs = results[:200], results[200:]
    followed = sum(r.category == "opex.travel" for r in mine) / len(mine)
    assert followed >= 0.99
    assert all(r.source.startswith("rule:correction:c") for r in mine)
    assert all(r.category == "opex.vehicle_fuel" and r.source.startswith("model:") for r in theirs)


def test_correction_matches_by_iban_token_and_respects_direction() -> None:
    iban = "DE89370400440532013000"
    paid = make_tx(1, "SEPA-Überweisung Max Bauer SVWZ+Rechnung 17", -90000,
                   counterparty_name="Max Bauer", counterparty_iban=iban)  # fmt: skip
    memory = CorrectionMemory("b1", [make_correction("c1", paid, "cogs.subcontractors",
                                                     consented=True, iban_secret=SECRET)],
                              iban_secret=SECRET)  # fmt: skip
    renamed = make_tx(2, "SEPA-Überweisung M. BAUER ELEKTRO SVWZ+RE 18", -12000,
                      counterparty_name="M. Bauer Elektro", counterparty_iban=iban)  # fmt: skip
    refund = make_tx(3, "Gutschrift Max Bauer SVWZ+Erstattung", 5000,
                     counterparty_name="Max Bauer", counterparty_iban=iban)  # fmt: skip
    hit = memory.lookup(renamed)  # type: ignore[arg-type]
    assert hit is not None and hit.category == "cogs.subcontractors"
    assert memory.lookup(refund) is None  # type: ignore[arg-type]


def test_nearest_neighbour_on_the_description_and_latest_correction_wins() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    a = make_tx(1, "MARKTHALLE NORD EINKAUF 0815", -3000)
    b = make_tx(2, "MARKTHALLE NORD EINKAUF 0816", -3100)
    memory = CorrectionMemory("b1", [
        make_correction("old", a, "opex.other", consented=False, iban_secret=SECRET,
                        created_at=t0),
        make_correction("new", b, "cogs.inventory_materials", consented=False,
                        iban_secret=SECRET, created_at=t0 + timedelta(days=1)),
    ], iban_secret=SECRET)  # fmt: skip
    hit = memory.lookup(make_tx(3, "MARKTHALLE NORD EINKAUF 0999", -2000))  # type: ignore[arg-type]
    assert hit is not None and hit.correction_id == "new"
    assert memory.lookup(make_tx(4, "TOTALLY DIFFERENT SHOP", -2000)) is None  # type: ignore[arg-type]
    assert memory.lookup(make_tx(5, "MARKTHALLE NORD EINKAUF", -2000, business_id="b2")) is None  # type: ignore[arg-type]


def test_only_consented_corrections_become_training_examples() -> None:
    store = InMemoryCorrectionStore()
    tx1, tx2 = make_tx(1, "A SHOP", -100), make_tx(2, "B SHOP", -100, business_id="b2")
    store.add(make_correction("c1", tx1, "opex.other", consented=True, iban_secret=SECRET))  # type: ignore[arg-type]
    store.add(make_correction("c2", tx2, "opex.other", consented=False, iban_secret=SECRET))  # type: ignore[arg-type]
    assert store.training_examples() == [(tx1, "opex.other")]
    kept = store.for_business("b2")[0]
    assert kept.example is None and kept.text == "B SHOP"


def test_a_correction_must_name_a_leaf_and_stay_in_its_business() -> None:
    tx = make_tx(1, "A SHOP", -100)
    with pytest.raises(ValidationError):
        make_correction("c1", tx, "opex", consented=False, iban_secret=SECRET)  # type: ignore[arg-type]
    other = make_correction("c2", make_tx(2, "X", -1, business_id="b2"), "opex.other",  # type: ignore[arg-type]
                            consented=False, iban_secret=SECRET)  # fmt: skip
    with pytest.raises(ValidationError):
        CorrectionMemory("b1", [other], iban_secret=SECRET)
