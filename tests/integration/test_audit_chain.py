"""The decision audit log on SQLite and PostgreSQL: append-only, tamper-evident, erasable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from ledgerlens.adapters.db import sql_uow_factory
from ledgerlens.adapters.db.audit import SqlAuditLog
from ledgerlens.core.ledger import Business
from ledgerlens.decide.model import Decision, DecisionKind

T0 = datetime(2026, 12, 4, 10, 30, 15, 123456, tzinfo=UTC)


def _decision(bid: str, k: int) -> Decision:
    return Decision(
        business_id=bid,
        kind=DecisionKind.OFFER if k % 2 else DecisionKind.LIMIT,
        subject=f"subject_{k}",
        outputs={"amount_minor": 1_000_00 * k, "offered": True, "rate": 0.075, "ü": "€"},
        inputs={"monthly_inflow_minor": 5_000_000 + k, "nested": {"a": [1, 2.5, None]}},
        reason_codes=("ELIG_CREDIT_OK", f"CODE_{k}"),
        versions=("rules:pricing@2026.12.1", "model:risk@2026.12.1"),
        reasons=(f"because {k}",),
        confidence=0.9,
        source="rule:offers@2026.12.1",
        decided_at=T0 + timedelta(seconds=k),
    )


def _fill(log: SqlAuditLog) -> None:
    log.append([_decision("b1", k) for k in range(1, 4)])
    log.append([_decision("b2", 1), _decision("b1", 4), _decision("b2", 2)])


def test_append_and_verify(engine: Engine) -> None:
    log = SqlAuditLog(engine)
    _fill(log)
    rep = log.verify_chain()
    assert rep.ok and rep.entries == 6 and rep.businesses == 2
    b1 = log.entries("b1")
    assert [e.position for e in b1] == [1, 2, 3, 4]
    assert b1[1].prev_hash == b1[0].hash and b1[0].decided_at == T0 + timedelta(seconds=1)
    assert b1[0].outputs["ü"] == "€" and b1[0].reason_codes == ("ELIG_CREDIT_OK", "CODE_1")
    assert [e.subject for e in log.entries("b1", kind="limit")] == ["subject_2", "subject_4"]
    assert log.heads()["b2"][0] == 2


def test_an_edited_row_is_caught(engine: Engine) -> None:
    log = SqlAuditLog(engine)
    _fill(log)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE decision_audit SET outputs = :o WHERE business_id = 'b1' AND position = 2"
            ),
            {"o": '{"amount_minor":999999999,"offered":true}'},
        )
    rep = log.verify_chain()
    assert not rep.ok
    assert any("b1 #2" in p and "edited" in p for p in rep.problems)
    assert log.verify_chain("b2").ok  # the other business's chain is untouched


def test_an_edited_reason_code_is_caught(engine: Engine) -> None:
    log = SqlAuditLog(engine)
    _fill(log)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE decision_audit SET reason_codes = '[\"ELIG_CREDIT_OK\"]' "
                "WHERE business_id = 'b2' AND position = 1"
            )
        )
    assert not log.verify_chain("b2").ok


def test_a_deleted_row_is_caught(engine: Engine) -> None:
    log = SqlAuditLog(engine)
    _fill(log)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM decision_audit WHERE business_id = 'b1' AND position = 2"))
    rep = log.verify_chain()
    assert not rep.ok and any("b1" in p for p in rep.problems)


def test_rehashing_one_row_still_breaks_the_next_link(engine: Engine) -> None:
    """A forger who recomputes the edited row's hash breaks the link of the row after it."""
    from ledgerlens.decide.audit_chain import entry_hash

    log = SqlAuditLog(engine)
    _fill(log)
    e = log.entries("b1")[1]
    forged = e.payload() | {"outputs": '{"amount_minor":1}'}
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE decision_audit SET outputs = :o, hash = :h "
                "WHERE business_id = 'b1' AND position = 2"
            ),
            {"o": '{"amount_minor":1}', "h": entry_hash(e.prev_hash, forged)},
        )
    rep = log.verify_chain("b1")
    assert not rep.ok and any("b1 #3" in p and "link" in p for p in rep.problems)


def test_erasure_removes_one_chain_and_keeps_the_rest_verifiable(engine: Engine) -> None:
    uow_factory = sql_uow_factory(engine)
    with uow_factory() as uow:
        uow.businesses.add(Business("b1", "One", "DE", "EUR"))
        uow.businesses.add(Business("b2", "Two", "NL", "EUR"))
        uow.commit()
    log = SqlAuditLog(engine)
    _fill(log)
    with uow_factory() as uow:
        uow.businesses.delete("b2")
        uow.commit()
    assert log.entries("b2") == []
    rep = log.verify_chain()
    assert rep.ok and rep.businesses == 1 and rep.entries == 4


def test_record_hook_for_card_authorizations(engine: Engine) -> None:
    log = SqlAuditLog(engine)
    record = {
        "decision": "decline",
        "reason_codes": ["MCC_BLOCKED"],
        "policy_id": "p1",
        "policy_version": 3,
        "source": "rule:card_policy@3",
        "decision_id": "dec_1",
        "inputs": {"mcc": "7995", "amount_minor": 5000},
    }
    log(None, "b1", "card_authorization", record)
    (e,) = log.entries("b1")
    assert e.kind == "card_authorization" and e.reason_codes == ("MCC_BLOCKED",)
    assert e.inputs["mcc"] == "7995" and e.versions == ("policy:p1@3",)
    assert log.verify_chain().ok


def test_two_writers_keep_one_chain(engine: Engine) -> None:
    a, b = SqlAuditLog(engine), SqlAuditLog(engine)
    for k in range(1, 7):
        (a if k % 2 else b).append([_decision("b1", k)])
    assert [e.position for e in a.entries("b1")] == [1, 2, 3, 4, 5, 6]
    assert a.verify_chain().ok


def test_decide_for_business_audits_every_decision(engine: Engine) -> None:
    """The pipeline over the real database: every decision has its entry with reason codes."""
    from datetime import date

    from ledgerlens.core.ledger import Account, ConsentGrant, Purpose, Transaction
    from ledgerlens.ingest.service import StatementImporter
    from ledgerlens.pipeline import Services, dispatch
    from ledgerlens.pipeline_decide import DecideForBusiness

    uow_factory = sql_uow_factory(engine)
    start, bal, txs = date(2025, 11, 1), 5_000_000, []
    for d in range(395):
        day = start + timedelta(days=d)
        for amount, text_ in ((120_000, "SUMUP PAYOUT"), (-90_000 if d % 2 else 0, "SUPPLIER")):
            if amount:
                bal += amount
                txs.append(Transaction(f"t{len(txs)}", "b1", "a1", day, None, amount, "EUR",
                                       text_, counterparty_name=text_.split()[0],
                                       balance_after_minor=bal))  # fmt: skip
    with uow_factory() as uow:
        uow.businesses.add(Business("b1", "One", "DE", "EUR"))
        scope = uow.scope("b1")
        scope.accounts.add(Account("a1", "b1", "DE89370400440532013000", "EUR"))
        scope.transactions.add_new(txs)
        scope.consents.grant(ConsentGrant("b1", Purpose.OFFERS, T0))
        uow.commit()
    log = SqlAuditLog(engine)
    services = Services(importer=StatementImporter(uow_factory), uow_factory=uow_factory,
                        audit_log=log)  # fmt: skip
    report = dispatch(DecideForBusiness("b1"), services)
    decisions = report.decisions.all
    entries = log.entries("b1")
    assert {str(d.kind) for d in decisions} >= {"limit", "offer", "recommendation"}
    assert len(entries) == len(decisions)
    assert all(e.reason_codes and e.versions for e in entries)
    assert log.verify_chain().ok
