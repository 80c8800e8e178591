"""The SQL unit of work: one connection and one transaction per ``with`` block.

Usage (what the services do)::

    with uow_factory() as uow:
        scope = uow.scope(business_id)
        new = scope.transactions.add_new(txs)
        scope.imports.record(sha, path, fmt, len(txs), new)
        uow.commit()

Leaving the block rolls back whatever was not committed, including on exceptions, so a failed
import leaves the database exactly as it was. After ``commit()`` the same unit of work can go
on: the next statement starts a new transaction (SQLAlchemy 2 "autobegin").

On SQLite the transaction starts with BEGIN IMMEDIATE (see ``engine``), so concurrent writers
queue for the lock; ``read_only=True`` starts a deferred transaction instead, for readers that
must not wait behind a long import.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from ledgerlens.adapters.db.anomaly_repositories import (
    SqlAnomalyRepository,
    SqlCardDecisionRepository,
    SqlCardPolicyRepository,
    SqlFeedbackRepository,
)
from ledgerlens.adapters.db.engine import SQLITE_BEGIN_OPTION
from ledgerlens.adapters.db.enrichment_repositories import (
    SqlAnnotationRepository,
    SqlCorrectionRepository,
)
from ledgerlens.adapters.db.idempotency import SqlIdempotencyRepository
from ledgerlens.adapters.db.insight_repositories import SqlInsightStore
from ledgerlens.adapters.db.known_item_repositories import SqlKnownItemRepository
from ledgerlens.adapters.db.repositories import (
    SqlAccountRepository,
    SqlBusinessRepository,
    SqlConsentRepository,
    SqlImportFileRepository,
    SqlMemberRepository,
    SqlStatementRepository,
    SqlTransactionRepository,
)
from ledgerlens.core.errors import StorageError

__all__ = ["SqlBusinessScope", "SqlUnitOfWork", "sql_uow_factory"]


class SqlBusinessScope:
    """All repositories of one business, sharing the unit of work's connection.

    ``stored_now``: ids of the transactions this scope's ``add_new`` inserted in the open
    transaction (cleared when it rolls back). Rows about them (annotations, verdicts) need no
    ownership look-up: the business's own insert is the proof."""

    def __init__(
        self,
        connection: Callable[[], Connection],
        business_id: str,
        stored_now: set[str] | None = None,
    ) -> None:
        if not business_id:
            raise ValueError("a business scope needs a business_id")
        self.business_id = business_id
        self.stored_now = stored_now if stored_now is not None else set()
        self.members = SqlMemberRepository(connection, business_id)
        self.accounts = SqlAccountRepository(connection, business_id)
        self.statements = SqlStatementRepository(connection, business_id)
        self.transactions = SqlTransactionRepository(connection, business_id, self.stored_now)
        self.consents = SqlConsentRepository(connection, business_id)
        self.imports = SqlImportFileRepository(connection, business_id)
        self.annotations = SqlAnnotationRepository(connection, business_id, self.stored_now)
        self.corrections = SqlCorrectionRepository(connection, business_id)
        self.anomalies = SqlAnomalyRepository(connection, business_id, self.stored_now)
        self.insights = SqlInsightStore(connection, business_id)
        self.feedback = SqlFeedbackRepository(connection, business_id)
        self.card_policies = SqlCardPolicyRepository(connection, business_id)
        self.card_decisions = SqlCardDecisionRepository(connection, business_id)
        self.idempotency = SqlIdempotencyRepository(connection, business_id)
        self.known_items = SqlKnownItemRepository(connection, business_id)


class SqlUnitOfWork:
    """``core.ports.UnitOfWork`` over one SQLAlchemy connection."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: Connection | None = None
        self.businesses = SqlBusinessRepository(self._require_connection)
        self._scopes: dict[str, SqlBusinessScope] = {}  # one per business while open

    @property
    def connection(self) -> Connection:
        """The open connection (for adapters that need raw SQL inside this unit of work)."""
        return self._require_connection()

    def _require_connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._connection

    def scope(self, business_id: str) -> SqlBusinessScope:
        found = self._scopes.get(business_id)
        if found is None:
            found = self._scopes[business_id] = SqlBusinessScope(
                self._require_connection, business_id
            )
        return found

    def commit(self) -> None:
        self._require_connection().commit()

    def rollback(self) -> None:
        self._require_connection().rollback()
        self._forget_stored()

    def _forget_stored(self) -> None:
        """Rows inserted by a rolled-back transaction are gone: no scope may vouch for them."""
        for scope in self._scopes.values():
            scope.stored_now.clear()

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already open")
        try:
            connection = self._engine.connect()
        except (OperationalError, InterfaceError) as exc:
            raise StorageError(f"database unavailable: {type(exc.orig).__name__}") from exc
        if self._read_only and connection.dialect.name == "sqlite":
            connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        self._connection = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        self._forget_stored()
        self._scopes.clear()
        try:
            connection.rollback()
        except Exception:
            if exc is None:  # otherwise the original error matters more than a dead connection
                raise
        finally:
            connection.close()
        if isinstance(exc, (OperationalError, InterfaceError)):
            # the stages speak core errors only: "locked", "server gone" become StorageError
            raise StorageError(f"database error: {type(exc.orig).__name__}") from exc


def sql_uow_factory(engine: Engine, *, read_only: bool = False) -> Callable[[], SqlUnitOfWork]:
    """A ``UnitOfWorkFactory``: each call gives a fresh unit of work on the shared engine."""

    def make() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, read_only=read_only)

    return make
