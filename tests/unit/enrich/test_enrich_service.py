"""enrich.service: how transfer pairs, corrections and the categorizer combine into annotations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import pytest

from ledgerlens.core.ledger import Account, AccountType, AnnotationKind, Transaction
from ledgerlens.enrich.categorize.service import CategorizationResult
from ledgerlens.enrich.corrections import CorrectionMemory, make_correction
from ledgerlens.enrich.service import annotate_business, annotate_new

SECRET = b"unit-secret"
ACCOUNTS = [
    Account("cur", "b1", "GB29NWBK60161331926819", "GBP", AccountType.CURRENT, "Main"),
    Account("sav", "b1", "GB29NWBK60161331926820", "GBP", AccountType.SAVINGS, "Savings"),
]


def _tx(tid: str, account: str, amount: int, text: str, day: int = 3) -> Transaction:
    return Transaction(tid, "b1", account, date(2026, 3, day), None, amount, "GBP", text)


OUT = _tx("t-out", "cur", -250_000, "TRANSFER TO SAVINGS")
IN = _tx("t-in", "sav", 250_000, "TRANSFER FROM CURRENT")
SHOP = _tx("t-shop", "cur", -1_299, "CARD PAYMENT STAPLES 1234")


class StubCategorizer:
    """Says "opex.other" for everything unless a correction of the business decides."""

    def categorize(
        self,
        transactions: Sequence[Transaction],
        *,
        account_types: Mapping[str, str] | None = None,
        corrections: Mapping[str, CorrectionMemory] | None = None,
        profiles: Mapping[str, Sequence[str]] | None = None,
    ) -> list[CategorizationResult]:
        assert account_types == {"cur": "current", "sav": "savings"}
        out = []
        for t in transactions:
            memory = (corrections or {}).get(t.business_id)
            hit = memory.lookup(t) if memory else None
            if hit is not None:
                source, category = f"rule:correction:{hit.correction_id}", hit.category
            else:
                source, category = "model:stub@1", "opex.other"
            out.append(CategorizationResult(t.transaction_id, category, 0.9, source))
        return out


def _by(annotations: list, kind: AnnotationKind) -> dict:  # type: ignore[type-arg]
    return {a.transaction_id: a for a in annotations if a.kind is kind}


def test_transfer_legs_override_the_model_and_share_one_pair_id() -> None:
    anns = annotate_business([OUT, IN, SHOP], ACCOUNTS, categorizer=StubCategorizer(),  # type: ignore[arg-type]
                             iban_secret=SECRET)  # fmt: skip
    cats = _by(anns, AnnotationKind.CATEGORY)
    assert set(cats) == {"t-out", "t-in", "t-shop"}  # one category per line
    assert cats["t-out"].value == cats["t-in"].value == "transfer.internal"
    assert cats["t-out"].source.startswith("rule:transfers@")
    assert (cats["t-shop"].value, cats["t-shop"].source) == ("opex.other", "model:stub@1")
    pairs = _by(anns, AnnotationKind.TRANSFER)
    assert set(pairs) == {"t-out", "t-in"}
    assert pairs["t-out"].value == pairs["t-in"].value
    assert pairs["t-out"].evidence["other_transaction_id"] == "t-in"


def test_the_owners_correction_of_a_leg_itself_beats_the_transfer_pair() -> None:
    c = make_correction("c1", OUT, "financing.owner_drawings", consented=False, iban_secret=SECRET)
    anns = annotate_business([OUT, IN, SHOP], ACCOUNTS, categorizer=StubCategorizer(),  # type: ignore[arg-type]
                             iban_secret=SECRET, corrections=[c])  # fmt: skip
    cats = _by(anns, AnnotationKind.CATEGORY)
    assert (cats["t-out"].value, cats["t-out"].source) == ("financing.owner_drawings",
                                                           "rule:correction:c1")  # fmt: skip
    assert cats["t-in"].value == "transfer.internal"


def test_new_lines_pair_with_a_stored_leg_unless_it_is_already_paired() -> None:
    anns = annotate_new([IN], [OUT, IN, SHOP], ACCOUNTS, categorizer=StubCategorizer(),  # type: ignore[arg-type]
                        iban_secret=SECRET)  # fmt: skip
    cats = _by(anns, AnnotationKind.CATEGORY)
    assert {t: a.value for t, a in cats.items()} == {"t-in": "transfer.internal",
                                                     "t-out": "transfer.internal"}  # fmt: skip
    taken = annotate_new([IN], [OUT, IN, SHOP], ACCOUNTS, categorizer=StubCategorizer(),  # type: ignore[arg-type]
                         iban_secret=SECRET, paired={"t-out"})  # fmt: skip
    assert {(a.transaction_id, a.kind, a.value) for a in taken} == {
        ("t-in", AnnotationKind.CATEGORY, "opex.other")
    }


def test_one_business_at_a_time() -> None:
    other = Transaction("x", "b2", "acc", date(2026, 3, 3), None, -5, "GBP", "X")
    with pytest.raises(ValueError):
        annotate_business([SHOP, other], ACCOUNTS, categorizer=StubCategorizer(),  # type: ignore[arg-type]
                          iban_secret=SECRET)  # fmt: skip
