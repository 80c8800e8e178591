"""The known-items store (open invoices, scheduled payments) on SQLite, PostgreSQL and the fake:
upsert / get / list / set_status, the rules every adapter enforces, tenant scoping, erasure,
and the insights refresh reading the open ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from ledgerlens.core.errors import Conflict, ValidationError
from ledgerlens.core.ledger import Account, AccountType, Business
from ledgerlens.core.ports import KnownItemRecord

UowFactory = Callable[[], Any]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _seed(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        for bid, acc, ccy in (("biz_a", "acc_a1", "GBP"), ("biz_b", "acc_b1", "EUR")):
            uow.businesses.add(Business(bid, f"Business {bid}", "GB", ccy, created_at=T0))
            uow.scope(bid).accounts.add(
                Account(acc, bid, f"GB29NWBK6016133192{bid[-1]}", ccy, AccountType.CURRENT, "M")
            )
        uow.commit()


def item(item_id: str = "inv-1", **kw: Any) -> KnownItemRecord:
    fields: dict[str, Any] = {
        "business_id": "biz_a", "item_id": item_id, "kind": "invoice", "account_id": "acc_a1",
        "due_date": date(2026, 3, 20), "amount_minor": 420_000, "currency": "GBP",
        "counterparty": "Brightside Events Ltd", "reference": "INV-1042",
    }  # fmt: skip
    fields.update(kw)
    return KnownItemRecord(**fields)


def test_upsert_get_list_and_status_changes(uow_factory: UowFactory) -> None:
    _seed(uow_factory)
    with uow_factory() as uow:
        known = uow.scope("biz_a").known_items
        stored, changed = known.upsert(item(), T0)
        assert changed and stored.status == "open" and stored.created_at == T0
        pay = item("so-1", kind="scheduled", amount_minor=-840_000, due_date=date(2026, 3, 10))
        known.upsert(pay, T0)
        uow.commit()
    with uow_factory() as uow:
        known = uow.scope("biz_a").known_items
        got = known.get("inv-1")
        assert got is not None and got.same_content(item()) and got.created_at == T0
        assert got.updated_at == T0 and got.due_date == date(2026, 3, 20)
        assert got.amount_minor == 420_000 and isinstance(got.amount_minor, int)
        assert [r.item_id for r in known.list()] == ["so-1", "inv-1"]  # by due date
        assert known.get("nope") is None
        # the same content again: nothing changes, not even updated_at
        later = T0 + timedelta(hours=1)
        again, changed = known.upsert(item(), later)
        assert not changed and again.updated_at == T0
        # a replace keeps created_at and moves updated_at
        replaced, changed = known.upsert(item(amount_minor=500_000), later)
        assert changed and replaced.created_at == T0 and replaced.updated_at == later
        settled = known.set_status("inv-1", "settled", later)
        assert settled is not None and settled.status == "settled"
        assert known.set_status("inv-1", "settled", later + timedelta(1)) == settled  # no-op
        with pytest.raises(Conflict):
            known.set_status("inv-1", "cancelled", later)  # settled is final
        with pytest.raises(Conflict):
            known.upsert(item(amount_minor=1), later)  # so is its content
        assert not known.upsert(item(amount_minor=500_000), later)[1]  # re-sent unchanged: ok
        assert known.set_status("nope", "settled", later) is None
        cancelled = known.set_status("so-1", "cancelled", later)
        assert cancelled is not None and cancelled.status == "cancelled"
        uow.commit()
    with uow_factory() as uow:
        known = uow.scope("biz_a").known_items
        assert known.list() == []  # settled and cancelled stop counting
        assert {r.status for r in known.list(status=None)} == {"settled", "cancelled"}
        assert [r.item_id for r in known.list(status="settled")] == ["inv-1"]
        stored = known.get("inv-1")
        assert stored is not None and stored.amount_minor == 500_000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account_id": "acc_b1", "currency": "EUR"}, "account_id"),  # another tenant's account
        ({"account_id": "acc_zz"}, "account_id"),
        ({"currency": "EUR"}, "currency"),
        ({"amount_minor": 0}, "amount"),
        ({"amount_minor": -5}, "amount"),
        ({"kind": "loan"}, "kind"),
        ({"status": "paid"}, "status"),
    ],
)
def test_the_rules_refuse_bad_items(
    uow_factory: UowFactory, change: dict[str, Any], field: str
) -> None:
    _seed(uow_factory)
    with uow_factory() as uow:
        with pytest.raises(ValidationError, match=field):
            uow.scope("biz_a").known_items.upsert(item(**change), T0)
        assert uow.scope("biz_a").known_items.list(status=None) == []


def test_a_scheduled_payment_may_be_either_sign_and_naive_times_are_refused(
    uow_factory: UowFactory,
) -> None:
    _seed(uow_factory)
    with uow_factory() as uow:
        known = uow.scope("biz_a").known_items
        assert known.upsert(item("in", kind="scheduled", amount_minor=100), T0)[1]
        assert known.upsert(item("out", kind="scheduled", amount_minor=-100), T0)[1]
        with pytest.raises(ValueError, match="aware"):
            known.upsert(item("x"), T0.replace(tzinfo=None))
        with pytest.raises(ValueError):  # a scope writes only its own tenant's rows
            known.upsert(item(business_id="biz_b"), T0)


def test_items_are_scoped_and_erased_with_their_business(uow_factory: UowFactory) -> None:
    _seed(uow_factory)
    with uow_factory() as uow:
        uow.scope("biz_a").known_items.upsert(item(), T0)
        b = item(business_id="biz_b", account_id="acc_b1", currency="EUR")
        uow.scope("biz_b").known_items.upsert(b, T0)
        uow.commit()
    with uow_factory() as uow:
        assert [r.business_id for r in uow.scope("biz_b").known_items.list()] == ["biz_b"]
        assert (
            uow.scope("biz_b").known_items.get("inv-1") == uow.scope("biz_b").known_items.list()[0]
        )
        assert uow.scope("biz_b").known_items.set_status("inv-1", "settled", T0) is not None
        a = uow.scope("biz_a").known_items.get("inv-1")
        assert a is not None and a.status == "open"  # B's settle left A's item alone
        uow.rollback()
        if hasattr(uow, "connection"):  # SQL: the business's export carries its items
            exported = uow.scope("biz_a").insights.export_tables()["known_items"]
            assert [r["item_id"] for r in exported] == ["inv-1"]
        uow.businesses.delete("biz_a")
        uow.commit()
    with uow_factory() as uow:
        assert uow.scope("biz_a").known_items.list(status=None) == []
        assert len(uow.scope("biz_b").known_items.list()) == 1
        if hasattr(uow, "connection"):  # SQL: no row of the erased business is left
            from ledgerlens.adapters.db.known_item_tables import known_items

            n = uow.connection.execute(
                select(func.count()).where(known_items.c.business_id == "biz_a")
            ).scalar()
            assert n == 0


def test_the_database_refuses_an_invoice_that_is_not_money_in(engine: Engine) -> None:
    """The check constraint holds even for a writer that bypasses the repository (SQL only:
    ``engine`` runs on SQLite and PostgreSQL)."""
    from ledgerlens.adapters.db.known_item_tables import known_items
    from ledgerlens.adapters.db.unit_of_work import sql_uow_factory

    _seed(sql_uow_factory(engine))
    row = {
        "business_id": "biz_a", "item_id": "raw", "kind": "invoice", "account_id": "acc_a1",
        "counterparty": "", "due_date": date(2026, 3, 1), "amount_minor": -1,
        "currency": "GBP", "reference": "", "label": "", "status": "open",
        "created_at": T0, "updated_at": T0,
    }  # fmt: skip
    with engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(insert(known_items), row)


def test_the_insights_refresh_reads_the_open_items(uow_factory: UowFactory) -> None:
    """``pipeline_insights._snapshot`` fills open_invoices / scheduled from the store: an
    overdue invoice counts, a scheduled payment already due is dropped, settled ones not."""
    from ledgerlens.consent.model import ConsentState
    from ledgerlens.core.ledger import Transaction
    from ledgerlens.pipeline_insights import _snapshot

    _seed(uow_factory)
    as_of = date(2026, 3, 5)
    with uow_factory() as uow:
        scope = uow.scope("biz_a")
        scope.transactions.add_new([
            Transaction(
                transaction_id="t1", business_id="biz_a", account_id="acc_a1",
                booking_date=as_of, value_date=None, amount_minor=-100, currency="GBP",
                description="x", dedup_key="k1",
            )
        ])  # fmt: skip
        known = scope.known_items
        known.upsert(item("overdue", due_date=date(2026, 2, 1)), T0)
        known.upsert(item("later", due_date=date(2026, 4, 1)), T0)
        known.upsert(item("gone", due_date=date(2026, 4, 2)), T0)
        known.set_status("gone", "settled", T0)
        known.upsert(item("so-past", kind="scheduled", amount_minor=-9, due_date=as_of), T0)
        known.upsert(
            item("so-next", kind="scheduled", amount_minor=-7, due_date=date(2026, 3, 6)), T0
        )
        business = uow.businesses.get("biz_a")
        snap = _snapshot(scope, business, ConsentState("biz_a", frozenset()), None)
        later = _snapshot(scope, business, ConsentState("biz_a", frozenset()), date(2026, 3, 10))
    assert sorted(i.reference for i in snap.open_invoices) == ["INV-1042", "INV-1042"]
    assert sorted(i.due_date for i in snap.open_invoices) == [date(2026, 2, 1), date(2026, 4, 1)]
    assert [(p.due_date, p.amount_minor) for p in snap.scheduled] == [(date(2026, 3, 6), -7)]
    assert later.scheduled == [] and len(later.open_invoices) == 2


def test_same_content_ignores_timestamps() -> None:
    a = item()
    assert a.same_content(dataclasses.replace(a, created_at=T0, updated_at=T0))
    assert not a.same_content(dataclasses.replace(a, amount_minor=1))
