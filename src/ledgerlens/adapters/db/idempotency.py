"""Idempotency records in SQL: reserve a key first, then store the first response under it.

Two ways, both keyed by (business, token subject, key) (DESIGN.md §7):

**Reserve, work, complete** (``SqlIdempotencyStore``, driven by ``serve.idempotency`` for every
creating route):

1. ``reserve`` inserts a *pending* row. The primary key makes the insert the arbiter: among
   concurrent identical requests exactly one insert succeeds (SQLite serializes writers with
   BEGIN IMMEDIATE; PostgreSQL makes the second ``INSERT … ON CONFLICT DO NOTHING`` wait for
   the first to commit, then skip). The reservation is committed at once, before the work
   starts, so the others can see it.
2. The winner does the work and calls ``complete`` with the response; a failure that must not
   be replayed (5xx) calls ``release`` so that a retry may run.
3. Everyone else gets ``replay`` (same payload, finished), ``mismatch`` (another payload under
   that key) or ``in_progress`` (still running: wait and ask again).

**In the work's own transaction** (``SqlIdempotencyRepository``, a business scope's
repository; the real-time ingest on SQLite's one writer, ``pipeline_realtime``): look the key
up, do the work and insert the finished answer in one write transaction. SQLite's write lock
makes look-up and insert one step for every other writer (another process's request with the
same key waits for the lock, then finds the answer), and a failure rolls the key back with the
effects, so nothing is left reserved or half-done. A key reserved the first way and not yet
finished shows as ``in_progress`` here too.

A reservation older than ``lease_seconds`` whose owner never finished (the process died) may be
taken over by the next request with the same payload; the effects behind it are idempotent
themselves (transactions and statements are de-duplicated by the database), so a retried
half-done request is safe. Lookups that do not need to write use a deferred (read-only)
transaction on SQLite, so waiting clients never queue behind writers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from ledgerlens.adapters.db.api_tables import idempotency_keys
from ledgerlens.adapters.db.bulk import insert_ignoring_duplicates
from ledgerlens.adapters.db.engine import SQLITE_BEGIN_OPTION
from ledgerlens.core.errors import StorageError
from ledgerlens.core.ledger import utc_now
from ledgerlens.core.ports import KeyedAnswer, Reservation, ReservationState

__all__ = [
    "Reservation",
    "ReservationState",
    "SqlIdempotencyRepository",
    "SqlIdempotencyStore",
]

_T = idempotency_keys.c


_FIND = select(
    _T.request_hash, _T.status_code, _T.content_type, _T.response_body, _T.created_at
).where(
    _T.business_id == bindparam("business_id"),
    _T.subject == bindparam("subject"),
    _T.key == bindparam("key"),
)  # built once: a statement object reused is compiled (and cache-keyed) once


_FIND_MANY = select(
    _T.subject,
    _T.key,
    _T.request_hash,
    _T.status_code,
    _T.content_type,
    _T.response_body,
).where(
    _T.business_id == bindparam("business_id"),
    _T.subject.in_(bindparam("subjects", expanding=True)),
    _T.key.in_(bindparam("keys", expanding=True)),
)  # a group's keys: both INs on the primary key (business, subject, key), so no scan; a
# (subject, key) pair the group did not send is dropped in Python


def _reservation(row: Any, request_hash: str) -> Reservation:
    """What a stored key means for a request with ``request_hash``."""
    if row.request_hash != request_hash:
        return Reservation("mismatch")
    if row.status_code is None:
        return Reservation("in_progress")
    return Reservation("replay", row.status_code, row.content_type, row.response_body)


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
        params = {"business_id": business_id, "subject": subject, "key": key}
        row = conn.execute(_FIND, params).first()
        return None if row is None else (_reservation(row, request_hash), row.created_at)

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


class SqlIdempotencyRepository:
    """``core.ports.IdempotencyRepository``: one business's keys, inside a unit of work."""

    def __init__(self, connection: Callable[[], Connection], business_id: str) -> None:
        self._conn = connection
        self.business_id = business_id

    def find(self, subject: str, key: str, request_hash: str) -> Reservation | None:
        row = (
            self._conn()
            .execute(_FIND, {"business_id": self.business_id, "subject": subject, "key": key})
            .first()
        )
        return None if row is None else _reservation(row, request_hash)

    def find_many(self, requests: Sequence[tuple[str, str, str]]) -> list[Reservation | None]:
        if not requests:
            return []
        params = {
            "business_id": self.business_id,
            "subjects": sorted({subject for subject, _, _ in requests}),
            "keys": sorted({key for _, key, _ in requests}),
        }
        rows = {(r.subject, r.key): r for r in self._conn().execute(_FIND_MANY, params)}
        out: list[Reservation | None] = []
        for subject, key, request_hash in requests:
            row = rows.get((subject, key))
            out.append(None if row is None else _reservation(row, request_hash))
        return out

    def record(
        self,
        subject: str,
        key: str,
        request_hash: str,
        status_code: int,
        content_type: str,
        body: str,
    ) -> bool:
        answer = KeyedAnswer(subject, key, request_hash, status_code, content_type, body)
        return self.record_many([answer]) == 1

    def record_many(self, answers: Sequence[KeyedAnswer]) -> int:
        now = utc_now()
        rows = [
            {
                "business_id": self.business_id,
                "subject": a.subject,
                "key": a.key,
                "request_hash": a.request_hash,
                "status_code": a.status_code,
                "content_type": a.content_type,
                "response_body": a.body,
                "created_at": now,
                "completed_at": now,
            }
            for a in answers
        ]
        return insert_ignoring_duplicates(self._conn(), idempotency_keys, rows)

    def release_stale(self, subject: str, key: str, older_than: datetime) -> bool:
        conn = self._conn()
        gone = conn.execute(
            delete(idempotency_keys).where(
                _T.business_id == self.business_id,
                _T.subject == subject,
                _T.key == key,
                _T.status_code.is_(None),
                _T.created_at < older_than,
            ),
            execution_options={"preserve_rowcount": True},
        )
        return int(gone.rowcount) == 1
