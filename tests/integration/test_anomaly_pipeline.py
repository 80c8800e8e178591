"""Anomalies and card controls inside the pipeline, on SQLite, PostgreSQL and the in-memory twin.

A small synthetic world (2 businesses x 6 months, seed 9494: never used for tuning; it holds
every injected kind) is imported from its canonical CSV and enriched; enrichment runs the
detector, whose verdicts are stored. Then: "this is expected" suppresses a similar later line
(and nothing in the other business), card policies are stored as versioned data and each
authorization is decided with this month's stored spend and kept, and erasure removes it all.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledgerlens.analyze.anomalies import detect_anomalies
from ledgerlens.core.errors import NotFound, ValidationError
from ledgerlens.core.ledger import Account, AccountType, AnnotationKind, Business, Transaction
from ledgerlens.core.money import currency_exponent, format_minor
from ledgerlens.ingest.realtime import IncomingTransaction, TransactionIngestor
from ledgerlens.ingest.service import StatementImporter
from ledgerlens.ml.anomaly_eval import KINDS
from ledgerlens.pipeline import (
    ImportStatements,
    IngestTransactions,
    Services,
    dispatch,
)
from ledgerlens.pipeline_anomalies import (
    AuthorizeCard,
    CardDecision,
    DetectAnomalies,
    DetectionReport,
    MarkExpected,
    MarkExpectedResult,
    SetCardPolicy,
)

SEED = 9494
SECRET = b"test-iban-secret"
UowFactory = Callable[[], Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ledgerlens.ml.synth_data import write_synthetic_world

    return write_synthetic_world(2, 6, SEED, tmp_path_factory.mktemp("anomaly-world"), workers=1)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclasses.dataclass
class Loaded:
    services: Services
    uow_factory: UowFactory
    business_ids: list[str]
    truth: dict[str, dict[str, str]]  # business -> transaction id -> injected kind
    currency: dict[str, str]


@pytest.fixture
def loaded(uow_factory: UowFactory, world: Path, categorizer: Any, fx_rates: Any) -> Loaded:
    """The world imported and enriched through the pipeline (which runs the detector)."""
    businesses = _rows(world / "businesses.csv")
    with uow_factory() as uow:
        for b in businesses:
            uow.businesses.add(
                Business(b["business_id"], b["business_id"], b["country"], b["base_currency"])
            )
        for a in _rows(world / "accounts.csv"):
            uow.scope(a["business_id"]).accounts.add(
                Account(a["account_id"], a["business_id"], a["identifier"], a["currency"],
                        AccountType(a["account_type"]), a["name"])
            )  # fmt: skip
        uow.commit()
    services = Services(
        importer=StatementImporter(uow_factory), ingestor=TransactionIngestor(uow_factory),
        uow_factory=uow_factory, categorizer=categorizer, fx_rates=fx_rates, iban_secret=SECRET,
    )  # fmt: skip
    ids = [b["business_id"] for b in businesses]
    for bid in ids:  # import → enrich → detect, as ``ledgerlens import`` does
        (report,) = dispatch(ImportStatements(bid, (world / "csv" / f"{bid}.csv",)), services)
        assert not report.refused and report.new > 0
    truth: dict[str, dict[str, str]] = {bid: {} for bid in ids}
    for r in _rows(world / "truth" / "transactions_truth.csv"):
        if r["anomaly_kind"] and r["hidden_future"] != "1":
            truth[r["business_id"]][r["transaction_id"]] = r["anomaly_kind"]
    return Loaded(services, uow_factory, ids, truth,
                  {b["business_id"]: b["base_currency"] for b in businesses})  # fmt: skip


def _verdicts(loaded: Loaded, bid: str, raised_only: bool = False) -> dict[str, Any]:
    with loaded.uow_factory() as uow:
        return {r.transaction_id: r for r in uow.scope(bid).anomalies.list(raised_only=raised_only)}


def _transactions(loaded: Loaded, bid: str) -> list[Transaction]:
    with loaded.uow_factory() as uow:
        return list(uow.scope(bid).transactions.iter_all())


def test_import_and_enrich_raise_every_injected_anomaly_with_reasons(loaded: Loaded) -> None:
    kinds_seen: set[str] = set()
    for bid in loaded.business_ids:
        truth = loaded.truth[bid]
        raised = _verdicts(loaded, bid, raised_only=True)
        assert truth, "the world must inject anomalies into both businesses"
        for tid, kind in truth.items():  # recall 1 and the right kind, on an unseen seed
            assert tid in raised, (tid, kind)
            assert raised[tid].kind == kind, (tid, kind, raised[tid].kind)
        false = [t for t in raised if t not in truth]
        assert len(false) <= 0.2 * len(raised), false  # precision ≥ 0.8
        for r in raised.values():
            assert r.reasons and r.source.startswith(("rule:", "model:")) and r.evidence
            assert 0.5 <= r.score <= 1.0 and 0.0 < r.confidence <= 1.0
        kinds_seen.update(truth.values())
    assert kinds_seen == set(KINDS)


def test_detection_uses_stored_categories_and_reruns_idempotently(loaded: Loaded) -> None:
    bid = loaded.business_ids[0]
    before = _verdicts(loaded, bid)
    report: DetectionReport = dispatch(DetectAnomalies(bid), loaded.services)
    after = _verdicts(loaded, bid)
    assert after == before  # replaced, not added to
    assert report.scored == len(after) and report.alerts == sum(r.is_anomaly for r in
                                                                after.values())  # fmt: skip
    assert report.transactions == len(_transactions(loaded, bid))
    assert report.incidents <= report.max_alerts
    # the stored verdicts are exactly what the pure detector says with the stored categories
    with loaded.uow_factory() as uow:
        cats = {
            a.transaction_id: a.value
            for a in uow.scope(bid).annotations.list(AnnotationKind.CATEGORY)
            if a.value
        }
    assert cats  # enrichment ran first
    pure = detect_anomalies(_transactions(loaded, bid), categories=cats)
    assert {r.transaction_id for r in pure.alerts} == {t for t, r in after.items() if
                                                       r.is_anomaly}  # fmt: skip
    with pytest.raises(NotFound):
        dispatch(DetectAnomalies("no-such-business"), loaded.services)


def _injected(loaded: Loaded, wanted: str) -> tuple[str, Transaction]:
    for bid in loaded.business_ids:
        for tid, kind in sorted(loaded.truth[bid].items()):
            if kind == wanted:
                (tx,) = [t for t in _transactions(loaded, bid) if t.transaction_id == tid]
                return bid, tx
    raise AssertionError(f"no {wanted} injected")


def _copy(tx: Transaction, days: int, ref: str) -> IncomingTransaction:
    return IncomingTransaction(
        account_id=tx.account_id, booking_date=tx.booking_date + timedelta(days=days),
        amount=format_minor(tx.amount_minor, tx.currency), currency=tx.currency,
        description=tx.description, counterparty_name=tx.counterparty_name,
        counterparty_iban=tx.counterparty_iban, mcc=tx.mcc, bank_reference=ref,
    )  # fmt: skip


def test_mark_expected_suppresses_a_similar_later_line_and_no_other_business(
    loaded: Loaded,
) -> None:
    mine, tx = _injected(loaded, "duplicate_payment")
    (other,) = [b for b in loaded.business_ids if b != mine]
    other_before = _verdicts(loaded, other)
    assert _verdicts(loaded, mine)[tx.transaction_id].is_anomaly

    res: MarkExpectedResult = dispatch(MarkExpected(mine, tx.transaction_id, "owner-1"),
                                       loaded.services)  # fmt: skip
    assert res.stored and res.kind == "duplicate_payment"
    marked = _verdicts(loaded, mine)[tx.transaction_id]
    assert not marked.is_anomaly and marked.suppressed_by == tx.transaction_id
    again: MarkExpectedResult = dispatch(MarkExpected(mine, tx.transaction_id), loaded.services)
    assert not again.stored  # one confirmation, not two

    # the same payment made twice again a few weeks later, arriving in real time
    result = dispatch(IngestTransactions(mine, (_copy(tx, 28, "RT-1"), _copy(tx, 29, "RT-2"))),
                      loaded.services)  # fmt: skip
    new_id = result.transaction_ids[1]
    verdict = _verdicts(loaded, mine)[new_id]  # scored at ingestion
    assert verdict.kind == "duplicate_payment" and verdict.suppressed_by == tx.transaction_id
    assert not verdict.is_anomaly
    # … and it is the feedback that suppressed it: without it the same line is raised
    txs = _transactions(loaded, mine)
    with loaded.uow_factory() as uow:
        cats = {
            a.transaction_id: a.value
            for a in uow.scope(mine).annotations.list(AnnotationKind.CATEGORY)
            if a.value
        }
        stored_feedback = uow.scope(mine).feedback.list()
        assert uow.scope(other).feedback.list() == []
    assert [f.transaction_id for f in stored_feedback] == [tx.transaction_id]
    with loaded.uow_factory() as uow:  # the detector's FeedbackStore port over SQL
        if hasattr(uow, "connection"):
            from ledgerlens.adapters.db.anomaly_repositories import SqlFeedbackStore

            store = SqlFeedbackStore(lambda: uow.connection)
            assert list(store.for_business(mine)) == stored_feedback
            assert list(store.for_business(other)) == []
    assert stored_feedback[0].created_by == "owner-1"
    blind = detect_anomalies(txs, categories=cats).by_transaction()
    assert blind[new_id].is_anomaly and blind[new_id].kind == "duplicate_payment"
    # a full run keeps the suppression (it reads the stored feedback)
    dispatch(DetectAnomalies(mine), loaded.services)
    assert not _verdicts(loaded, mine)[new_id].is_anomaly

    assert _verdicts(loaded, other) == other_before  # the other business: untouched
    with pytest.raises(NotFound):
        dispatch(MarkExpected(other, tx.transaction_id), loaded.services)  # not its line


def _card_month(txs: list[Transaction], currency: str) -> tuple[str, date, int]:
    """The busiest card's last booked day and what it spent that month (minor units)."""
    card = max({t.card_id for t in txs if t.card_id},
               key=lambda c: sum(t.card_id == c for t in txs))  # fmt: skip
    lines = [t for t in txs if t.card_id == card and t.amount_minor < 0 and t.currency == currency]
    last = max(t.booking_date for t in lines)
    spent = sum(
        -t.amount_minor
        for t in lines
        if (t.booking_date.year, t.booking_date.month) == (last.year, last.month)
    )
    return card, last, spent


def _policy(
    txs: list[Transaction], currency: str, monthly_minor: int, version: str
) -> dict[str, Any]:
    cards = {t.card_id: t.employee_id or t.card_id for t in txs if t.card_id}
    return {
        "policy_id": "staff-cards", "version": version, "currency": currency,
        "timezone": "UTC",
        "roles": {"staff": {"blocked_mccs": ["7995"], "per_transaction_limit": "300.00",
                            "monthly_limit": format_minor(monthly_minor, currency)}},
        "employees": {e: {"role": "staff"} for e in set(cards.values())},
        "cards": cards,
    }  # fmt: skip


def test_card_policy_as_data_decisions_use_stored_spend_and_are_stored(loaded: Loaded) -> None:
    bid = loaded.business_ids[1]
    cur = loaded.currency[bid]
    txs = _transactions(loaded, bid)
    card, day, spent = _card_month(txs, cur)
    unit = 10 ** currency_exponent(cur)
    doc = _policy(txs, cur, spent + 50 * unit, "v1")
    with pytest.raises(NotFound):
        dispatch(AuthorizeCard(bid, card, "CAFE", "5812", unit, cur,
                               datetime.combine(day, time(12), UTC)), loaded.services)  # fmt: skip
    report: DetectionReport = dispatch(SetCardPolicy(bid, doc, "owner-1"), loaded.services)
    assert report.transactions == len(txs)  # re-scored with the policy's per-purchase limits

    at = datetime.combine(day, time(12), UTC)

    def auth(amount_minor: int, mcc: str = "5812", card_id: str = card) -> CardDecision:
        cmd = AuthorizeCard(bid, card_id, "CORNER CAFE", mcc, amount_minor, cur, at)
        return dispatch(cmd, loaded.services)  # type: ignore[no-any-return]

    casino = auth(10 * unit, mcc="7995")  # the breach: a blocked merchant type
    assert (casino.authorization.decision, casino.authorization.reason_codes) == (
        "decline",
        ("MCC_BLOCKED",),
    )
    ok = auth(30 * unit)
    assert ok.authorization.decision == "approve"
    assert ok.authorization.spent_this_month_minor == spent  # the month's booked card lines
    over = auth(30 * unit)  # the approval above counts until it is booked
    assert over.authorization.decision == "decline"
    assert over.authorization.reason_codes == ("OVER_MONTHLY_LIMIT",)
    assert over.authorization.spent_this_month_minor == spent + 30 * unit
    big = auth(301 * unit)
    assert "OVER_TRANSACTION_LIMIT" in big.authorization.reason_codes
    stranger = auth(unit, card_id="**** 0000")
    assert stranger.authorization.reason_codes == ("UNKNOWN_CARD",)
    # once the approved purchase is booked it is counted once, not twice
    (line,) = [t for t in txs if t.card_id == card and t.booking_date == day][:1]
    booked = dataclasses.replace(line, amount_minor=-30 * unit)
    dispatch(IngestTransactions(bid, (_copy(booked, 1, "RT-CARD-1"),)), loaded.services)
    later = dispatch(AuthorizeCard(bid, card, "CORNER CAFE", "5812", unit, cur,
                                   at + timedelta(days=1)), loaded.services)  # fmt: skip
    assert later.authorization.spent_this_month_minor == spent + 30 * unit

    with loaded.uow_factory() as uow:
        stored = uow.scope(bid).card_decisions.list()
        assert uow.scope(loaded.business_ids[0]).card_decisions.list() == []
    assert [r["decision_id"] for r in stored] == [casino.decision_id, ok.decision_id,
                                                  over.decision_id, big.decision_id,
                                                  stranger.decision_id,
                                                  later.decision_id]  # fmt: skip
    first = stored[0]
    assert first["decision"] == "decline" and first["reason_codes"] == ["MCC_BLOCKED"]
    assert (first["policy_id"], first["policy_version"]) == ("staff-cards", "v1")
    assert first["inputs"]["amount_minor"] == 10 * unit and first["inputs"]["mcc"] == "7995"
    assert datetime.fromisoformat(first["inputs"]["time"]) == at
    assert datetime.fromisoformat(first["created_at"]).tzinfo is not None

    # versions are immutable data: other rules under v1 are refused, a v2 becomes current
    with pytest.raises(ValidationError):
        dispatch(SetCardPolicy(bid, _policy(txs, cur, unit, "v1")), loaded.services)
    with pytest.raises(ValidationError):
        dispatch(SetCardPolicy(bid, {**doc, "version": "v3", "currency": "XXX1"}),
                 loaded.services)  # fmt: skip
    dispatch(SetCardPolicy(bid, _policy(txs, cur, spent + 100 * unit, "v2")), loaded.services)
    again = auth(30 * unit)
    assert again.authorization.decision == "approve" and again.authorization.policy_version == "v2"
    with loaded.uow_factory() as uow:
        assert uow.scope(bid).card_policies.get("v1") == doc


def test_erasure_removes_verdicts_feedback_policies_and_decisions(loaded: Loaded) -> None:
    mine, tx = _injected(loaded, "amount_spike")
    (other,) = [b for b in loaded.business_ids if b != mine]
    dispatch(MarkExpected(mine, tx.transaction_id), loaded.services)
    for bid in (mine, other):
        txs = _transactions(loaded, bid)
        cur = loaded.currency[bid]
        card, day, _ = _card_month(txs, cur)
        dispatch(SetCardPolicy(bid, _policy(txs, cur, 10**9, "v1")), loaded.services)
        dispatch(AuthorizeCard(bid, card, "SHOP", "5999", 100, cur,
                               datetime.combine(day, time(9), UTC)), loaded.services)  # fmt: skip
    other_verdicts = _verdicts(loaded, other)
    with loaded.uow_factory() as uow:
        uow.businesses.delete(mine)
        uow.commit()
    with loaded.uow_factory() as uow:
        gone, kept = uow.scope(mine), uow.scope(other)
        assert gone.anomalies.list() == [] and gone.feedback.list() == []
        assert gone.card_policies.current() is None and gone.card_decisions.list() == []
        assert kept.card_policies.current() is not None and len(kept.card_decisions.list()) == 1
    assert _verdicts(loaded, other) == other_verdicts and other_verdicts


def test_each_card_decision_is_appended_to_the_hash_chained_audit_log(loaded: Loaded) -> None:
    from ledgerlens.decide.audit_chain import InMemoryAuditLog

    bid = loaded.business_ids[1]
    cur = loaded.currency[bid]
    txs = _transactions(loaded, bid)
    card, day, _ = _card_month(txs, cur)
    log = InMemoryAuditLog()
    services = dataclasses.replace(loaded.services, audit_log=log)
    dispatch(SetCardPolicy(bid, _policy(txs, cur, 10**9, "v1")), services)
    at = datetime.combine(day, time(10), UTC)
    made = [dispatch(AuthorizeCard(bid, card, "SHOP", mcc, 100, cur, at), services)
            for mcc in ("5999", "7995")]  # fmt: skip
    entries = log.entries(bid)
    assert [e.reason_codes for e in entries] == [("WITHIN_POLICY",), ("MCC_BLOCKED",)]
    assert [e.subject for e in entries] == ["card_authorization"] * 2
    assert all(e.versions == ("rules:card_policy:staff-cards@v1",) for e in entries)
    assert [json.loads(e.outputs_json)["decision_id"] for e in entries] == [
        m.decision_id for m in made
    ]
    assert log.verify_chain(bid).ok


def test_cli_lists_alerts_marks_expected_sets_policy_and_authorizes(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    from typer.testing import CliRunner

    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.config import get_settings
    from ledgerlens.jobs.cli_anomalies_db import register

    bid = "s9494b00000"
    monkeypatch.setenv("LEDGERLENS_DB__URL", f"sqlite:///{tmp_path}/cli.db")
    get_settings.cache_clear()
    try:
        c = bootstrap()
        with c.uow_factory() as uow:
            uow.businesses.add(Business(bid, bid, "GB", "GBP"))
            for a in _rows(world / "accounts.csv"):
                if a["business_id"] == bid:
                    uow.scope(bid).accounts.add(
                        Account(a["account_id"], bid, a["identifier"], a["currency"],
                                AccountType(a["account_type"]), a["name"]))  # fmt: skip
            uow.commit()
        plain = Services(importer=c.importer, uow_factory=c.uow_factory)  # no categorizer
        dispatch(ImportStatements(bid, (world / "csv" / f"{bid}.csv",)), plain)
        dispatch(DetectAnomalies(bid), plain)
        txs = _transactions(Loaded(plain, c.uow_factory, [bid], {}, {}), bid)
        c.dispose()

        app = typer.Typer()
        register(app)
        run = CliRunner().invoke
        res = run(app, ["alerts", "--business", bid, "--json"])
        assert res.exit_code == 0, res.output
        alerts = json.loads(res.output)
        assert alerts and all(a["is_anomaly"] and a["reasons"] for a in alerts)
        dup = next(a for a in alerts if a["kind"] == "duplicate_payment")
        res = run(app, ["mark-expected", "--business", bid, "--transaction",
                        dup["transaction_id"]])  # fmt: skip
        assert res.exit_code == 0, res.output
        after = json.loads(run(app, ["alerts", "--business", bid, "--json"]).output)
        assert dup["transaction_id"] not in {a["transaction_id"] for a in after}
        assert run(app, ["alerts", "--business", "ghost"]).exit_code == 1

        card, day, _ = _card_month(txs, "GBP")
        policy = tmp_path / "policy.json"
        policy.write_text(json.dumps(_policy(txs, "GBP", 10**9, "v1")), encoding="utf-8")
        res = run(app, ["card-policy", "set", "--business", bid, "--file", str(policy)])
        assert res.exit_code == 0, res.output
        shown = json.loads(run(app, ["card-policy", "show", "--business", bid]).output)
        assert (shown["policy_id"], shown["version"]) == ("staff-cards", "v1")
        everything = json.loads(run(app, ["alerts", "--business", bid, "--all", "--json"]).output)
        raised = [a for a in everything if a["is_anomaly"]]
        assert 0 < len(raised) < len(everything)
        assert any("misuse.split_purchase" in a["source"] for a in raised)  # the policy's limit
        table = run(app, ["alerts", "--business", bid])
        assert table.exit_code == 0 and f"{len(raised)} raised" in table.output
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"policy_id": "x", "version": "v9"}), encoding="utf-8")
        assert run(app, ["card-policy", "set", "--business", bid, "--file", str(bad)]
                   ).exit_code == 1  # fmt: skip
        res = run(app, ["authorize", "--business", bid, "--card", card, "--merchant", "CASINO",
                        "--mcc", "7995", "--amount", "12.50", "--currency", "GBP",
                        "--at", f"{day.isoformat()}T12:00:00+00:00", "--json"])  # fmt: skip
        assert res.exit_code == 0, res.output
        record = json.loads(res.output)
        assert (record["decision"], record["reason_codes"]) == ("decline", ["MCC_BLOCKED"])
        assert record["inputs"]["amount_minor"] == 1250
        bad_amount = run(
            app,
            [
                "authorize",
                "--business",
                bid,
                "--card",
                card,
                "--merchant",
                "X",
                "--mcc",
                "5812",
                "--amount",
                "1.234",
                "--currency",
                "GBP",
            ],
        )
        assert bad_amount.exit_code == 1
        c = bootstrap()
        with c.uow_factory() as uow:
            (stored,) = uow.scope(bid).card_decisions.list()
        assert stored["decision_id"] == record["decision_id"]
        from ledgerlens.adapters.db.audit import SqlAuditLog

        (entry,) = SqlAuditLog(c.engine).entries(bid)  # type: ignore[arg-type]
        assert json.loads(entry.outputs_json)["decision_id"] == record["decision_id"]
        c.dispose()
    finally:
        get_settings.cache_clear()
