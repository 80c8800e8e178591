"""The storage layer against real databases (SQLite file, PostgreSQL) and the in-memory fake.

Tests taking ``uow_factory`` run three times (sqlite, postgresql, memory), which keeps the fake
honest: a service test that passes on ``InMemoryUnitOfWork`` behaves the same on SQL.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from ledgerlens.adapters.db import SqlUnitOfWork, create_engine_for, upgrade_database
from ledgerlens.adapters.db.tables import businesses, metadata, transactions
from ledgerlens.core.errors import Conflict
from ledgerlens.core.ledger import (
    Account,
    AccountType,
    Business,
    ConsentGrant,
    Member,
    Purpose,
    Role,
    Statement,
    Transaction,
)

UowFactory = Callable[[], Any]
T0 = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)


def business(bid: str = "biz_a") -> Business:
    return Business(bid, f"Business {bid}", "DE", "EUR", created_at=T0)


def account(bid: str = "biz_a", aid: str = "acc_a1", identifier: str = "DE89370400440532013000"):
    return Account(aid, bid, identifier, "EUR", AccountType.CURRENT, "Main")


def tx(i: int, bid: str = "biz_a", aid: str = "acc_a1", **overrides: Any) -> Transaction:
    fields: dict[str, Any] = {
        "transaction_id": f"{bid}_tx{i:06d}",
        "business_id": bid,
        "account_id": aid,
        "booking_date": date(2026, 1, 1) + timedelta(days=i % 31),
        "value_date": None,
        "amount_minor": -1000 - i,
        "currency": "EUR",
        "description": f"Payment {i}",
        "dedup_key": f"key{i}",
    }
    fields.update(overrides)
    return Transaction(**fields)


def statement(sid: str = "st1", bid: str = "biz_a", aid: str = "acc_a1") -> Statement:
    return Statement(
        statement_id=sid,
        business_id=bid,
        account_id=aid,
        currency="EUR",
        opening_minor=10_000,
        closing_minor=7_000,
        sum_minor=-3_000,
        transaction_count=2,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        source_format="mt940",
        source_path="jan.sta",
        bank_statement_ref="STMT-1",
    )


def seed(uow_factory: UowFactory, *bids: str) -> None:
    """One business per id, each with one account ``acc_<suffix>1``."""
    with uow_factory() as uow:
        for bid in bids:
            uow.businesses.add(business(bid))
            uow.scope(bid).accounts.add(account(bid, f"acc_{bid[-1]}1", f"IBAN-{bid}"))
        uow.commit()


# --- migrations -------------------------------------------------------------------------------


def test_migrations_apply_and_match_metadata(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    upgrade_database(db_url)
    upgrade_database(db_url)  # a second run finds nothing to do
    eng = create_engine_for(db_url)
    try:
        with eng.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
            assert set(inspect(conn).get_table_names()) == {*metadata.tables, "alembic_version"}
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, metadata) == []
    finally:
        eng.dispose()


def _head() -> str:
    """The single head revision of the packaged migrations (a second head would fail here)."""
    from alembic.script import ScriptDirectory

    from ledgerlens.adapters.db.engine import alembic_config

    (head,) = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return str(head)


def _upgrade(url: str) -> None:
    upgrade_database(url)


@pytest.mark.slow
def test_concurrent_upgrades_are_safe(db_url: str) -> None:
    """Every process (CLI, API, workers) migrates at start-up; racing starts must not fail."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_upgrade, args=(db_url,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    eng = create_engine_for(db_url)
    try:
        with eng.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                (_head(),)
            ]
    finally:
        eng.dispose()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Any) -> None:
    eng = create_engine_for(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")  # creates the folder
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        eng.dispose()


# --- repositories: add / get / list -----------------------------------------------------------


def test_businesses_add_get_list_and_conflict(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.businesses.add(business("biz_b"))
        uow.businesses.add(business("biz_a"))
        uow.businesses.add(business("biz_a"))  # adding the identical business is a no-op
        with pytest.raises(Conflict):
            uow.businesses.add(Business("biz_a", "Another name", "DE", "EUR", T0))
        uow.businesses.add(business("biz_c"))  # the unit of work survives the conflict
        uow.commit()
    with uow_factory() as uow:
        got = uow.businesses.get("biz_a")
        assert got == business("biz_a")
        assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == timedelta(0)
        assert [b.business_id for b in uow.businesses.list()] == ["biz_a", "biz_b", "biz_c"]
        assert uow.businesses.get("nope") is None


def test_businesses_page_by_id_after_a_key(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        for bid in ("biz_d", "biz_b", "biz_e", "biz_a", "biz_c"):
            uow.businesses.add(business(bid))
        uow.commit()
    with uow_factory() as uow:
        pages, after = [], None
        while page := uow.businesses.page(after, 2):
            pages.append([b.business_id for b in page])
            after = page[-1].business_id
        assert pages == [["biz_a", "biz_b"], ["biz_c", "biz_d"], ["biz_e"]]
        assert uow.businesses.page("biz_e", 2) == []
        assert uow.businesses.page(None, 1) == [business("biz_a")]


def test_timestamps_round_trip_as_utc_and_naive_is_refused(uow_factory: UowFactory) -> None:
    cest = timezone(timedelta(hours=2))
    local = Business("biz_z", "Z", "DE", "EUR", created_at=datetime(2026, 6, 1, 12, 0, tzinfo=cest))
    with uow_factory() as uow:
        uow.businesses.add(local)
        with pytest.raises(ValueError, match="timezone-aware"):
            uow.businesses.add(Business("biz_n", "N", "DE", "EUR", datetime(2026, 6, 1)))
        uow.commit()
    with uow_factory() as uow:
        created = uow.businesses.get("biz_z").created_at
        assert created == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
        assert created.utcoffset() == timedelta(0)


def test_accounts_and_members(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    usd = Account("acc_a2", "biz_a", "IBAN-biz_a", "USD", AccountType.CURRENCY, "USD pocket")
    with uow_factory() as uow:
        scope = uow.scope("biz_a")
        scope.accounts.add(usd)
        scope.accounts.add(usd)  # identical: a no-op (two importers may create it at once)
        with pytest.raises(Conflict):  # same identifier and currency in one business
            scope.accounts.add(Account("acc_a3", "biz_a", "IBAN-biz_a", "USD"))
        with pytest.raises(Conflict):  # same id, different content
            scope.accounts.add(Account("acc_a2", "biz_a", "IBAN-other", "USD"))
        with pytest.raises(Conflict):  # no such business
            uow.scope("biz_nope").accounts.add(Account("acc_n", "biz_nope", "IBAN-n", "EUR"))
        scope.members.add(Member("mem_2", "biz_a", "Zoe", Role.ACCOUNTANT))
        scope.members.add(Member("mem_1", "biz_a", "Ana", Role.OWNER))
        scope.members.add(Member("mem_1", "biz_a", "Ana", Role.OWNER))
        with pytest.raises(Conflict):
            scope.members.add(Member("mem_1", "biz_a", "Ana", Role.EMPLOYEE))
        uow.commit()
    with uow_factory() as uow:
        scope = uow.scope("biz_a")
        assert scope.accounts.get("acc_a2") == usd
        assert scope.accounts.find("IBAN-biz_a", "USD") == usd
        assert scope.accounts.find("IBAN-biz_a", "GBP") is None
        assert [a.account_id for a in scope.accounts.list()] == ["acc_a1", "acc_a2"]
        assert scope.members.list() == [
            Member("mem_1", "biz_a", "Ana", Role.OWNER),
            Member("mem_2", "biz_a", "Zoe", Role.ACCOUNTANT),
        ]


def test_statements_add_if_new_dedups(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    no_balances = Statement(
        "st2", "biz_a", "acc_a1", "EUR", None, None, 0, 0, None, None, "csv", "x.csv"
    )
    with uow_factory() as uow:
        scope = uow.scope("biz_a")
        assert scope.statements.add_if_new(statement("st1"), "sha:1") is True
        assert scope.statements.add_if_new(statement("st1b"), "sha:1") is False  # same key
        assert scope.statements.add_if_new(statement("st1"), "sha:9") is False  # same id
        assert scope.statements.add_if_new(no_balances, "sha:2") is True
        uow.commit()
    with uow_factory() as uow:
        listed = uow.scope("biz_a").statements.list()
        assert listed == [no_balances, statement("st1")]  # undated first, then by period
        assert uow.scope("biz_a").statements.list("acc_other") == []


def test_transaction_round_trips_every_field(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    full = tx(
        1,
        value_date=date(2026, 1, 3),
        counterparty_name="Müller GmbH",
        counterparty_iban="DE02120300000000202051",
        mcc="5411",
        card_id="411111******1111",
        employee_id="emp_7",
        balance_after_minor=123_456_789_012,
        bank_reference="REF/1",
        bank_tx_code="PMNT-ICDT-ESCT",
        purpose_code="SUPP",
        original_amount_minor=-1_234,
        original_currency="USD",
        statement_id="st1",
        source_path="jan.sta",
        source_line=42,
    )
    with uow_factory() as uow:
        assert uow.scope("biz_a").transactions.add_new([full, tx(2)]) == 2
        uow.commit()
    with uow_factory() as uow:
        scope = uow.scope("biz_a")
        assert scope.transactions.get(full.transaction_id) == full
        assert scope.transactions.get(tx(2).transaction_id) == tx(2)  # statement_id "" kept
        assert scope.transactions.get("missing") is None


def test_consents_grant_withdraw_history(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    later = T0 + timedelta(days=1)
    with uow_factory() as uow:
        consents = uow.scope("biz_a").consents
        consents.grant(ConsentGrant("biz_a", Purpose.INSIGHTS, T0, granted_by="mem_1"))
        consents.grant(ConsentGrant("biz_a", Purpose.OFFERS, T0))
        assert consents.active() == {Purpose.INSIGHTS, Purpose.OFFERS}
        consents.withdraw(Purpose.OFFERS, later)
        uow.commit()
    with uow_factory() as uow:
        consents = uow.scope("biz_a").consents
        assert consents.active() == {Purpose.INSIGHTS}
        assert consents.history() == [
            ConsentGrant("biz_a", Purpose.INSIGHTS, T0, None, "mem_1"),
            ConsentGrant("biz_a", Purpose.OFFERS, T0, later, ""),
        ]
        with pytest.raises(TypeError):
            consents.withdraw(Purpose.INSIGHTS, "yesterday")


def test_import_files_record_and_list(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    with uow_factory() as uow:
        uow.scope("biz_a").imports.record("ab" * 32, "jan.sta", "mt940", 10, 7)
        uow.scope("biz_a").imports.record("cd" * 32, "feb.sta", "mt940", 5, 0)
        uow.commit()
    with uow_factory() as uow:
        rows = uow.scope("biz_a").imports.list()
    assert [(r["path"], r["transactions"], r["new"]) for r in rows] == [
        ("jan.sta", 10, 7),
        ("feb.sta", 5, 0),
    ]
    assert rows[0]["sha256"] == "ab" * 32 and rows[0]["format"] == "mt940"
    assert isinstance(rows[0]["imported_at"], datetime) and rows[0]["imported_at"].tzinfo


# --- add_new: de-duplication and exact counts ------------------------------------------------


def test_add_new_is_idempotent_and_counts_exactly(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    batch = [tx(i) for i in range(120)]
    with uow_factory() as uow:
        repo = uow.scope("biz_a").transactions
        assert repo.add_new(batch, batch_size=50) == 120
        assert repo.add_new(batch, batch_size=50) == 0  # same batch twice: nothing new
        overlap = [tx(i) for i in range(100, 150)]  # 20 known, 30 new
        assert repo.add_new(overlap) == 30
        # same key inside one batch (another id): stored once
        twins = [tx(500), tx(501, dedup_key="key500")]
        assert repo.add_new(twins) == 1
        # same transaction_id with another key counts as a duplicate too
        assert repo.add_new([tx(7, dedup_key="other")]) == 0
        assert repo.add_new([]) == 0
        uow.commit()
    with uow_factory() as uow:
        assert uow.scope("biz_a").transactions.count() == 151
        assert uow.scope("biz_a").transactions.count("acc_a1") == 151


def test_add_new_without_dedup_key_dedups_on_transaction_id(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    keyless = [tx(1, dedup_key=""), tx(2, dedup_key="")]
    with uow_factory() as uow:
        repo = uow.scope("biz_a").transactions
        assert repo.add_new(keyless) == 2
        assert repo.add_new(keyless) == 0
        assert repo.get(tx(1).transaction_id).dedup_key == tx(1).transaction_id


def test_card_numbers_are_refused_masked_ones_kept(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    with uow_factory() as uow:
        repo = uow.scope("biz_a").transactions
        for pan in ("4111111111111111", "4111 1111 1111 1111", "card 5500-0000-0000-0004"):
            with pytest.raises(ValueError, match="not masked"):
                repo.add_new([tx(1), tx(2, card_id=pan)])
        assert repo.count() == 0  # a refused batch writes nothing
        masked = [tx(3, card_id="XXXX XXXX XXXX 1111"), tx(4, card_id="4111**1111")]
        assert repo.add_new(masked) == 2


def test_database_check_refuses_card_numbers_behind_the_repository(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.businesses.add(business("biz_a"))
        uow.scope("biz_a").accounts.add(account())
        row = {
            "transaction_id": "t1", "business_id": "biz_a", "account_id": "acc_a1",
            "dedup_key": "k", "booking_date": date(2026, 1, 1), "amount_minor": 1,
            "currency": "EUR", "description": "", "counterparty_name": "",
            "counterparty_iban": "", "mcc": "", "card_id": "4111111111111111",
            "employee_id": "", "bank_reference": "", "bank_tx_code": "", "purpose_code": "",
            "original_currency": "", "source_path": "", "source_line": 0, "imported_at": T0,
        }  # fmt: skip
        with pytest.raises(IntegrityError):
            uow.connection.execute(insert(transactions), row)


# --- ordering and listing ---------------------------------------------------------------------


def test_list_filters_and_iter_all_canonical_order(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    with uow_factory() as uow:
        uow.scope("biz_a").accounts.add(Account("acc_a0", "biz_a", "IBAN-0", "EUR"))
        uow.commit()
    d1, d2, d3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    arrivals = [
        tx(1, booking_date=d3),
        tx(2, booking_date=d1),
        tx(3, booking_date=d3, aid="acc_a0"),
        tx(4, booking_date=d1),  # same day as tx2, arrived later
        tx(5, booking_date=d2, aid="acc_a0"),
        tx(6, booking_date=d1, aid="acc_a0"),
    ]
    with uow_factory() as uow:
        assert uow.scope("biz_a").transactions.add_new(arrivals) == 6
        uow.commit()
    expected = [6, 5, 3, 2, 4, 1]  # by (account, booking date, arrival)
    with uow_factory() as uow:
        repo = uow.scope("biz_a").transactions
        ids = [t.transaction_id for t in repo.iter_all(batch_size=2)]
        assert ids == [tx(i).transaction_id for i in expected]
        assert [t.transaction_id for t in repo.list()] == ids
        in_a1 = repo.list(account_id="acc_a1", since=d1, until=d2)
        assert [t.transaction_id for t in in_a1] == [tx(2).transaction_id, tx(4).transaction_id]
        assert [t.transaction_id for t in repo.list(since=d2)] == [
            tx(i).transaction_id for i in (5, 3, 1)
        ]
        assert len(repo.list(limit=4)) == 4


# --- business scoping -------------------------------------------------------------------------


def _populate(uow_factory: UowFactory, bid: str, aid: str) -> None:
    with uow_factory() as uow:
        scope = uow.scope(bid)
        scope.members.add(Member(f"mem_{bid}", bid, "Owner", Role.OWNER))
        scope.statements.add_if_new(statement(f"st_{bid}", bid, aid), f"sha:{bid}")
        scope.transactions.add_new([tx(i, bid, aid) for i in range(5)])
        scope.consents.grant(ConsentGrant(bid, Purpose.INSIGHTS, T0))
        scope.imports.record("ef" * 32, "x.sta", "mt940", 5, 5)
        uow.commit()


def test_scope_cannot_read_another_business(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a", "biz_b")
    _populate(uow_factory, "biz_a", "acc_a1")
    with uow_factory() as uow:
        own, other = uow.scope("biz_a"), uow.scope("biz_b")
        assert own.transactions.count() == 5  # the rows exist...
        assert other.accounts.get("acc_a1") is None  # ...but not for biz_b
        assert other.accounts.find("IBAN-biz_a", "EUR") is None
        assert [a.account_id for a in other.accounts.list()] == ["acc_b1"]
        assert other.members.list() == []
        assert other.statements.list() == [] and other.statements.list("acc_a1") == []
        assert other.transactions.get(tx(0, "biz_a").transaction_id) is None
        assert other.transactions.count() == 0 and other.transactions.count("acc_a1") == 0
        assert other.transactions.list() == [] and other.transactions.list("acc_a1") == []
        assert list(other.transactions.iter_all()) == []
        assert other.consents.active() == set() and other.consents.history() == []
        assert other.imports.list() == []


def test_scope_cannot_write_for_another_business(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a", "biz_b")
    with uow_factory() as uow:
        b = uow.scope("biz_b")
        refusals: list[Callable[[], object]] = [
            lambda: b.accounts.add(Account("acc_x", "biz_a", "IBAN-X", "EUR")),
            lambda: b.members.add(Member("mem_x", "biz_a", "Eve", Role.OWNER)),
            lambda: b.statements.add_if_new(statement("st_x", "biz_a", "acc_a1"), "k"),
            # own business id, but pointing at biz_a's account
            lambda: b.statements.add_if_new(statement("st_y", "biz_b", "acc_a1"), "k"),
            lambda: b.transactions.add_new([tx(1, "biz_a", "acc_a1")]),
            lambda: b.transactions.add_new([tx(1, "biz_b", "acc_b1"), tx(2, "biz_b", "acc_a1")]),
            lambda: b.transactions.add_new([tx(1, "biz_b", "acc_missing")]),
            lambda: b.consents.grant(ConsentGrant("biz_a", Purpose.OFFERS, T0)),
        ]
        for attempt in refusals:
            with pytest.raises(ValueError):
                attempt()
        uow.commit()
    with uow_factory() as uow:
        a, b = uow.scope("biz_a"), uow.scope("biz_b")
        assert [x.account_id for x in a.accounts.list()] == ["acc_a1"]
        assert a.members.list() == [] and b.members.list() == []
        assert a.statements.list() == [] and b.statements.list() == []
        assert a.transactions.count() == 0 and b.transactions.count() == 0
        assert a.consents.history() == [] and b.consents.history() == []


# --- unit of work -----------------------------------------------------------------------------


def test_exception_rolls_back_everything(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    with pytest.raises(RuntimeError, match="boom"), uow_factory() as uow:
        uow.scope("biz_a").transactions.add_new([tx(i) for i in range(10)])
        uow.businesses.add(business("biz_new"))
        raise RuntimeError("boom")
    with uow_factory() as uow:
        assert uow.scope("biz_a").transactions.count() == 0
        assert uow.businesses.get("biz_new") is None


def test_commit_rollback_and_uncommitted_exit(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a")
    with uow_factory() as uow:
        repo = uow.scope("biz_a").transactions
        repo.add_new([tx(1)])
        uow.commit()
        repo.add_new([tx(2)])
        uow.rollback()
        assert repo.count() == 1
        repo.add_new([tx(3)])  # the unit of work goes on after commit/rollback...
        uow.commit()
        repo.add_new([tx(4)])  # ...and this is never committed
    with uow_factory() as uow:
        stored = {t.transaction_id for t in uow.scope("biz_a").transactions.list()}
        assert stored == {tx(1).transaction_id, tx(3).transaction_id}


def test_unit_of_work_must_be_entered(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError, match="with"):
        uow.businesses.list()
    with pytest.raises(RuntimeError, match="with"):
        uow.commit()


def test_sqlite_writers_queue_and_readers_do_not(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'ro.db'}"
    upgrade_database(url)
    eng = create_engine_for(url)
    impatient = create_engine_for(url, sqlite_busy_timeout_ms=50)
    try:
        with SqlUnitOfWork(eng) as writer:
            writer.businesses.add(business("biz_a"))  # holds the write lock (BEGIN IMMEDIATE)
            with SqlUnitOfWork(impatient, read_only=True) as reader:
                assert reader.businesses.list() == []  # reads the last committed state at once
            with SqlUnitOfWork(impatient) as other_writer, pytest.raises(OperationalError) as err:
                other_writer.businesses.list()  # even a read starts BEGIN IMMEDIATE: waits
            assert "locked" in str(err.value)
            writer.commit()
        with SqlUnitOfWork(impatient) as other_writer:  # the lock is free again
            assert [b.business_id for b in other_writer.businesses.list()] == ["biz_a"]
    finally:
        eng.dispose()
        impatient.dispose()


# --- erasure ----------------------------------------------------------------------------------


def test_delete_business_erases_every_row(uow_factory: UowFactory) -> None:
    seed(uow_factory, "biz_a", "biz_b")
    _populate(uow_factory, "biz_a", "acc_a1")
    _populate(uow_factory, "biz_b", "acc_b1")
    with uow_factory() as uow:
        uow.businesses.delete("biz_a")
        uow.businesses.delete("biz_unknown")  # erasure is idempotent
        uow.commit()
    with uow_factory() as uow:
        assert uow.businesses.get("biz_a") is None
        a, b = uow.scope("biz_a"), uow.scope("biz_b")
        assert a.accounts.list() == [] and a.members.list() == []
        assert a.statements.list() == [] and a.transactions.count() == 0
        assert a.consents.history() == [] and a.imports.list() == []
        assert b.transactions.count() == 5 and len(b.statements.list()) == 1  # b untouched
        assert len(b.members.list()) == 1 and len(b.imports.list()) == 1
        conn = getattr(uow, "connection", None)
        if conn is not None:  # SQL: no row of biz_a left in any table, looked at directly
            for table in metadata.sorted_tables:
                left = conn.execute(
                    select(func.count()).select_from(table).where(table.c.business_id == "biz_a")
                ).scalar_one()
                assert left == 0, table.name
            assert conn.execute(select(func.count()).select_from(businesses)).scalar_one() == 1


# --- concurrency ------------------------------------------------------------------------------

CONCURRENT_ROWS = 20_000


def _concurrent_writer(url: str, one_transaction: bool, barrier: Any, results: Any) -> None:
    """Child process: insert the same CONCURRENT_ROWS transactions as its sibling."""
    engine = create_engine_for(url)
    try:
        batch = [tx(i, "biz_a", "acc_a1") for i in range(CONCURRENT_ROWS)]
        step = CONCURRENT_ROWS if one_transaction else 2_000
        new = 0
        barrier.wait(timeout=60)
        for start in range(0, CONCURRENT_ROWS, step):
            with SqlUnitOfWork(engine) as uow:
                new += uow.scope("biz_a").transactions.add_new(batch[start : start + step])
                uow.commit()
        results.put(new)
    except Exception as exc:  # noqa: BLE001 -- report to the parent instead of dying silently
        results.put(repr(exc))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_processes_insert_the_same_rows_exactly_once(engine: Engine, db_url: str) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.businesses.add(business("biz_a"))
        uow.scope("biz_a").accounts.add(account())
        uow.commit()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=_concurrent_writer, args=(db_url, one_tx, barrier, results))
        for one_tx in (False, True)  # one commits every 2,000 rows, one commits once
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    assert all(isinstance(n, int) for n in outcomes), outcomes
    assert sum(outcomes) == CONCURRENT_ROWS
    with SqlUnitOfWork(engine) as uow:
        assert uow.scope("biz_a").transactions.count() == CONCURRENT_ROWS
