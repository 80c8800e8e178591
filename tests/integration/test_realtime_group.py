"""The grouped real-time ingest (``pipeline_realtime.ingest_keyed``) on a migrated database.

A group of POSTs runs in one transaction: each request's key is looked up (replay, mismatch,
in progress) or its lines are stored and its answer recorded under the key; then the new lines
are categorized and scored; then one commit. A refusal re-runs the group one request at a time
(only the refused request's answer is kept); any other failure leaves nothing of anyone.
``BusinessFactsCache`` keeps each business's facts between groups and must re-read them when
they may have changed. Run on SQLite (the path the API takes) and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from ledgerlens.adapters.db import sql_uow_factory
from ledgerlens.adapters.db.anomaly_tables import anomaly_results
from ledgerlens.adapters.db.api_tables import idempotency_keys
from ledgerlens.adapters.db.enrichment_tables import annotations_table
from ledgerlens.adapters.db.idempotency import SqlIdempotencyStore
from ledgerlens.adapters.db.tables import transactions
from ledgerlens.analyze.anomalies.fuse import AnomalyResult
from ledgerlens.core.ledger import (
    Account,
    AccountType,
    Annotation,
    AnnotationKind,
    Business,
    Transaction,
    utc_now,
)
from ledgerlens.ingest.realtime import IncomingTransaction, TransactionIngestor
from ledgerlens.ingest.service import StatementImporter
from ledgerlens.pipeline import IngestTransactions, Recategorize, Services, dispatch
from ledgerlens.pipeline_anomalies import ScoringContexts
from ledgerlens.pipeline_realtime import (
    BusinessFactsCache,
    KeyedIngest,
    KeyedOutcome,
    ingest_keyed,
)
from ledgerlens.serve.routes.transactions import ingest_answer

SECRET = b"test-iban-secret"
SUBJECT = "user-1"
B1, B2 = "biz-1", "biz-2"


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite: the grouped path runs only there in production (one writer; PostgreSQL keeps
    the reserve/complete guard). Tests of its dialect-neutral parts (the scope's vouching,
    the key repository, a whole group) add PostgreSQL with ``BOTH``."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("pg_url"))


BOTH = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def services(engine: Engine, categorizer: Any, fx_rates: Any) -> Services:
    """Two businesses with one account each, and the services the API builds (categorizer
    and per-business scoring contexts included)."""
    uow_factory = sql_uow_factory(engine)
    with uow_factory() as uow:
        for bid, iban in ((B1, "GB29NWBK60161331926819"), (B2, "GB94BARC10201530093459")):
            uow.businesses.add(Business(bid, bid, "GB", "GBP"))
            uow.scope(bid).accounts.add(
                Account(f"{bid}-acc", bid, iban, "GBP", AccountType.CURRENT, "Main")
            )
        uow.commit()
    return Services(
        importer=StatementImporter(uow_factory),
        ingestor=TransactionIngestor(uow_factory),
        uow_factory=uow_factory,
        categorizer=categorizer,
        fx_rates=fx_rates,
        iban_secret=SECRET,
        anomaly_contexts=ScoringContexts(8),
    )


def _row(ref: str, amount: str = "-12.50", account_id: str = f"{B1}-acc",
         day: int = 2) -> IncomingTransaction:  # fmt: skip
    return IncomingTransaction(
        account_id=account_id, booking_date=date(2026, 3, day), amount=amount, currency="GBP",
        description="CARD PAYMENT TESCO STORES", counterparty_name="Tesco", mcc="5411",
        bank_reference=ref,
    )  # fmt: skip


def _request(key: str, *rows: IncomingTransaction, business_id: str = B1,
             payload: str | None = None) -> KeyedIngest:  # fmt: skip
    """A POST under ``key``; its request hash stands for its payload (the refs by default)."""
    digest = payload if payload is not None else "|".join(r.bank_reference for r in rows)
    return KeyedIngest(IngestTransactions(business_id, rows), SUBJECT, key, f"h:{digest}")


def _run(
    requests: Sequence[KeyedIngest], services: Services, cache: BusinessFactsCache | None = None
) -> list[KeyedOutcome | BaseException]:
    return ingest_keyed(requests, services, ingest_answer, cache or BusinessFactsCache())


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _counts(engine: Engine) -> dict[str, int]:
    tables = {"keys": idempotency_keys, "lines": transactions, "annotations": annotations_table,
              "verdicts": anomaly_results}  # fmt: skip
    return {name: _count(engine, t) for name, t in tables.items()}


def _stored_key(engine: Engine, business_id: str, key: str) -> tuple[int | None, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(idempotency_keys.c.status_code, idempotency_keys.c.response_body).where(
                idempotency_keys.c.business_id == business_id, idempotency_keys.c.key == key
            )
        ).one()
    return row.status_code, row.response_body


def _categorized(services: Services, business_id: str, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` have a stored category annotation."""
    assert services.uow_factory is not None
    with services.uow_factory() as uow:
        stored = uow.scope(business_id).annotations.for_transactions(list(ids))
    return {a.transaction_id for a in stored if a.kind is AnnotationKind.CATEGORY}


def _ok(outcome: KeyedOutcome | BaseException) -> KeyedOutcome:
    assert isinstance(outcome, KeyedOutcome), outcome
    return outcome


def _acme(ref: str, day: int) -> IncomingTransaction:
    """A large supplier payment: the same one twice is a ``duplicate_payment`` verdict."""
    return IncomingTransaction(
        account_id=f"{B1}-acc", booking_date=date(2026, 3, day), amount="-1250.00",
        currency="GBP", description="INVOICE 4411 ACME SUPPLIES",
        counterparty_name="Acme Supplies Ltd", counterparty_iban="GB94BARC10201530093459",
        bank_reference=ref,
    )  # fmt: skip


@BOTH
def test_a_group_of_three_new_requests_stores_categorizes_and_scores_every_line(
    engine: Engine, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ledgerlens.pipeline as pipeline

    scored_ids: list[tuple[str, set[str]]] = []
    real_score = pipeline.score_ingested

    def spy(business_id: str, transaction_ids: Sequence[str], *a: Any, **kw: Any) -> Any:
        scored_ids.append((business_id, set(transaction_ids)))
        return real_score(business_id, transaction_ids, *a, **kw)

    monkeypatch.setattr(pipeline, "score_ingested", spy)
    reqs = [_request("k1", _acme("R1", 2)),
            _request("k2", _acme("R2", 3), _row("R3", "-3.10")),
            _request("k3", _row("R4", "-99.00", f"{B2}-acc"), business_id=B2)]  # fmt: skip
    outcomes = [_ok(o) for o in _run(reqs, services)]

    assert [o.reservation.state for o in outcomes] == ["new", "new", "new"]
    assert [o.reservation.status_code for o in outcomes] == [201, 201, 201]
    bodies = [json.loads(o.reservation.body or "") for o in outcomes]
    assert bodies == [{"received": 1, "created": 1, "duplicates": 0},
                      {"received": 2, "created": 2, "duplicates": 0},
                      {"received": 1, "created": 1, "duplicates": 0}]  # fmt: skip
    results = [o.result for o in outcomes]
    assert all(r is not None and r.created == len(r.transaction_ids) for r in results)
    b1_ids = [i for r in results[:2] if r for i in r.transaction_ids]
    b2_ids = list(results[2].transaction_ids) if results[2] else []
    assert len(set(b1_ids)) == 3 and len(b2_ids) == 1
    # each business's new lines were scored together, once
    assert scored_ids == [(B1, set(b1_ids)), (B2, set(b2_ids))]
    for bid, ids in ((B1, b1_ids), (B2, b2_ids)):
        assert _categorized(services, bid, ids) == set(ids), bid  # enriched in the same transaction
    # the verdicts are stored: the second Acme payment (another request) is a duplicate
    assert services.uow_factory is not None
    with services.uow_factory() as uow:
        verdicts = {r.transaction_id: r for r in uow.scope(B1).anomalies.list()}
    second_acme = results[1].transaction_ids[0] if results[1] else ""
    assert verdicts[second_acme].kind == "duplicate_payment" and verdicts[second_acme].is_anomaly
    assert set(verdicts) <= set(b1_ids)
    # each answer is what was recorded under its key (a retry replays it)
    for req, outcome in zip(reqs, outcomes, strict=True):
        assert _stored_key(engine, req.command.business_id, req.key) == (
            outcome.reservation.status_code, outcome.reservation.body)  # fmt: skip
    counts = _counts(engine)
    assert (counts["keys"], counts["lines"], counts["verdicts"]) == (3, 4, len(verdicts))


def test_a_resent_request_replays_its_answer_and_changes_nothing(
    engine: Engine, services: Services
) -> None:
    req = _request("k1", _row("R1"))
    (first,) = _run([req], services)
    before = _counts(engine)
    (again,) = _run([req], services)
    assert _ok(again).reservation.state == "replay" and _ok(again).result is None
    assert (_ok(again).reservation.status_code, _ok(again).reservation.body) == (
        _ok(first).reservation.status_code, _ok(first).reservation.body)  # fmt: skip
    assert _counts(engine) == before


@BOTH
def test_the_same_key_twice_in_one_group_replays_the_first_and_stores_once(
    engine: Engine, services: Services
) -> None:
    req = _request("dup", _row("R1"))
    first, second = (_ok(o) for o in _run([req, req], services))
    assert (first.reservation.state, second.reservation.state) == ("new", "replay")
    assert second.result is None  # it did not run
    assert (second.reservation.status_code, second.reservation.body) == (
        first.reservation.status_code, first.reservation.body)  # fmt: skip
    counts = _counts(engine)
    assert (counts["keys"], counts["lines"]) == (1, 1)


def test_the_same_key_with_another_payload_is_a_mismatch_in_a_group_and_later(
    engine: Engine, services: Services
) -> None:
    first = _request("k", _row("R1"))
    other = _request("k", _row("R2"))
    a, b = (_ok(o) for o in _run([first, other], services))
    assert (a.reservation.state, b.reservation.state) == ("new", "mismatch")
    assert b.result is None and b.reservation.status_code is None
    (later,) = _run([other], services)
    assert _ok(later).reservation.state == "mismatch"
    assert _counts(engine)["lines"] == 1  # R2 never stored


@BOTH
def test_a_group_mixing_stored_keys_and_new_ones_answers_each_from_one_look_up(
    engine: Engine, services: Services
) -> None:
    """The group's keys are looked up in one statement: each request still gets its own key's
    answer (replay, mismatch, or new), matched by subject as well as key."""
    stored = _request("k-old", _row("R1"))
    (first,) = _run([stored, _request("k-older", _row("R3"))], services)[:1]
    other_client = KeyedIngest(stored.command, "another-subject", "k-old", stored.request_hash)
    mismatch = _request("k-older", _row("R9"))  # a stored key, another payload
    fresh = _request("k-new", _row("R2"))
    before = _counts(engine)
    statements: list[str] = []
    listen = lambda *a: statements.append(a[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        outcomes = [_ok(o) for o in _run([stored, fresh, mismatch, other_client], services)]
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    states = [o.reservation.state for o in outcomes]
    assert states == ["replay", "new", "mismatch", "new"]
    assert outcomes[0].reservation.body == _ok(first).reservation.body
    assert outcomes[0].result is None and outcomes[2].result is None
    # one look-up and one insert for the keys of the whole group, not one of each per request
    on_keys = [s for s in statements if "idempotency_keys" in s]
    assert sum(s.lstrip().upper().startswith("SELECT") for s in on_keys) == 1
    assert sum(s.lstrip().upper().startswith("INSERT") for s in on_keys) == 1
    after = _counts(engine)
    assert after["keys"] == before["keys"] + 2  # k-new, and k-old for the other subject
    assert after["lines"] == before["lines"] + 1  # R2; the other subject's R1 is a duplicate


def test_a_refused_request_in_a_group_keeps_its_answer_and_the_others_their_lines(
    engine: Engine, services: Services
) -> None:
    good1 = _request("g1", _row("R1"))
    bad = _request("bad", _row("R2"), _row("R3", account_id="no-such-account"))
    good2 = _request("g2", _row("R4", "-8.20"))
    o1, o2, o3 = (_ok(o) for o in _run([good1, bad, good2], services))

    assert [o.reservation.state for o in (o1, o2, o3)] == ["new", "new", "new"]
    assert (o1.reservation.status_code, o2.reservation.status_code,
            o3.reservation.status_code) == (201, 422, 201)  # fmt: skip
    assert o2.result is None and o2.reservation.content_type == "application/problem+json"
    assert json.loads(o2.reservation.body or "")["status"] == 422
    assert _stored_key(engine, B1, "bad") == (422, o2.reservation.body)
    # the two good requests stored and judged their lines; nothing of the refused one
    assert o1.result is not None and o3.result is not None
    ids = [*o1.result.transaction_ids, *o3.result.transaction_ids]
    assert _categorized(services, B1, ids) == set(ids)
    counts = _counts(engine)
    assert (counts["keys"], counts["lines"]) == (3, 2)  # R2, valid itself, is not stored
    # a re-send of the refused request replays the refusal, and still stores nothing
    (again,) = _run([bad], services)
    assert _ok(again).reservation.state == "replay"
    assert (_ok(again).reservation.status_code, _ok(again).reservation.body) == (
        422, o2.reservation.body)  # fmt: skip
    assert _counts(engine) == counts


def test_a_request_for_an_unknown_business_gets_a_stored_404(
    engine: Engine, services: Services
) -> None:
    good = _request("g1", _row("R1"))
    lost = _request("lost", _row("R2"), business_id="no-such-business")
    a, b = (_ok(o) for o in _run([good, lost], services))
    assert (a.reservation.status_code, b.reservation.status_code) == (201, 404)
    assert _stored_key(engine, "no-such-business", "lost")[0] == 404
    assert _counts(engine)["lines"] == 1


def test_a_failure_while_judging_leaves_nothing_of_any_request(
    engine: Engine, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scorer fails after categorization wrote annotations: every request gets the
    error, and no key, line, annotation or verdict of any of them remains."""
    import ledgerlens.pipeline as pipeline

    calls: list[str] = []

    def broken(business_id: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(business_id)
        raise RuntimeError("scorer down")

    monkeypatch.setattr(pipeline, "score_ingested", broken)
    reqs = [_request("k1", _row("R1")), _request("k2", _row("R2", "-4.00")),
            _request("k3", _row("R3", "-5.00", f"{B2}-acc"), business_id=B2)]  # fmt: skip
    before = _counts(engine)
    outcomes = _run(reqs, services)

    assert len(outcomes) == 3
    assert all(isinstance(o, RuntimeError) and str(o) == "scorer down" for o in outcomes)
    assert len(calls) == 1 + 3  # the group once, then each request alone
    assert _counts(engine) == before  # no keys, no lines, no annotations, no verdicts
    # once the scorer is back, the same requests run from scratch (no key left reserved)
    monkeypatch.undo()
    again = [_ok(o) for o in _run(reqs, services)]
    assert [o.reservation.status_code for o in again] == [201, 201, 201]
    assert _counts(engine)["lines"] == 3


def test_a_judging_failure_of_the_group_is_returned_per_request(
    engine: Engine, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ledgerlens.pipeline_realtime as realtime

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("judge down")

    monkeypatch.setattr(realtime, "judge_ingested", broken)
    reqs = [_request("k1", _row("R1")), _request("k2", _row("R2", "-4.00"))]
    outcomes = _run(reqs, services)
    assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError]
    assert outcomes[0] is not outcomes[1]  # each request's own run failed
    assert _counts(engine) == {"keys": 0, "lines": 0, "annotations": 0, "verdicts": 0}


def test_a_key_the_reserving_path_holds_unfinished_is_in_progress(
    engine: Engine, services: Services
) -> None:
    req = _request("old", _row("R1"))
    store = SqlIdempotencyStore(engine)
    assert store.reserve(B1, SUBJECT, "old", req.request_hash).state == "new"  # pending row
    fresh = _request("fresh", _row("R2"))
    held, other = (_ok(o) for o in _run([req, fresh], services))
    assert held.reservation.state == "in_progress" and held.result is None
    assert other.reservation.state == "new"
    assert _stored_key(engine, B1, "old") == (None, None)  # left for its owner to finish
    assert _counts(engine)["lines"] == 1  # only R2's
    changed = _request("old", _row("R9"))
    (mismatch,) = _run([changed], services)
    assert _ok(mismatch).reservation.state == "mismatch"


def test_a_batch_already_stored_under_another_key_answers_200_and_adds_only_its_key(
    engine: Engine, services: Services
) -> None:
    rows = (_row("R1"), _row("R2", "-7.00"))
    first = _ok(_run([_request("k1", *rows)], services)[0])
    before = _counts(engine)
    again = _ok(_run([_request("k2", *rows)], services)[0])
    assert (again.reservation.state, again.reservation.status_code) == ("new", 200)
    assert json.loads(again.reservation.body or "") == {"received": 2, "created": 0,
                                                       "duplicates": 2}  # fmt: skip
    assert again.result is not None and first.result is not None
    assert again.result.transaction_ids == first.result.transaction_ids
    assert _counts(engine) == {**before, "keys": before["keys"] + 1}


def test_a_refused_request_sent_twice_in_one_group_is_refused_once_and_replayed(
    engine: Engine, services: Services
) -> None:
    bad = _request("bad", _row("R1", account_id="no-such-account"))
    first, second = (_ok(o) for o in _run([bad, bad], services))
    assert (first.reservation.state, first.reservation.status_code) == ("new", 422)
    assert (second.reservation.state, second.reservation.status_code) == ("replay", 422)
    assert second.reservation.body == first.reservation.body
    assert _counts(engine)["keys"] == 1 and _counts(engine)["lines"] == 0


def test_a_reservation_abandoned_past_its_lease_is_taken_over(
    engine: Engine, services: Services
) -> None:
    req = _request("orphan", _row("R1"))
    store = SqlIdempotencyStore(engine, lease_seconds=300.0)
    long_ago = utc_now() - timedelta(days=1)
    assert store.reserve(B1, SUBJECT, "orphan", req.request_hash, now=long_ago).state == "new"
    assert store.reserve(B1, SUBJECT, "orphan", req.request_hash).state == "new"  # the old path
    # the same, through the path the API takes on SQLite
    store.release(B1, SUBJECT, "orphan")
    assert store.reserve(B1, SUBJECT, "orphan", req.request_hash, now=long_ago).state == "new"
    (out,) = _run([req], services)
    assert _ok(out).reservation.state == "new" and _ok(out).reservation.status_code == 201


# -- BusinessFactsCache --------------------------------------------------------------------


def test_held_facts_are_reused_until_the_generation_moves_or_the_ttl_passes(
    services: Services,
) -> None:
    generation, now = [0], [100.0]
    cache = BusinessFactsCache(ttl_s=5.0, generation=lambda: generation[0],
                               clock=lambda: now[0])  # fmt: skip
    _ok(_run([_request("k1", _row("R1"))], services, cache)[0])
    assert cache.reads == 1
    _ok(_run([_request("k2", _row("R2"))], services, cache)[0])
    now[0] += 4.9
    _ok(_run([_request("k3", _row("R3"))], services, cache)[0])
    assert cache.reads == 1  # nothing moved: held facts served both
    generation[0] += 1  # another write of this process ran
    _ok(_run([_request("k4", _row("R4"))], services, cache)[0])
    assert cache.reads == 2
    _ok(_run([_request("k5", _row("R5"))], services, cache)[0])
    assert cache.reads == 2
    now[0] += 5.0  # ttl passed since the last read (writes of other processes)
    _ok(_run([_request("k6", _row("R6"))], services, cache)[0])
    assert cache.reads == 3
    # another business is held apart
    _ok(_run([_request("k7", _row("R7", account_id=f"{B2}-acc"), business_id=B2)],
             services, cache)[0])  # fmt: skip
    assert cache.reads == 4


def test_a_correction_reaches_real_time_lines_once_the_generation_moves(
    services: Services,
) -> None:
    """The held corrections are what categorizes: a correction stored meanwhile applies from
    the first group after the generation moved (the write lane counts the recategorization)."""
    generation = [0]
    cache = BusinessFactsCache(ttl_s=3600.0, generation=lambda: generation[0])
    first = _ok(_run([_request("k1", _row("R1"))], services, cache)[0])
    assert first.result is not None
    target = "opex.training_education"
    dispatch(Recategorize(B1, first.result.transaction_ids[0], target), services)

    def category_of(outcome: KeyedOutcome) -> tuple[str, str]:
        assert outcome.result is not None and services.uow_factory is not None
        with services.uow_factory() as uow:
            (ann,) = [a for a in uow.scope(B1).annotations.for_transactions(
                outcome.result.transaction_ids) if a.kind is AnnotationKind.CATEGORY]  # fmt: skip
        return ann.value, ann.source

    stale = _ok(_run([_request("k2", _row("R2", day=3))], services, cache)[0])
    assert category_of(stale)[0] != target  # held facts, no move: the cache was used
    generation[0] += 1
    fresh = _ok(_run([_request("k3", _row("R3", day=4))], services, cache)[0])
    value, source = category_of(fresh)
    assert value == target and source.startswith("rule:correction:")
    assert cache.reads == 2


def test_an_account_created_after_the_facts_were_cached_is_re_read_and_accepted(
    engine: Engine, services: Services
) -> None:
    cache = BusinessFactsCache(ttl_s=3600.0)
    _ok(_run([_request("k1", _row("R1"))], services, cache)[0])
    assert cache.reads == 1
    with sql_uow_factory(engine)() as uow:  # another writer adds an account
        uow.scope(B1).accounts.add(Account(f"{B1}-savings", B1, "GB33BUKB20201555555555", "GBP",
                                           AccountType.SAVINGS, "Savings"))  # fmt: skip
        uow.commit()
    (out,) = _run([_request("k2", _row("R2", account_id=f"{B1}-savings"))], services, cache)
    assert _ok(out).reservation.status_code == 201  # not refused as an unknown account
    assert cache.reads == 2
    assert _ok(out).result is not None
    held = cache.get(_NoUow(), B1, [f"{B1}-savings"])  # now held: served without storage
    assert held is not None and f"{B1}-savings" in {a.account_id for a in held.accounts}
    assert cache.reads == 2


def test_an_unknown_business_has_no_facts_and_is_read_each_time(
    engine: Engine, services: Services
) -> None:
    cache = BusinessFactsCache(ttl_s=3600.0)
    with sql_uow_factory(engine)() as uow:
        assert cache.get(uow, B1) is not None and cache.get(uow, B1) is not None
        assert cache.reads == 1
        assert cache.get(uow, "no-such-business") is None
        assert cache.get(uow, "no-such-business") is None  # not held: created meanwhile?
    assert cache.reads == 3


class _NoUow:
    """A unit of work that must not be used: the cache has to answer from what it holds."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the cache read storage ({name})")


# -- stored_now ------------------------------------------------------------------------------


def _tx(ref: str) -> Transaction:
    return Transaction(
        transaction_id=f"{B1}-{ref}", business_id=B1, account_id=f"{B1}-acc",
        booking_date=date(2026, 3, 2), value_date=None, amount_minor=-1250, currency="GBP",
        description="CARD PAYMENT", counterparty_name="", counterparty_iban="", mcc="",
        bank_tx_code="", purpose_code="",
    )  # fmt: skip


def _category(tx: Transaction) -> Annotation:
    return Annotation(tx.transaction_id, B1, AnnotationKind.CATEGORY, "opex.other", 0.9,
                      "rule:test")  # fmt: skip


@BOTH
def test_after_a_rollback_the_scope_no_longer_vouches_for_lines_it_inserted(
    engine: Engine, services: Services
) -> None:
    tx = _tx("T1")
    with sql_uow_factory(engine)() as uow:
        scope = uow.scope(B1)
        assert scope.transactions.add_new([tx]) == 1
        assert tx.transaction_id in scope.stored_now
        assert scope.annotations.upsert([_category(tx)]) == 1  # vouched, and true
        uow.rollback()
        assert scope.stored_now == set() and uow.scope(B1) is scope
        with pytest.raises(ValueError, match="not transactions of"):
            scope.annotations.upsert([_category(tx)])  # the line is gone: refused
        with pytest.raises(ValueError, match="not transactions of"):
            scope.anomalies.upsert([AnomalyResult(tx.transaction_id, 0.1, False, "")])
    assert _count(engine, transactions) == 0 and _count(engine, annotations_table) == 0


@BOTH
def test_a_new_unit_of_work_starts_with_nothing_vouched(engine: Engine, services: Services) -> None:
    tx = _tx("T2")
    factory = sql_uow_factory(engine)
    with factory() as uow:
        uow.scope(B1).transactions.add_new([tx])
        # leaving without commit rolls back
    with factory() as uow:
        scope = uow.scope(B1)
        assert scope.stored_now == set()
        with pytest.raises(ValueError, match="not transactions of"):
            scope.annotations.upsert([_category(tx)])
    with factory() as uow:  # a line of another business is never vouched for
        other = uow.scope(B2)
        assert uow.scope(B1).transactions.add_new([tx]) == 1
        with pytest.raises(ValueError, match="not transactions of"):
            other.annotations.upsert([dataclasses.replace(_category(tx), business_id=B2)])


def test_after_another_process_erased_the_business_held_facts_store_nothing(
    engine: Engine, services: Services
) -> None:
    """Facts held within the ttl do not let a POST write to a business another process
    erased meanwhile (the ownership check refuses, the held facts are dropped and the request
    runs again against storage): its answer is the 404 stored under its key, nothing else."""
    cache = BusinessFactsCache(ttl_s=3600.0)
    _ok(_run([_request("k1", _row("R1"))], services, cache)[0])
    with sql_uow_factory(engine)() as uow:  # erasure by another process: no generation bump
        uow.businesses.delete(B1)
        uow.commit()
    (out,) = _run([_request("k2", _row("R2"))], services, cache)
    assert _ok(out).reservation.status_code == 404
    assert _counts(engine) == {"keys": 1, "lines": 0, "annotations": 0, "verdicts": 0}


def test_a_business_erased_by_another_process_answers_404_despite_held_facts(
    engine: Engine, services: Services
) -> None:
    cache = BusinessFactsCache(ttl_s=3600.0)
    _ok(_run([_request("k1", _row("R1"))], services, cache)[0])
    with sql_uow_factory(engine)() as uow:
        uow.businesses.delete(B1)
        uow.commit()
    (out,) = _run([_request("k2", _row("R2"))], services, cache)
    assert not isinstance(out, BaseException), repr(out)
    assert out.reservation.status_code == 404
    assert _count(engine, transactions) == 0


def test_two_legs_of_a_transfer_in_two_requests_of_one_group_are_paired(
    engine: Engine, services: Services
) -> None:
    """A group's new lines are judged together: a transfer's legs posted by two requests
    that went in one group find each other."""
    savings_iban, main_iban = "GB33BUKB20201555555555", "GB29NWBK60161331926819"
    with sql_uow_factory(engine)() as uow:
        uow.scope(B1).accounts.add(Account(f"{B1}-savings", B1, savings_iban, "GBP",
                                           AccountType.SAVINGS, "Savings"))  # fmt: skip
        uow.commit()

    def leg(ref: str, account: str, amount: str, other_iban: str) -> IncomingTransaction:
        return IncomingTransaction(
            account_id=account, booking_date=date(2026, 3, 4), amount=amount, currency="GBP",
            description="TRANSFER OWN ACCOUNT", counterparty_name="Biz One Ltd",
            counterparty_iban=other_iban, bank_reference=ref,
        )  # fmt: skip

    out_leg = _request("t1", leg("T1", f"{B1}-acc", "-500.00", savings_iban))
    in_leg = _request("t2", leg("T2", f"{B1}-savings", "500.00", main_iban))
    a, b = (_ok(o) for o in _run([out_leg, in_leg], services))
    assert a.result is not None and b.result is not None
    ids = {a.result.transaction_ids[0], b.result.transaction_ids[0]}
    assert services.uow_factory is not None
    with services.uow_factory() as uow:
        stored = uow.scope(B1).annotations.for_transactions(sorted(ids))
    pairs = {x.transaction_id: x.evidence.get("other_transaction_id") for x in stored
             if x.kind is AnnotationKind.TRANSFER}  # fmt: skip
    assert set(pairs) == ids
    assert pairs[a.result.transaction_ids[0]] == b.result.transaction_ids[0]
