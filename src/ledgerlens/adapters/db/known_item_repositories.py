"""``core.ports.KnownItemRepository`` over SQL: a business's open invoices and scheduled
payments (``known_items``), every query filtered by the scope's business.

The rules (kinds, statuses, the account and its currency, an invoice's sign, what a replace
or a status change may do) are ``core.ports.check_known_item`` / ``merge_known_item`` /
``change_known_item_status``, shared with the in-memory fake, so both refuse the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledgerlens.adapters.db.guards import ensure_aware, ensure_same_business
from ledgerlens.adapters.db.known_item_tables import known_items
from ledgerlens.adapters.db.tables import accounts
from ledgerlens.core.ledger import Account, AccountType
from ledgerlens.core.ports import (
    KnownItemRecord,
    KnownItemStatus,
    change_known_item_status,
    check_known_item,
    merge_known_item,
)

__all__ = ["SqlKnownItemRepository"]

ConnectionSource = Callable[[], Connection]
_T = known_items


def _record(row: Any) -> KnownItemRecord:
    m = row._mapping
    return KnownItemRecord(
        business_id=m["business_id"], item_id=m["item_id"], kind=m["kind"],
        account_id=m["account_id"], due_date=m["due_date"], amount_minor=int(m["amount_minor"]),
        currency=m["currency"], counterparty=m["counterparty"], reference=m["reference"],
        label=m["label"], status=m["status"], created_at=m["created_at"],
        updated_at=m["updated_at"],
    )  # fmt: skip


def _row(r: KnownItemRecord) -> dict[str, Any]:
    return {
        "business_id": r.business_id, "item_id": r.item_id, "kind": r.kind,
        "account_id": r.account_id, "counterparty": r.counterparty, "due_date": r.due_date,
        "amount_minor": int(r.amount_minor), "currency": r.currency, "reference": r.reference,
        "label": r.label, "status": r.status, "created_at": r.created_at,
        "updated_at": r.updated_at,
    }  # fmt: skip


class SqlKnownItemRepository:
    def __init__(self, connection: ConnectionSource, business_id: str) -> None:
        self._conn = connection
        self.business_id = business_id

    def _account(self, account_id: str) -> Account | None:
        row = (
            self._conn()
            .execute(
                select(accounts).where(
                    accounts.c.account_id == account_id,
                    accounts.c.business_id == self.business_id,
                )
            )
            .first()
        )
        if row is None:
            return None
        return Account(row[0], row[1], row[2], row[3], AccountType(row[4]), row[5])

    def _stored(self, item_id: str, *, lock: bool = False) -> KnownItemRecord | None:
        stmt = select(_T).where(_T.c.business_id == self.business_id, _T.c.item_id == item_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self._conn().execute(stmt).first()
        return _record(row) if row is not None else None

    def upsert(self, item: KnownItemRecord, now: datetime) -> tuple[KnownItemRecord, bool]:
        ensure_same_business(self.business_id, item.business_id, f"known item {item.item_id!r}")
        ensure_aware(now, "known item timestamp")
        check_known_item(item, self._account(item.account_id))
        conn = self._conn()
        stored = self._stored(item.item_id, lock=True)
        out, changed = merge_known_item(stored, item, now)
        if not changed:
            return out, False
        if stored is None:
            try:
                with conn.begin_nested():  # a concurrent first PUT of the same id
                    conn.execute(insert(_T), _row(out))
                return out, True
            except IntegrityError:
                stored = self._stored(item.item_id, lock=True)
                if stored is None:
                    raise
                out, changed = merge_known_item(stored, item, now)
                if not changed:
                    return out, False
        values = {k: v for k, v in _row(out).items() if k not in ("business_id", "item_id")}
        conn.execute(
            update(_T)
            .where(_T.c.business_id == self.business_id, _T.c.item_id == item.item_id)
            .values(**values)
        )
        return out, True

    def get(self, item_id: str) -> KnownItemRecord | None:
        return self._stored(item_id)

    def list(self, status: KnownItemStatus | None = "open") -> list[KnownItemRecord]:
        stmt = select(_T).where(_T.c.business_id == self.business_id)
        if status is not None:
            stmt = stmt.where(_T.c.status == status)
        stmt = stmt.order_by(_T.c.due_date, _T.c.item_id)
        return [_record(r) for r in self._conn().execute(stmt)]

    def set_status(
        self, item_id: str, status: KnownItemStatus, now: datetime
    ) -> KnownItemRecord | None:
        ensure_aware(now, "known item timestamp")
        stored = self._stored(item_id, lock=True)
        if stored is None:
            return None
        out, changed = change_known_item_status(stored, status, now)
        if changed:
            self._conn().execute(
                update(_T)
                .where(_T.c.business_id == self.business_id, _T.c.item_id == item_id)
                .values(status=out.status, updated_at=out.updated_at)
            )
        return out
