"""SQL store of the notification outbox (``explain.outbox.Outbox``) on SQLite and PostgreSQL.

Exactly-once rests on two statements, both safe under concurrent dispatchers:

* ``enqueue`` is ``INSERT … ON CONFLICT DO NOTHING`` on the row id, which is a hash of the
  unique key ``(business, kind, period_key, channel)`` (and the unique constraint backs it):
  two dispatchers building the same digest create one row.
* ``claim`` is a conditional ``UPDATE … WHERE status = 'pending' AND not_before <= now`` (or a
  claim whose lease ran out): the database lets exactly one caller change the row; the other
  sees ``rowcount = 0`` and skips it. The caller commits the claim *before* sending, so the
  network call runs outside any transaction and a crash leaves a lease that expires.

Bound to one business, like every repository: reached as ``scope.insights.outbox`` (it
shares the unit of work's connection, so rows are queued atomically with the insights they
announce), and every statement filters on that business; the dispatcher walks the businesses
one scope at a time.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledgerlens.adapters.db.guards import ensure_aware
from ledgerlens.adapters.db.outbox_tables import notification_outbox as t
from ledgerlens.explain.outbox import OutboxItem, OutboxStatus

__all__ = ["SqlOutbox"]

ConnectionSource = Callable[[], Connection]


def _row(i: OutboxItem, now: datetime) -> dict[str, Any]:
    return {
        "outbox_id": i.outbox_id,
        "business_id": i.business_id,
        "kind": i.kind,
        "period_key": i.period_key,
        "channel": str(i.channel),
        "purpose": str(i.purpose),
        "topic": i.topic,
        "reference": i.reference,
        "status": str(i.status),
        "not_before": i.not_before,
        "lease_until": i.lease_until,
        "attempts": i.attempts,
        "last_error": i.last_error[:64],
        "subject": i.subject,
        "body_text": i.text,
        "body_html": i.html,
        "payload": json.dumps(i.payload, sort_keys=True, default=str),
        "created_at": now,
        "updated_at": now,
        "sent_at": i.sent_at,
    }


def _item(r: Any) -> OutboxItem:
    return OutboxItem(
        r.business_id,
        r.kind,
        r.period_key,
        r.channel,
        r.purpose,
        r.topic,
        r.reference,
        r.not_before,
        r.subject,
        r.body_text,
        r.body_html,
        json.loads(r.payload),
        OutboxStatus(r.status),
        r.attempts,
        r.last_error,
        r.created_at,
        r.sent_at,
        r.lease_until,
    )


class SqlOutbox:
    """One business's outbox over the unit of work's connection.

    Bound to the business of the scope it is reached from: every statement filters on it, and
    a call naming another business, or an item of another business, is refused — a row id
    from elsewhere can neither be read, claimed nor finished through it.
    """

    def __init__(self, connection: ConnectionSource, business_id: str) -> None:
        self._conn = connection
        self.business_id = business_id

    def _own(self, business_id: str) -> None:
        if business_id != self.business_id:
            raise ValueError("outbox of another business")

    def enqueue(self, items: Sequence[OutboxItem], now: datetime) -> int:
        ensure_aware(now, "now")
        for i in items:
            self._own(i.business_id)
        rows = [_row(i, now) for i in items]
        if not rows:
            return 0
        conn = self._conn()
        dialect = conn.dialect.name
        if dialect == "sqlite":
            stmt: Any = sqlite_insert(t).on_conflict_do_nothing()
        elif dialect == "postgresql":
            stmt = pg_insert(t).on_conflict_do_nothing()
        else:  # pragma: no cover - the two supported databases
            raise NotImplementedError(f"no outbox for dialect {dialect!r}")
        stmt = stmt.returning(t.c.outbox_id)  # rowcount is not portable for DO NOTHING
        return sum(len(conn.execute(stmt, row).all()) for row in rows)

    def exists(self, business_id: str, kind: str, period_key: str) -> bool:
        self._own(business_id)
        c = t.c
        stmt = select(c.outbox_id).where(
            c.business_id == business_id, c.kind == kind, c.period_key == period_key
        )
        return self._conn().execute(stmt.limit(1)).first() is not None

    def _due_clause(self, now: datetime) -> Any:
        c = t.c
        return or_(
            and_(c.status == str(OutboxStatus.PENDING), c.not_before <= now),
            and_(c.status == str(OutboxStatus.SENDING), c.lease_until <= now),
        )

    def due(self, now: datetime, business_id: str | None = None, limit: int = 100) -> list[str]:
        ensure_aware(now, "now")
        if business_id is not None:
            self._own(business_id)
        c = t.c
        stmt = select(c.outbox_id).where(self._due_clause(now), c.business_id == self.business_id)
        stmt = stmt.order_by(c.not_before, c.outbox_id).limit(limit)
        return list(self._conn().execute(stmt).scalars())

    def claim(self, outbox_id: str, now: datetime, lease_until: datetime) -> OutboxItem | None:
        ensure_aware(now, "now")
        conn = self._conn()
        res = conn.execute(
            update(t)
            .where(
                t.c.outbox_id == outbox_id,
                t.c.business_id == self.business_id,
                self._due_clause(now),
            )
            .values(status=str(OutboxStatus.SENDING), lease_until=lease_until, updated_at=now)
        )
        if not res.rowcount:
            return None
        row = conn.execute(select(t).where(t.c.outbox_id == outbox_id)).one()
        return _item(row)

    def finish(
        self,
        outbox_id: str,
        status: OutboxStatus,
        now: datetime,
        *,
        reason: str = "",
        attempts: int | None = None,
        not_before: datetime | None = None,
    ) -> None:
        ensure_aware(now, "now")
        values: dict[str, Any] = {
            "status": str(status),
            "lease_until": None,
            "updated_at": now,
            "last_error": reason[:64],
        }
        if attempts is not None:
            values["attempts"] = attempts
        if not_before is not None:
            values["not_before"] = not_before
        if status is OutboxStatus.SENT:
            values["sent_at"] = now
        self._conn().execute(
            update(t)
            .where(t.c.outbox_id == outbox_id, t.c.business_id == self.business_id)
            .values(**values)
        )

    def forget(self, business_id: str, purpose: str) -> int:
        """Delete every row of the business queued or sent for ``purpose`` (consent withdrawn:
        unsent ones are not sent, and the message texts derived for it are gone)."""
        self._own(business_id)
        res = self._conn().execute(
            delete(t).where(t.c.business_id == business_id, t.c.purpose == str(purpose))
        )
        return int(res.rowcount or 0)

    def list(self, business_id: str) -> builtins.list[OutboxItem]:
        self._own(business_id)
        c = t.c
        stmt = select(t).where(c.business_id == business_id).order_by(c.created_at, c.outbox_id)
        return [_item(r) for r in self._conn().execute(stmt)]

    def latest(self, business_id: str, kind: str, channel: str = "in_app") -> OutboxItem | None:
        """The newest sent row of ``kind`` on ``channel`` (the app shows the last digest)."""
        self._own(business_id)
        c = t.c
        stmt = (
            select(t)
            .where(
                c.business_id == business_id,
                c.kind == kind,
                c.channel == channel,
                c.status == str(OutboxStatus.SENT),
            )
            .order_by(c.sent_at.desc(), c.outbox_id)
            .limit(1)
        )
        row = self._conn().execute(stmt).first()
        return _item(row) if row is not None else None
