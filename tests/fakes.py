"""In-memory twins of every storage port in ``ledgerlens.core.ports``, for fast service tests.

Same semantics as the SQL adapter (the integration tests run one suite against both):
de-duplication on ``(account_id, dedup_key)`` and on ``transaction_id``, business scoping that
filters reads and refuses foreign writes with ``ValueError``, ``Conflict`` on duplicate ids,
canonical order ``(account_id, booking_date, arrival)``, and commit/rollback: a unit of work
works on a copy of the store and publishes it only on ``commit()``.

    store = InMemoryStore()
    uow_factory = in_memory_uow_factory(store)   # share ``store`` between units of work
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

try:  # imported as ``fakes`` (tests/ on sys.path) or as ``tests.fakes`` (from the repo root)
    from fakes_enrichment import InMemoryAnnotationRepository, InMemoryCorrectionRepository
except ModuleNotFoundError:
    from tests.fakes_enrichment import InMemoryAnnotationRepository, InMemoryCorrectionRepository

try:  # the anomaly and card-control twins (issue #6)
    import fakes_anomalies as _anom
except ModuleNotFoundError:
    from tests import fakes_anomalies as _anom

try:  # the insights feed, preferences, notifications and consent events (issue #8)
    import fakes_insights as _ins
except ModuleNotFoundError:
    from tests import fakes_insights as _ins

from ledgerlens.adapters.db.guards import (
    ensure_aware,
    ensure_masked_card,
    ensure_same_business,
)
from ledgerlens.core.errors import Conflict
from ledgerlens.core.ledger import (
    Account,
    Annotation,
    Business,
    ConsentGrant,
    Member,
    Purpose,
    Statement,
    Transaction,
    utc_now,
)
from ledgerlens.core.money import validate_currency
from ledgerlens.core.ports import (
    KnownItemRecord,
    KnownItemStatus,
    change_known_item_status,
    check_known_item,
    merge_known_item,
)

__all__ = [
    "InMemoryAccountRepository",
    "InMemoryBusinessRepository",
    "InMemoryBusinessScope",
    "InMemoryConsentRepository",
    "InMemoryImportFileRepository",
    "InMemoryKnownItemRepository",
    "InMemoryMemberRepository",
    "InMemoryStatementRepository",
    "InMemoryStore",
    "InMemoryTransactionRepository",
    "InMemoryUnitOfWork",
    "in_memory_uow_factory",
]


@dataclasses.dataclass
class InMemoryStore:
    """The "database": plain containers; values are frozen dataclasses, so copies are cheap."""

    businesses: dict[str, Business] = dataclasses.field(default_factory=dict)
    members: dict[str, Member] = dataclasses.field(default_factory=dict)
    accounts: dict[str, Account] = dataclasses.field(default_factory=dict)
    statements: dict[str, Statement] = dataclasses.field(default_factory=dict)
    statement_keys: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    # transaction_id -> (arrival seq, transaction); dict order is arrival order
    transactions: dict[str, tuple[int, Transaction]] = dataclasses.field(default_factory=dict)
    transaction_keys: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    consents: list[ConsentGrant] = dataclasses.field(default_factory=list)
    imports: list[dict[str, object]] = dataclasses.field(default_factory=list)
    # enrich stage: (transaction_id, kind) -> annotation; (correction, member_id); profiles
    annotations: dict[tuple[str, str], Annotation] = dataclasses.field(default_factory=dict)
    corrections: list[tuple[object, str]] = dataclasses.field(default_factory=list)
    profiles: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    next_seq: int = 1
    anomaly_rows: dict[str, Any] = dataclasses.field(default_factory=_anom.empty_anomaly_rows)
    insight_rows: dict[str, Any] = dataclasses.field(default_factory=_ins.empty_insight_rows)
    # (business_id, item_id) -> known future item (invoice or scheduled payment)
    known_items: dict[tuple[str, str], KnownItemRecord] = dataclasses.field(default_factory=dict)

    def copy(self) -> InMemoryStore:
        return InMemoryStore(
            businesses=dict(self.businesses),
            members=dict(self.members),
            accounts=dict(self.accounts),
            statements=dict(self.statements),
            statement_keys=dict(self.statement_keys),
            transactions=dict(self.transactions),
            transaction_keys=set(self.transaction_keys),
            consents=list(self.consents),
            imports=[dict(r) for r in self.imports],
            annotations=dict(self.annotations),
            corrections=list(self.corrections),
            profiles=dict(self.profiles),
            next_seq=self.next_seq,
            anomaly_rows=_anom.copy_anomaly_rows(self.anomaly_rows),
            insight_rows=_ins.copy_insight_rows(self.insight_rows),
            known_items=dict(self.known_items),
        )

    def load(self, other: InMemoryStore) -> None:
        """Replace this store's content with a copy of ``other`` (what commit publishes)."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(other.copy(), f.name))


StoreSource = Callable[[], InMemoryStore]


def _utc(value: datetime) -> datetime:
    """What the SQL adapter returns: the same instant, expressed in UTC."""
    return value.astimezone(UTC)


class InMemoryBusinessRepository:
    def __init__(self, store: StoreSource) -> None:
        self._store = store

    def add(self, business: Business) -> None:
        ensure_aware(business.created_at, "business created_at")
        s = self._store()
        stored = s.businesses.get(business.business_id)
        if stored is not None:  # an identical add is a no-op, as in SQL
            if dataclasses.replace(stored, created_at=business.created_at) == business:
                return
            raise Conflict(f"business {business.business_id!r} already exists")
        s.businesses[business.business_id] = dataclasses.replace(
            business, created_at=_utc(business.created_at)
        )

    def get(self, business_id: str) -> Business | None:
        return self._store().businesses.get(business_id)

    def list(self) -> list[Business]:
        return sorted(
            self._store().businesses.values(), key=lambda b: (b.created_at, b.business_id)
        )

    def page(self, after: str | None, limit: int) -> list[Business]:
        ids = sorted(i for i in self._store().businesses if after is None or i > after)
        return [self._store().businesses[i] for i in ids[:limit]]

    def delete(self, business_id: str) -> None:
        s = self._store()
        s.annotations = {k: a for k, a in s.annotations.items() if a.business_id != business_id}
        s.corrections = [
            (c, m) for c, m in s.corrections if getattr(c, "business_id", None) != business_id
        ]
        s.profiles.pop(business_id, None)
        s.known_items = {k: v for k, v in s.known_items.items() if k[0] != business_id}
        _anom.erase_anomaly_rows(s.anomaly_rows, business_id)
        _ins.erase_insight_rows(s.insight_rows, business_id)
        s.transactions = {
            k: v for k, v in s.transactions.items() if v[1].business_id != business_id
        }
        s.transaction_keys = {(t.account_id, _tx_key(t)) for _, t in s.transactions.values()}
        s.statements = {k: v for k, v in s.statements.items() if v.business_id != business_id}
        s.statement_keys = {k: v for k, v in s.statement_keys.items() if v in s.statements}
        s.members = {k: v for k, v in s.members.items() if v.business_id != business_id}
        s.accounts = {k: v for k, v in s.accounts.items() if v.business_id != business_id}
        s.consents = [g for g in s.consents if g.business_id != business_id]
        s.imports = [r for r in s.imports if r["business_id"] != business_id]
        s.businesses.pop(business_id, None)


class _Scoped:
    def __init__(self, store: StoreSource, business_id: str) -> None:
        self._store = store
        self.business_id = business_id

    def _require_business(self) -> InMemoryStore:
        s = self._store()
        if self.business_id not in s.businesses:  # the SQL foreign key refuses this too
            raise Conflict(f"no business {self.business_id!r}")
        return s

    def _owned_accounts(self, account_ids: set[str]) -> None:
        accounts = self._store().accounts
        foreign = {
            a
            for a in account_ids
            if a not in accounts or accounts[a].business_id != self.business_id
        }
        if foreign:
            raise ValueError(
                f"account(s) {sorted(foreign)[:5]} are not accounts of {self.business_id!r}"
            )


class InMemoryMemberRepository(_Scoped):
    def add(self, member: Member) -> None:
        ensure_same_business(self.business_id, member.business_id, f"member {member.member_id!r}")
        s = self._require_business()
        if s.members.get(member.member_id) == member:
            return
        if member.member_id in s.members:
            raise Conflict(f"member {member.member_id!r} already exists")
        s.members[member.member_id] = member

    def list(self) -> list[Member]:
        mine = [m for m in self._store().members.values() if m.business_id == self.business_id]
        return sorted(mine, key=lambda m: (m.display_name, m.member_id))


class InMemoryAccountRepository(_Scoped):
    def add(self, account: Account) -> None:
        ensure_same_business(
            self.business_id, account.business_id, f"account {account.account_id!r}"
        )
        s = self._require_business()
        if s.accounts.get(account.account_id) == account:
            return
        if account.account_id in s.accounts or self.find(account.identifier, account.currency):
            raise Conflict(f"account {account.account_id!r} already exists")
        s.accounts[account.account_id] = account

    def get(self, account_id: str) -> Account | None:
        account = self._store().accounts.get(account_id)
        return account if account and account.business_id == self.business_id else None

    def find(self, identifier: str, currency: str) -> Account | None:
        for a in self._store().accounts.values():
            if (a.business_id, a.identifier, a.currency) == (
                self.business_id,
                identifier,
                currency,
            ):
                return a
        return None

    def list(self) -> list[Account]:
        mine = [a for a in self._store().accounts.values() if a.business_id == self.business_id]
        return sorted(mine, key=lambda a: (a.identifier, a.currency, a.account_id))


class InMemoryStatementRepository(_Scoped):
    def add_if_new(self, statement: Statement, dedup_key: str) -> bool:
        ensure_same_business(
            self.business_id, statement.business_id, f"statement {statement.statement_id!r}"
        )
        if not dedup_key:
            raise ValueError("a statement needs a non-empty dedup_key")
        self._owned_accounts({statement.account_id})
        s = self._store()
        key = (statement.account_id, dedup_key)
        if key in s.statement_keys or statement.statement_id in s.statements:
            return False
        s.statements[statement.statement_id] = statement
        s.statement_keys[key] = statement.statement_id
        return True

    def list(self, account_id: str | None = None) -> list[Statement]:
        mine = [
            st
            for st in self._store().statements.values()
            if st.business_id == self.business_id
            and (account_id is None or st.account_id == account_id)
        ]
        return sorted(
            mine,
            key=lambda st: (
                st.account_id,
                (st.period_start is not None, st.period_start or date.min),
                (st.period_end is not None, st.period_end or date.min),
                st.statement_id,
            ),
        )


def _tx_key(tx: Transaction) -> str:
    return tx.dedup_key or tx.transaction_id


class InMemoryTransactionRepository(_Scoped):
    def add_new(self, transactions: Sequence[Transaction], batch_size: int = 5000) -> int:
        for tx in transactions:  # validate everything first: a refused batch writes nothing
            ensure_same_business(
                self.business_id, tx.business_id, f"transaction {tx.transaction_id!r}"
            )
            ensure_masked_card(tx.card_id)
            if tx.original_currency:
                validate_currency(tx.original_currency)
        if transactions:
            self._owned_accounts({tx.account_id for tx in transactions})
        s = self._store()
        inserted = 0
        for tx in transactions:
            key = (tx.account_id, _tx_key(tx))
            if key in s.transaction_keys or tx.transaction_id in s.transactions:
                continue
            stored = dataclasses.replace(tx, dedup_key=_tx_key(tx))
            s.transactions[tx.transaction_id] = (s.next_seq, stored)
            s.transaction_keys.add(key)
            s.next_seq += 1
            inserted += 1
        return inserted

    def _mine(self) -> list[tuple[int, Transaction]]:
        return [
            v for v in self._store().transactions.values() if v[1].business_id == self.business_id
        ]

    def get(self, transaction_id: str) -> Transaction | None:
        found = self._store().transactions.get(transaction_id)
        return found[1] if found and found[1].business_id == self.business_id else None

    def count(self, account_id: str | None = None) -> int:
        return sum(1 for _, t in self._mine() if account_id is None or t.account_id == account_id)

    def list(
        self,
        account_id: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int | None = None,
    ) -> list[Transaction]:
        rows = [
            t
            for t in self.iter_all()
            if (account_id is None or t.account_id == account_id)
            and (since is None or t.booking_date >= since)
            and (until is None or t.booking_date <= until)
        ]
        return rows if limit is None else rows[:limit]

    def iter_all(self, batch_size: int = 5000) -> Iterator[Transaction]:
        ordered = sorted(self._mine(), key=lambda v: (v[1].account_id, v[1].booking_date, v[0]))
        return iter([t for _, t in ordered])


class InMemoryConsentRepository(_Scoped):
    def grant(self, grant: ConsentGrant) -> None:
        ensure_same_business(self.business_id, grant.business_id, "consent grant")
        ensure_aware(grant.granted_at, "granted_at")
        ensure_aware(grant.withdrawn_at, "withdrawn_at")
        self._require_business().consents.append(
            dataclasses.replace(
                grant,
                granted_at=_utc(grant.granted_at),
                withdrawn_at=grant.withdrawn_at and _utc(grant.withdrawn_at),
            )
        )

    def withdraw(self, purpose: Purpose, when: object) -> None:
        if not isinstance(when, datetime):
            raise TypeError(f"withdraw needs a timezone-aware datetime, got {when!r}")
        ensure_aware(when, "withdrawn_at")
        s = self._store()
        s.consents = [
            dataclasses.replace(g, withdrawn_at=_utc(when))
            if g.business_id == self.business_id and g.purpose == purpose and g.active
            else g
            for g in s.consents
        ]

    def active(self) -> set[Purpose]:
        return {g.purpose for g in self.history() if g.active}

    def history(self) -> list[ConsentGrant]:
        mine = [g for g in self._store().consents if g.business_id == self.business_id]
        return sorted(mine, key=lambda g: g.granted_at)  # stable: ties keep grant order


class InMemoryImportFileRepository(_Scoped):
    def record(self, sha256: str, path: str, fmt: str, transactions: int, new: int) -> None:
        self._require_business().imports.append(
            {
                "business_id": self.business_id,
                "sha256": sha256,
                "path": path,
                "format": fmt,
                "transactions": transactions,
                "new": new,
                "imported_at": utc_now(),
            }
        )

    def list(self) -> list[dict[str, object]]:
        return [
            {k: v for k, v in r.items() if k != "business_id"}
            for r in self._store().imports
            if r["business_id"] == self.business_id
        ]


class InMemoryKnownItemRepository(_Scoped):
    """``core.ports.KnownItemRepository`` in memory (the same rules as the SQL adapter)."""

    def upsert(self, item: KnownItemRecord, now: datetime) -> tuple[KnownItemRecord, bool]:
        ensure_same_business(self.business_id, item.business_id, f"known item {item.item_id!r}")
        ensure_aware(now, "known item timestamp")
        s = self._require_business()
        account = s.accounts.get(item.account_id)
        check_known_item(
            item, account if account and account.business_id == self.business_id else None
        )
        out, changed = merge_known_item(
            s.known_items.get((self.business_id, item.item_id)), item, now
        )
        if changed:
            s.known_items[(self.business_id, item.item_id)] = out
        return out, changed

    def get(self, item_id: str) -> KnownItemRecord | None:
        return self._store().known_items.get((self.business_id, item_id))

    def list(self, status: KnownItemStatus | None = "open") -> list[KnownItemRecord]:
        rows = [
            r
            for (bid, _), r in self._store().known_items.items()
            if bid == self.business_id and (status is None or r.status == status)
        ]
        return sorted(rows, key=lambda r: (r.due_date, r.item_id))

    def set_status(
        self, item_id: str, status: KnownItemStatus, now: datetime
    ) -> KnownItemRecord | None:
        ensure_aware(now, "known item timestamp")
        s = self._store()
        stored = s.known_items.get((self.business_id, item_id))
        if stored is None:
            return None
        out, changed = change_known_item_status(stored, status, now)
        if changed:
            s.known_items[(self.business_id, item_id)] = out
        return out


class InMemoryBusinessScope:
    def __init__(self, store: StoreSource, business_id: str) -> None:
        if not business_id:
            raise ValueError("a business scope needs a business_id")
        self.business_id = business_id
        self.members = InMemoryMemberRepository(store, business_id)
        self.accounts = InMemoryAccountRepository(store, business_id)
        self.statements = InMemoryStatementRepository(store, business_id)
        self.transactions = InMemoryTransactionRepository(store, business_id)
        self.consents = InMemoryConsentRepository(store, business_id)
        self.imports = InMemoryImportFileRepository(store, business_id)
        self.annotations = InMemoryAnnotationRepository(store, business_id)
        self.corrections = InMemoryCorrectionRepository(store, business_id)
        self.anomalies = _anom.InMemoryAnomalyRepository(store, business_id)
        self.feedback = _anom.InMemoryFeedbackRepository(store, business_id)
        self.card_policies = _anom.InMemoryCardPolicyRepository(store, business_id)
        self.card_decisions = _anom.InMemoryCardDecisionRepository(store, business_id)
        self.insights = _ins.InMemoryInsightStore(store, business_id)
        self.known_items = InMemoryKnownItemRepository(store, business_id)


class InMemoryUnitOfWork:
    """Works on a copy of ``store``; ``commit()`` publishes it, leaving the block discards it."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self._work: InMemoryStore | None = None
        self.committed = False  # for tests: did the service commit?
        self.businesses = InMemoryBusinessRepository(self._require_work)

    def _require_work(self) -> InMemoryStore:
        if self._work is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._work

    def scope(self, business_id: str) -> InMemoryBusinessScope:
        return InMemoryBusinessScope(self._require_work, business_id)

    def commit(self) -> None:
        self.store.load(self._require_work())
        self.committed = True

    def rollback(self) -> None:
        self._require_work()
        self._work = self.store.copy()

    def __enter__(self) -> Self:
        if self._work is not None:
            raise RuntimeError("this unit of work is already open")
        self._work = self.store.copy()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None


def in_memory_uow_factory(store: InMemoryStore | None = None) -> Callable[[], InMemoryUnitOfWork]:
    """A ``UnitOfWorkFactory`` whose units of work share one store (like one database)."""
    shared = store if store is not None else InMemoryStore()

    def make() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(shared)

    return make
