"""SQL repositories: the ``core.ports`` protocols over SQLAlchemy Core, for SQLite and PostgreSQL.

Every tenant repository is bound to one business (``SqlBusinessScope``): reads filter by its
``business_id`` and writes refuse rows of another business with ``ValueError`` — a programming
error, never a user input problem. Rows are translated to the frozen types of ``core.ledger``;
no SQLAlchemy object leaves this module.

De-duplication is done by the database, not by reading keys first (see ``bulk``), so it holds
under concurrent importers; the guards every write passes are in ``guards`` (shared with the
in-memory fakes so both refuse the same things).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ledgerlens.adapters.db.bulk import (
    TX_FIELDS,
    insert_ignoring_duplicates,
    insert_transactions,
    transaction_params,
)
from ledgerlens.adapters.db.guards import ensure_aware, ensure_masked_card, ensure_same_business
from ledgerlens.adapters.db.tables import (
    accounts,
    businesses,
    consent_grants,
    import_files,
    members,
    metadata,
    statements,
    transactions,
)
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
    utc_now,
)
from ledgerlens.core.money import validate_currency

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "SqlAccountRepository",
    "SqlBusinessRepository",
    "SqlConsentRepository",
    "SqlImportFileRepository",
    "SqlMemberRepository",
    "SqlStatementRepository",
    "SqlTransactionRepository",
]

ConnectionSource = Callable[[], Connection]
DEFAULT_BATCH_SIZE = 5000

_STATEMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Statement))
_STATEMENT_VALUES = attrgetter(*_STATEMENT_FIELDS)
# statement_id is NULL in SQL when a transaction came without a statement, "" in the domain.
_TX_COLUMNS = [
    func.coalesce(transactions.c.statement_id, "").label(name)
    if name == "statement_id"
    else transactions.c[name]
    for name in TX_FIELDS
]


def _insert_one(
    conn: Connection,
    table: Table,
    row: dict[str, Any],
    what: str,
    ignore: frozenset[str] = frozenset(),
) -> None:
    """Insert one row; adding an identical row again is a no-op, anything else a ``Conflict``.

    Idempotent adds let two processes create the same account (same stable id) at once: on
    PostgreSQL the second INSERT waits for the first transaction, skips the row, then finds
    it equal. Columns in ``ignore`` (e.g. a creation time) are not compared. The savepoint
    keeps the outer transaction usable after a refused row (PostgreSQL aborts it otherwise).
    """
    try:
        with conn.begin_nested():
            if insert_ignoring_duplicates(conn, table, [row]) == 1:
                return
    except IntegrityError as exc:  # e.g. a foreign key: the business does not exist
        raise Conflict(f"{what} refused by a database constraint: {exc.orig}") from exc
    key = table.primary_key.columns[0]
    existing = conn.execute(select(table).where(key == row[key.name])).mappings().first()
    if existing is None or any(existing[k] != v for k, v in row.items() if k not in ignore):
        raise Conflict(f"{what} conflicts with a stored row (same id or same unique fields)")


# built once: a statement object reused is compiled and cache-keyed once (every import and
# every real-time POST runs this check)
_OWNED_ACCOUNTS = select(accounts.c.account_id).where(
    accounts.c.business_id == bindparam("business_id"),
    accounts.c.account_id.in_(bindparam("ids", expanding=True)),
)


def _owned_accounts(conn: Connection, business_id: str, account_ids: set[str]) -> None:
    """Refuse rows pointing at an account of another business (or at no account at all)."""
    params = {"business_id": business_id, "ids": sorted(account_ids)}
    owned = set(conn.execute(_OWNED_ACCOUNTS, params).scalars())
    foreign = account_ids - owned
    if foreign:
        raise ValueError(f"account(s) {sorted(foreign)[:5]} are not accounts of {business_id!r}")


class SqlBusinessRepository:
    """Tenants. ``delete`` is erasure: every row of the business goes, in every table."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._conn = connection

    def add(self, business: Business) -> None:
        ensure_aware(business.created_at, "business created_at")
        row = {
            "business_id": business.business_id,
            "name": business.name,
            "country": business.country,
            "base_currency": business.base_currency,
            "created_at": business.created_at,
        }
        _insert_one(
            self._conn(),
            businesses,
            row,
            f"business {business.business_id!r}",
            ignore=frozenset({"created_at"}),
        )

    def get(self, business_id: str) -> Business | None:
        row = (
            self._conn()
            .execute(select(businesses).where(businesses.c.business_id == business_id))
            .first()
        )
        return Business(*row) if row else None

    def page(self, after: str | None, limit: int) -> list[Business]:
        stmt = select(businesses).order_by(businesses.c.business_id).limit(limit)
        if after is not None:
            stmt = stmt.where(businesses.c.business_id > after)
        return [Business(*row) for row in self._conn().execute(stmt)]

    def list(self) -> list[Business]:
        stmt = select(businesses).order_by(businesses.c.created_at, businesses.c.business_id)
        return [Business(*row) for row in self._conn().execute(stmt)]

    def delete(self, business_id: str) -> None:
        """Erasure covers every table holding a ``business_id`` column — including ones added by
        later stages (API idempotency records, annotations) — children before parents."""
        conn = self._conn()
        for table in reversed(metadata.sorted_tables):
            if table is not businesses and "business_id" in table.c:
                conn.execute(delete(table).where(table.c.business_id == business_id))
        conn.execute(delete(businesses).where(businesses.c.business_id == business_id))


class _Scoped:
    def __init__(self, connection: ConnectionSource, business_id: str) -> None:
        self._conn = connection
        self.business_id = business_id


class SqlMemberRepository(_Scoped):
    def add(self, member: Member) -> None:
        ensure_same_business(self.business_id, member.business_id, f"member {member.member_id!r}")
        row = {
            "member_id": member.member_id,
            "business_id": member.business_id,
            "display_name": member.display_name,
            "role": str(member.role),
        }
        _insert_one(self._conn(), members, row, f"member {member.member_id!r}")

    def list(self) -> list[Member]:
        stmt = (
            select(members)
            .where(members.c.business_id == self.business_id)
            .order_by(members.c.display_name, members.c.member_id)
        )
        return [Member(r[0], r[1], r[2], Role(r[3])) for r in self._conn().execute(stmt)]


def _account(row: Any) -> Account:
    return Account(row[0], row[1], row[2], row[3], AccountType(row[4]), row[5])


class SqlAccountRepository(_Scoped):
    def add(self, account: Account) -> None:
        ensure_same_business(
            self.business_id, account.business_id, f"account {account.account_id!r}"
        )
        row = {
            "account_id": account.account_id,
            "business_id": account.business_id,
            "identifier": account.identifier,
            "currency": account.currency,
            "account_type": str(account.account_type),
            "name": account.name,
        }
        _insert_one(self._conn(), accounts, row, f"account {account.account_id!r}")

    def _select(self) -> Select[Any]:
        return select(accounts).where(accounts.c.business_id == self.business_id)

    def get(self, account_id: str) -> Account | None:
        row = self._conn().execute(self._select().where(accounts.c.account_id == account_id))
        first = row.first()
        return _account(first) if first else None

    def find(self, identifier: str, currency: str) -> Account | None:
        stmt = self._select().where(
            accounts.c.identifier == identifier, accounts.c.currency == currency
        )
        first = self._conn().execute(stmt).first()
        return _account(first) if first else None

    def list(self) -> list[Account]:
        stmt = self._select().order_by(
            accounts.c.identifier, accounts.c.currency, accounts.c.account_id
        )
        return [_account(row) for row in self._conn().execute(stmt)]


class SqlStatementRepository(_Scoped):
    def add_if_new(self, statement: Statement, dedup_key: str) -> bool:
        """Store unless (account, dedup_key) or the statement id is stored; True when stored."""
        ensure_same_business(
            self.business_id, statement.business_id, f"statement {statement.statement_id!r}"
        )
        if not dedup_key:
            raise ValueError("a statement needs a non-empty dedup_key")
        conn = self._conn()
        _owned_accounts(conn, self.business_id, {statement.account_id})
        row = dict(zip(_STATEMENT_FIELDS, _STATEMENT_VALUES(statement), strict=True))
        row["dedup_key"] = dedup_key
        row["imported_at"] = utc_now()
        return insert_ignoring_duplicates(conn, statements, [row]) == 1

    def list(self, account_id: str | None = None) -> list[Statement]:
        stmt = select(*(statements.c[name] for name in _STATEMENT_FIELDS)).where(
            statements.c.business_id == self.business_id
        )
        if account_id is not None:
            stmt = stmt.where(statements.c.account_id == account_id)
        stmt = stmt.order_by(
            statements.c.account_id,
            statements.c.period_start.nulls_first(),
            statements.c.period_end.nulls_first(),
            statements.c.statement_id,
        )
        return [Statement(*row) for row in self._conn().execute(stmt)]


class SqlTransactionRepository(_Scoped):
    def __init__(
        self, connection: ConnectionSource, business_id: str, stored_now: set[str] | None = None
    ) -> None:
        super().__init__(connection, business_id)
        # the scope's record of ids inserted in the open transaction (``SqlBusinessScope``)
        self.stored_now = stored_now if stored_now is not None else set()
        # accounts already checked to be this business's by this repository (an account never
        # changes business: a later insert in the same unit of work needs no new look-up)
        self._owned: set[str] = set()

    def add_new(
        self, transactions_: Sequence[Transaction], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> int:
        """Insert the transactions not stored yet; return how many were inserted.

        Duplicates are decided by the database (see the module docstring), also within the
        batch itself. An empty ``dedup_key`` falls back to the ``transaction_id``. Everything
        is validated before the first row is written, so a refused batch writes nothing.
        """
        if not transactions_:
            return 0
        account_ids: set[str] = set()
        for tx in transactions_:
            if tx.business_id != self.business_id:
                ensure_same_business(
                    self.business_id, tx.business_id, f"transaction {tx.transaction_id!r}"
                )
            if tx.card_id:
                ensure_masked_card(tx.card_id)
            if tx.original_currency:
                validate_currency(tx.original_currency)
            account_ids.add(tx.account_id)
        conn = self._conn()
        if not account_ids <= self._owned:
            _owned_accounts(conn, self.business_id, account_ids)
            self._owned.update(account_ids)
        imported_at = utc_now()
        inserted = 0
        for start in range(0, len(transactions_), batch_size):
            chunk = transactions_[start : start + batch_size]
            params = transaction_params(chunk, conn.dialect.name, imported_at)
            stored = insert_transactions(conn, params)
            if stored == len(chunk):  # every row went in: these ids are this business's now
                self.stored_now.update(t.transaction_id for t in chunk)
            inserted += stored
        return inserted

    def _select(self) -> Select[Any]:
        return select(*_TX_COLUMNS).where(transactions.c.business_id == self.business_id)

    def get(self, transaction_id: str) -> Transaction | None:
        stmt = self._select().where(transactions.c.transaction_id == transaction_id)
        row = self._conn().execute(stmt).first()
        return Transaction(*row) if row else None

    def count(self, account_id: str | None = None) -> int:
        stmt = select(func.count()).where(transactions.c.business_id == self.business_id)
        if account_id is not None:
            stmt = stmt.where(transactions.c.account_id == account_id)
        return int(self._conn().execute(stmt).scalar_one())

    def list(
        self,
        account_id: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int | None = None,
    ) -> list[Transaction]:
        """Transactions in canonical order; ``since``/``until`` are inclusive booking dates."""
        stmt = self._select()
        if account_id is not None:
            stmt = stmt.where(transactions.c.account_id == account_id)
        if since is not None:
            stmt = stmt.where(transactions.c.booking_date >= since)
        if until is not None:
            stmt = stmt.where(transactions.c.booking_date <= until)
        stmt = stmt.order_by(*_CANONICAL_ORDER)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [Transaction(*row) for row in self._conn().execute(stmt)]

    def iter_all(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[Transaction]:
        """Stream every transaction of the business in canonical order with flat memory.

        ``yield_per`` makes PostgreSQL use a server-side cursor and SQLAlchemy fetch in
        batches; pysqlite steps its cursor lazily anyway.
        """
        stmt = self._select().order_by(*_CANONICAL_ORDER)
        result = self._conn().execute(stmt, execution_options={"yield_per": batch_size})
        try:
            for row in result:
                yield Transaction(*row)
        finally:
            result.close()


_CANONICAL_ORDER = (transactions.c.account_id, transactions.c.booking_date, transactions.c.seq)


class SqlConsentRepository(_Scoped):
    def grant(self, grant: ConsentGrant) -> None:
        ensure_same_business(self.business_id, grant.business_id, "consent grant")
        ensure_aware(grant.granted_at, "granted_at")
        ensure_aware(grant.withdrawn_at, "withdrawn_at")
        row = {
            "business_id": grant.business_id,
            "purpose": str(grant.purpose),
            "granted_at": grant.granted_at,
            "withdrawn_at": grant.withdrawn_at,
            "granted_by": grant.granted_by,
        }
        self._conn().execute(insert(consent_grants), row)

    def withdraw(self, purpose: Purpose, when: object) -> None:
        """Close every active grant of ``purpose`` at ``when`` (an aware datetime)."""
        if not isinstance(when, datetime):
            raise TypeError(f"withdraw needs a timezone-aware datetime, got {when!r}")
        ensure_aware(when, "withdrawn_at")
        self._conn().execute(
            update(consent_grants)
            .where(
                consent_grants.c.business_id == self.business_id,
                consent_grants.c.purpose == str(purpose),
                consent_grants.c.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=when)
        )

    def active(self) -> set[Purpose]:
        stmt = select(consent_grants.c.purpose).where(
            consent_grants.c.business_id == self.business_id,
            consent_grants.c.withdrawn_at.is_(None),
        )
        return {Purpose(p) for p in self._conn().execute(stmt).scalars()}

    def history(self) -> list[ConsentGrant]:
        c = consent_grants.c
        stmt = (
            select(c.business_id, c.purpose, c.granted_at, c.withdrawn_at, c.granted_by)
            .where(c.business_id == self.business_id)
            .order_by(c.granted_at, c.id)
        )
        return [
            ConsentGrant(r[0], Purpose(r[1]), r[2], r[3], r[4]) for r in self._conn().execute(stmt)
        ]


class SqlImportFileRepository(_Scoped):
    def record(self, sha256: str, path: str, fmt: str, transactions: int, new: int) -> None:
        row = {
            "business_id": self.business_id,
            "sha256": sha256,
            "path": path,
            "format": fmt,
            "transactions": transactions,
            "new": new,
            "imported_at": utc_now(),
        }
        self._conn().execute(insert(import_files), row)

    def list(self) -> list[dict[str, object]]:
        c = import_files.c
        stmt = (
            select(c.sha256, c.path, c.format, c.transactions, c.new, c.imported_at)
            .where(c.business_id == self.business_id)
            .order_by(c.id)
        )
        return [dict(row._mapping) for row in self._conn().execute(stmt)]
