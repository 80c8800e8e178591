"""Idempotency records in SQL: reserve a key first, then store the first response under it.

The protocol (DESIGN.md §7), carried out by ``serve.idempotency``:

1. ``reserve`` inserts a *pending* row keyed by (business, token subject, key). The primary key
   makes the insert the arbiter: among concurrent identical requests exactly one insert
   succeeds (SQLite serializes writers with BEGIN IMMEDIATE; PostgreSQL makes the second
   ``INSERT … ON CONFLICT DO NOTHING`` wait for the first to commit, then skip). The reservation
   is committed at once, before the work starts, so the others can see it.
2. The winner does the work and calls ``complete`` with the response; a failure that must not
   be replayed (5xx) calls ``release`` so that a retry may run.
3. Everyone else gets ``replay`` (same payload, finished), ``mismatch`` (another payload under
   that key) or ``in_progress`` (still running: wait and ask again).

A reservation older than ``lease_seconds`` whose owner never finished (the process died) may be
taken over by the next request with the same payload; the effects behind it are idempotent
themselves (transactions and statements are de-duplicated by the database), so a retried
half-done request is safe. Lookups that do not need to write use a deferred (read-only)
transaction on SQLite, so waiting clients never queue behind writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, Engine, and_, delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from ledgerlens.adapters.db.api_tables import idempotency_keys
from ledgerlens.adapters.db.bulk import insert_ignoring_duplicates
from ledgerlens.adapters.db.engine import SQLITE_BEGIN_OPTION
from ledgerlens.core.errors import StorageError
from ledgerlens.core.ledger import utc_now

__all__ = ["Reservation", "ReservationState", "SqlIdempotencyStore"]

ReservationState = Literal["new", "replay", "mismatch", "in_progress"]
_T = idempotency_keys.c


@dataclass(frozen=True, slots=True)
class Reservation:
    """What ``reserve`` found: go ahead (``new``), or the stored first response (``replay``)."""

    state: ReservationState
    status_code: int | None = None
    content_type: str | None = None
    body: str | None = None


class SqlIdempotencyStore:
    """Idempotency records on SQLite or PostgreSQL (``idempotency_keys``)."""

    def __init__(self, engine: Engine, *, lease_seconds: float = 300.0) -> None:
        self._engine = engine
        self._lease = timedelta(seconds=lease_seconds)

    def _connect(self, read_only: bool = False) -> Connection:
        try:
            conn = self._engine.connect()
        except (OperationalError, InterfaceError) as exc:
            raise StorageError(f"database unavailable: {type(exc.orig).__name__}") from exc
        if read_only and conn.dialect.name == "sqlite":
            conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        return conn

    @staticmethod
    def _where(business_id: str, subject: str, key: str):  # type: ignore[no-untyped-def]
        return and_(_T.business_id == business_id, _T.subject == subject, _T.key == key)

    def _lookup(
        self, conn: Connection, business_id: str, subject: str, key: str, request_hash: str
    ) -> tuple[Reservation, datetime] | None:
        row = conn.execute(
            select(
                _T.request_hash, _T.status_code, _T.content_type, _T.response_body, _T.created_at
            ).where(self._where(business_id, subject, key))
        ).first()
        if row is None:
            return None
        if row.request_hash != request_hash:
            return Reservation("mismatch"), row.created_at
        if row.status_code is not None:
            found = Reservation("replay", row.status_code, row.content_type, row.response_body)
            return found, row.created_at
        return Reservation("in_progress"), row.created_at

    def reserve(
        self,
        business_id: str,
        subject: str,
        key: str,
        request_hash: str,
        now: datetime | None = None,
    ) -> Reservation:
        """Claim ``key`` for this request, or say what is already stored under it."""
        now = now or utc_now()
        try:
            with self._connect(read_only=True) as conn:
                seen = self._lookup(conn, business_id, subject, key, request_hash)
            if seen is not None and (seen[0].state != "in_progress" or now - seen[1] < self._lease):
                return seen[0]
            with self._connect() as conn:
                row = {
                    "business_id": business_id,
                    "subject": subject,
                    "key": key,
                    "request_hash": request_hash,
                    "created_at": now,
                }
                if insert_ignoring_duplicates(conn, idempotency_keys, [row]) == 1:
                    conn.commit()
                    return Reservation("new")
                seen = self._lookup(conn, business_id, subject, key, request_hash)
                if seen is None:  # purged between the insert and the look-up: try again later
                    return Reservation("in_progress")
                found, created_at = seen
                if found.state == "in_progress" and now - created_at >= self._lease:
                    taken = conn.execute(
                        update(idempotency_keys)
                        .where(
                            self._where(business_id, subject, key),
                            _T.status_code.is_(None),
                            _T.created_at == created_at,
                        )
                        .values(created_at=now)
                    )
                    if taken.rowcount == 1:
                        conn.commit()
                        return Reservation("new")
                return found
        except (OperationalError, InterfaceError) as exc:
            raise StorageError(f"database error: {type(exc.orig).__name__}") from exc

    def complete(
        self,
        business_id: str,
        subject: str,
        key: str,
        status_code: int,
        content_type: str,
        body: str,
    ) -> None:
        """Store the first response; later requests with the same key get it back."""
        self._write(
            update(idempotency_keys)
            .where(self._where(business_id, subject, key))
            .values(
                status_code=status_code,
                content_type=content_type,
                response_body=body,
                completed_at=utc_now(),
            )
        )

    def release(self, business_id: str, subject: str, key: str) -> None:
        """Drop an unfinished reservation (the work failed), so that a retry can run."""
        self._write(
            delete(idempotency_keys).where(
                self._where(business_id, subject, key), _T.status_code.is_(None)
            )
        )

    def purge(self, older_than: datetime) -> int:
        """Delete records created before ``older_than``; return how many."""
        return self._write(delete(idempotency_keys).where(_T.created_at < older_than))

    def _write(self, stmt) -> int:  # type: ignore[no-untyped-def]
        try:
            with self._connect() as conn:
                count = int(conn.execute(stmt).rowcount)
                conn.commit()
                return count
        except (OperationalError, InterfaceError) as exc:
            raise StorageError(f"database error: {type(exc.orig).__name__}") from exc
