"""Enrichment inside the pipeline, on SQLite, PostgreSQL and the in-memory twin.

A small synthetic world (2 businesses x 4 months) is imported from its canonical CSV; then
``EnrichBusiness`` annotates every line, ``Recategorize`` teaches the business a merchant's
category, real-time ingestion enriches new lines, and erasure removes everything.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledgerlens.core.errors import NotFound, ValidationError
from ledgerlens.core.ledger import (
    Account,
    AccountType,
    AnnotationKind,
    Business,
    ConsentGrant,
    Purpose,
    Transaction,
)
from ledgerlens.core.money import format_minor
from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.ingest.realtime import IncomingTransaction, TransactionIngestor
from ledgerlens.ingest.service import StatementImporter
from ledgerlens.pipeline import (
    EnrichBusiness,
    EnrichmentReport,
    ImportStatements,
    IngestTransactions,
    Recategorize,
    RecategorizeResult,
    Services,
    dispatch,
)

SEED = 20261207
SECRET = b"test-iban-secret"
UowFactory = Callable[[], Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ledgerlens.ml.synth_data import write_synthetic_world

    return write_synthetic_world(2, 4, SEED, tmp_path_factory.mktemp("enrich-world"), workers=1)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclasses.dataclass
class Loaded:
    services: Services
    uow_factory: UowFactory
    business_ids: list[str]
    world: Path


def _services(uow_factory: UowFactory, categorizer: Any, fx_rates: Any) -> Services:
    return Services(
        importer=StatementImporter(uow_factory),
        ingestor=TransactionIngestor(uow_factory),
        uow_factory=uow_factory,
        categorizer=categorizer,
        fx_rates=fx_rates,
        iban_secret=SECRET,
    )


def _register(uow_factory: UowFactory, world: Path) -> list[str]:
    """Businesses and their typed accounts, as an onboarding would create them."""
    businesses = _rows(world / "businesses.csv")
    accounts = _rows(world / "accounts.csv")
    with uow_factory() as uow:
        for b in businesses:
            uow.businesses.add(
                Business(b["business_id"], b["business_id"], b["country"], b["base_currency"])
            )
        for a in accounts:
            uow.scope(a["business_id"]).accounts.add(
                Account(a["account_id"], a["business_id"], a["identifier"], a["currency"],
                        AccountType(a["account_type"]), a["name"])
            )  # fmt: skip
        uow.commit()
    return [b["business_id"] for b in businesses]


@pytest.fixture
def loaded(uow_factory: UowFactory, world: Path, categorizer: Any, fx_rates: Any) -> Loaded:
    """The world's canonical CSV imported through the pipeline, not enriched yet."""
    ids = _register(uow_factory, world)
    plain = Services(importer=StatementImporter(uow_factory))  # no categorizer: import only
    for bid in ids:
        (report,) = dispatch(ImportStatements(bid, (world / "csv" / f"{bid}.csv",)), plain)
        assert not report.refused and report.new > 0
    return Loaded(_services(uow_factory, categorizer, fx_rates), uow_factory, ids, world)


def _annotations(uow_factory: UowFactory, bid: str, kind: AnnotationKind) -> list[Any]:
    with uow_factory() as uow:
        return uow.scope(bid).annotations.list(kind)


def _transactions(uow_factory: UowFactory, bid: str) -> list[Transaction]:
    with uow_factory() as uow:
        return list(uow.scope(bid).transactions.iter_all())


def _truth_pairs(world: Path, bid: str) -> set[str]:
    return {
        r["transaction_id"]
        for r in _rows(world / "truth" / "transactions_truth.csv")
        if r["business_id"] == bid and r["transfer_pair_id"] and r["hidden_future"] != "1"
    }


def test_enrich_business_annotates_every_line_once_and_reruns_idempotently(
    loaded: Loaded,
) -> None:
    leaves = set(load_taxonomy().codes)
    pairs_seen = 0
    for bid in loaded.business_ids:
        report: EnrichmentReport = dispatch(EnrichBusiness(bid), loaded.services)
        txs = _transactions(loaded.uow_factory, bid)
        cats = _annotations(loaded.uow_factory, bid, AnnotationKind.CATEGORY)
        assert report.transactions == len(txs) > 0
        assert sorted(a.transaction_id for a in cats) == sorted(t.transaction_id for t in txs)
        for a in cats:
            assert a.value in leaves or a.value == "", a
            assert a.source.startswith(("model:categorizer@", "rule:")), a.source
            assert 0.0 <= a.confidence <= 1.0
        assert report.abstained == sum(1 for a in cats if a.value == "")
        assert sum(report.categories.values()) + report.abstained == len(txs)

        by_id = {a.transaction_id: a for a in cats}
        legs = _annotations(loaded.uow_factory, bid, AnnotationKind.TRANSFER)
        assert len(legs) == 2 * report.transfer_pairs
        for leg in legs:  # a matched leg is booked as a transfer, never as income or expense
            cat = by_id[leg.transaction_id]
            assert cat.value.startswith("transfer.") and cat.source.startswith("rule:transfers@")
            assert leg.evidence["other_transaction_id"] in by_id
        truth = _truth_pairs(loaded.world, bid)
        if truth:
            found = sum(by_id[t].value.startswith("transfer.") for t in truth)
            assert found / len(truth) >= 0.95
        pairs_seen += report.transfer_pairs

        series = _annotations(loaded.uow_factory, bid, AnnotationKind.RECURRING)
        assert report.recurring_series == len({a.value for a in series}) > 0
        assert all("next_date" in a.evidence and "amount_low_minor" in a.evidence for a in series)

        # a re-run replaces, never adds: same keys, same values
        again: EnrichmentReport = dispatch(EnrichBusiness(bid), loaded.services)
        assert dataclasses.replace(again) == report
        for kind in AnnotationKind:
            before = {(a.transaction_id, a.value, a.source) for a in
                      (cats if kind is AnnotationKind.CATEGORY else [])}  # fmt: skip
            after = _annotations(loaded.uow_factory, bid, kind)
            assert len({a.transaction_id for a in after}) == len(after)
            if before:
                assert {(a.transaction_id, a.value, a.source) for a in after} == before
    assert pairs_seen > 0  # the world has own-account transfers to match


def _merchant_lines(txs: list[Transaction], transfer_ids: set[str]) -> list[Transaction]:
    """The outgoing lines of the business's most frequent named payee (not a transfer)."""
    groups: dict[str, list[Transaction]] = defaultdict(list)
    for t in txs:
        if t.amount_minor < 0 and t.counterparty_name and t.transaction_id not in transfer_ids:
            groups[t.counterparty_name].append(t)
    _, lines = max(groups.items(), key=lambda kv: (len(kv[1]), kv[0]))
    assert len(lines) >= 8, f"too few lines of one payee: {len(lines)}"
    return sorted(lines, key=lambda t: (t.booking_date, t.transaction_id))


def _snapshot(uow_factory: UowFactory, bid: str) -> set[tuple[str, str, str]]:
    return {
        (a.transaction_id, a.value, a.source)
        for kind in AnnotationKind
        for a in _annotations(uow_factory, bid, kind)
    }


def test_three_corrections_move_that_merchants_other_lines_and_no_other_business(
    loaded: Loaded,
) -> None:
    mine, other = loaded.business_ids
    for bid in loaded.business_ids:
        dispatch(EnrichBusiness(bid), loaded.services)
    other_before = _snapshot(loaded.uow_factory, other)
    legs = {a.transaction_id for a in _annotations(loaded.uow_factory, mine,
                                                   AnnotationKind.TRANSFER)}  # fmt: skip
    lines = _merchant_lines(_transactions(loaded.uow_factory, mine), legs)
    cats = {a.transaction_id: a.value for a in
            _annotations(loaded.uow_factory, mine, AnnotationKind.CATEGORY)}  # fmt: skip
    current = Counter(cats[t.transaction_id] for t in lines).most_common(1)[0][0]
    target = (
        "opex.professional_services" if current != "opex.professional_services" else "opex.other"
    )

    results: list[RecategorizeResult] = [
        dispatch(Recategorize(mine, t.transaction_id, target, "owner-1"), loaded.services)
        for t in lines[:3]
    ]
    assert all(not r.training_example for r in results)  # no model_improvement consent
    after = {a.transaction_id: a for a in
             _annotations(loaded.uow_factory, mine, AnnotationKind.CATEGORY)}  # fmt: skip
    rest = lines[3:]
    following = [t for t in rest if after[t.transaction_id].value == target
                 and after[t.transaction_id].source.startswith("rule:correction:")]  # fmt: skip
    assert len(following) / len(rest) >= 0.99
    assert results[-1].report.corrected >= len(lines)
    assert _snapshot(loaded.uow_factory, other) == other_before  # the other business: untouched

    with loaded.uow_factory() as uow:
        stored = uow.scope(mine).corrections.list()
        assert [c.transaction_id for c in stored] == [t.transaction_id for t in lines[:3]]
        assert all(c.category == target and not c.consented for c in stored)
        assert uow.scope(mine).corrections.training_examples() == []
        assert uow.scope(other).corrections.list() == []


def test_a_correction_is_a_training_example_only_with_model_improvement_consent(
    loaded: Loaded,
) -> None:
    bid = loaded.business_ids[0]
    t1, t2 = _transactions(loaded.uow_factory, bid)[:2]
    first: RecategorizeResult = dispatch(Recategorize(bid, t1.transaction_id, "opex.other"),
                                         loaded.services)  # fmt: skip
    granted = datetime(2026, 12, 1, tzinfo=UTC)
    with loaded.uow_factory() as uow:
        uow.scope(bid).consents.grant(ConsentGrant(bid, Purpose.MODEL_IMPROVEMENT, granted))
        uow.commit()
    second: RecategorizeResult = dispatch(Recategorize(bid, t2.transaction_id, "opex.other"),
                                          loaded.services)  # fmt: skip
    assert (first.training_example, second.training_example) == (False, True)
    with loaded.uow_factory() as uow:
        examples = uow.scope(bid).corrections.training_examples()
    assert [(t.transaction_id, c) for t, c in examples] == [(t2.transaction_id, "opex.other")]
    # the owner's word on the line itself holds either way
    cats = {a.transaction_id: a for a in
            _annotations(loaded.uow_factory, bid, AnnotationKind.CATEGORY)}  # fmt: skip
    assert cats[t1.transaction_id].value == cats[t2.transaction_id].value == "opex.other"

    with loaded.uow_factory() as uow:  # withdrawing the consent withdraws the examples
        uow.scope(bid).consents.withdraw(Purpose.MODEL_IMPROVEMENT, granted + timedelta(days=1))
        uow.commit()
    with loaded.uow_factory() as uow:
        assert uow.scope(bid).corrections.training_examples() == []


def test_recategorize_refuses_unknown_categories_transactions_and_businesses(
    loaded: Loaded,
) -> None:
    bid, other = loaded.business_ids
    tx = _transactions(loaded.uow_factory, other)[0]
    with pytest.raises(ValidationError):
        dispatch(Recategorize(bid, tx.transaction_id, "opex"), loaded.services)
    with pytest.raises(NotFound):  # another business's line is not found from this one
        dispatch(Recategorize(bid, tx.transaction_id, "opex.other"), loaded.services)
    with pytest.raises(NotFound):
        dispatch(EnrichBusiness("nobody"), loaded.services)
    with loaded.uow_factory() as uow:
        assert uow.scope(bid).corrections.list() == []


def test_imports_and_realtime_ingest_enrich_new_lines(loaded: Loaded) -> None:
    bid = loaded.business_ids[1]
    # a re-import adds nothing, so nothing is enriched by it; a first import of a file would
    (report,) = dispatch(
        ImportStatements(bid, (loaded.world / "csv" / f"{bid}.csv",)), loaded.services
    )
    assert report.new == 0
    assert _annotations(loaded.uow_factory, bid, AnnotationKind.CATEGORY) == []

    dispatch(EnrichBusiness(bid), loaded.services)
    txs = _transactions(loaded.uow_factory, bid)
    lines = _merchant_lines(txs, set())
    target = "opex.training_education"
    dispatch(Recategorize(bid, lines[0].transaction_id, target), loaded.services)

    last = lines[-1]
    new_row = IncomingTransaction(
        account_id=last.account_id,
        booking_date=last.booking_date + timedelta(days=30),
        amount=format_minor(last.amount_minor, last.currency),
        currency=last.currency,
        description=last.description,
        counterparty_name=last.counterparty_name,
        counterparty_iban=last.counterparty_iban,
        mcc=last.mcc,
        bank_reference="RT-NEW-1",
    )
    result = dispatch(IngestTransactions(bid, (new_row,)), loaded.services)
    assert result.created == 1
    (new_id,) = result.transaction_ids
    with loaded.uow_factory() as uow:
        (ann,) = [a for a in uow.scope(bid).annotations.for_transactions([new_id])
                  if a.kind is AnnotationKind.CATEGORY]  # fmt: skip
    assert (ann.value, ann.source.startswith("rule:correction:")) == (target, True)

    again = dispatch(IngestTransactions(bid, (new_row,)), loaded.services)
    assert again.created == 0
    with loaded.uow_factory() as uow:
        cats = uow.scope(bid).annotations.list(AnnotationKind.CATEGORY)
    assert len(cats) == len(txs) + 1


def test_realtime_enrichment_pairs_a_transfer_leg_booked_days_apart_and_a_single_account_business_still_categorizes(  # noqa: E501
    loaded: Loaded,
) -> None:
    from ledgerlens.pipeline import enrich_ingested

    # a business with two accounts: the inbound leg of a true transfer, enriched in real time,
    # finds its outbound leg booked up to days before (the ±10-day window is read)
    bid = next(b for b in loaded.business_ids if _truth_pairs(loaded.world, b))
    truth = _truth_pairs(loaded.world, bid)
    txs = {t.transaction_id: t for t in _transactions(loaded.uow_factory, bid)}
    leg = next(txs[t] for t in sorted(truth) if txs[t].amount_minor > 0)
    out = enrich_ingested(bid, [leg.transaction_id], (leg.booking_date, leg.booking_date),
                          loaded.services)  # fmt: skip
    pairs = [a for a in out if a.kind is AnnotationKind.TRANSFER]
    assert {a.transaction_id for a in pairs} >= {leg.transaction_id}
    other = next(a.evidence["other_transaction_id"] for a in pairs
                 if a.transaction_id == leg.transaction_id)  # fmt: skip
    assert other in truth and txs[other].booking_date <= leg.booking_date

    # one account: nothing can pair, only the batch's own day is read; the line is categorized
    with loaded.uow_factory() as uow:
        uow.businesses.add(Business("solo", "solo", "GB", "GBP"))
        scope = uow.scope("solo")
        scope.accounts.add(Account("solo-acc", "solo", "GB29NWBK60161331926800", "GBP",
                                   AccountType.CURRENT, "Main"))  # fmt: skip
        uow.commit()
    row = IncomingTransaction(account_id="solo-acc", booking_date=leg.booking_date,
                              amount="-12.50", currency="GBP", description="CARD PAYMENT TESCO",
                              counterparty_name="Tesco", mcc="5411")  # fmt: skip
    result = dispatch(IngestTransactions("solo", (row,)), loaded.services)
    with loaded.uow_factory() as uow:
        stored = uow.scope("solo").annotations.for_transactions(result.transaction_ids)
    assert [(a.transaction_id, a.kind) for a in stored] == [
        (result.transaction_ids[0], AnnotationKind.CATEGORY)
    ]


def test_erasure_deletes_annotations_corrections_and_profile(loaded: Loaded) -> None:
    gone, kept = loaded.business_ids
    for bid in loaded.business_ids:
        dispatch(EnrichBusiness(bid), loaded.services)
    tx = _transactions(loaded.uow_factory, gone)[0]
    dispatch(Recategorize(gone, tx.transaction_id, "opex.other"), loaded.services)
    kept_before = _snapshot(loaded.uow_factory, kept)
    with loaded.uow_factory() as uow:
        assert uow.scope(gone).annotations.profile() is not None
        uow.businesses.delete(gone)
        uow.commit()
    with loaded.uow_factory() as uow:
        scope = uow.scope(gone)
        assert all(scope.annotations.list(k) == [] for k in AnnotationKind)
        assert scope.corrections.list() == []
        assert scope.annotations.profile() is None
    assert _snapshot(loaded.uow_factory, kept) == kept_before


def test_annotations_of_another_business_are_refused(loaded: Loaded) -> None:
    from ledgerlens.core.ledger import Annotation

    mine, other = loaded.business_ids
    foreign_tx = _transactions(loaded.uow_factory, other)[0]
    with loaded.uow_factory() as uow:
        with pytest.raises(ValueError):
            uow.scope(mine).annotations.upsert(
                [Annotation(foreign_tx.transaction_id, mine, AnnotationKind.CATEGORY,
                            "opex.other", 1.0, "rule:test")]
            )  # fmt: skip
        with pytest.raises(ValueError):
            uow.scope(mine).annotations.upsert(
                [Annotation(foreign_tx.transaction_id, other, AnnotationKind.CATEGORY,
                            "opex.other", 1.0, "rule:test")]
            )  # fmt: skip
