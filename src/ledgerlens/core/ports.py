"""Ports: the storage boundary the stages talk to. Adapters implement them (SQL, in-memory).

Every tenant-data repository is obtained from ``UnitOfWork.scope(business_id)`` and filters every
query by that business, so a stage cannot read or write another tenant's rows by mistake.
Repositories take and return the pure types of ``core.ledger``; no ORM object crosses this line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TypeVar

from ledgerlens.core.errors import Conflict, ValidationError
from ledgerlens.core.ledger import (
    Account,
    Annotation,
    AnnotationKind,
    Business,
    ConsentGrant,
    Member,
    Purpose,
    Statement,
    Transaction,
)

__all__ = [
    "KNOWN_ITEM_KINDS",
    "KNOWN_ITEM_STATUSES",
    "AccountRepository",
    "AnnotationRepository",
    "AnomalyRepository",
    "BusinessRepository",
    "BusinessScope",
    "CardDecisionRepository",
    "CardPolicyRepository",
    "ConsentRepository",
    "CorrectionRepository",
    "FeedbackRepository",
    "IdempotencyRepository",
    "ImportFileRecord",
    "ImportFileRepository",
    "KnownItemKind",
    "KnownItemRecord",
    "KnownItemRepository",
    "KnownItemStatus",
    "MemberRepository",
    "Reservation",
    "ReservationState",
    "StatementRepository",
    "TransactionRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "change_known_item_status",
    "check_known_item",
    "merge_known_item",
]


class BusinessRepository(Protocol):
    """Tenants themselves (not scoped: creating and listing tenants is an operator task)."""

    def add(self, business: Business) -> None: ...
    def get(self, business_id: str) -> Business | None: ...
    def page(self, after: str | None, limit: int) -> list[Business]:
        """Up to ``limit`` businesses by id, after the id ``after`` (keyset paging: a bank's
        millions of tenants are never all read to serve one page)."""
        ...

    def list(self) -> list[Business]: ...
    def delete(self, business_id: str) -> None: ...


class MemberRepository(Protocol):
    def add(self, member: Member) -> None: ...
    def list(self) -> list[Member]: ...


class AccountRepository(Protocol):
    def add(self, account: Account) -> None: ...
    def get(self, account_id: str) -> Account | None: ...
    def find(self, identifier: str, currency: str) -> Account | None: ...
    def list(self) -> list[Account]: ...


class StatementRepository(Protocol):
    def add_if_new(self, statement: Statement, dedup_key: str) -> bool:
        """Store the statement unless one with this key exists; True when stored."""
        ...

    def list(self, account_id: str | None = None) -> list[Statement]: ...


class TransactionRepository(Protocol):
    def add_new(self, transactions: Sequence[Transaction]) -> int:
        """Insert those whose ``(account_id, dedup_key)`` is not stored yet; return how many.

        Safe under concurrency: two writers adding the same keys store each key once.
        """
        ...

    def get(self, transaction_id: str) -> Transaction | None: ...
    def count(self, account_id: str | None = None) -> int: ...
    def list(
        self,
        account_id: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int | None = None,
    ) -> list[Transaction]: ...
    def iter_all(self, batch_size: int = 5000) -> Iterator[Transaction]:
        """All of the business's transactions in canonical order (account, date, arrival)."""
        ...


class ConsentRepository(Protocol):
    def grant(self, grant: ConsentGrant) -> None: ...
    def withdraw(self, purpose: Purpose, when: object) -> None: ...
    def active(self) -> set[Purpose]: ...
    def history(self) -> list[ConsentGrant]: ...


class ImportFileRecord(Protocol):
    sha256: str
    path: str
    format: str


class ImportFileRepository(Protocol):
    def record(self, sha256: str, path: str, fmt: str, transactions: int, new: int) -> None: ...
    def list(self) -> list[dict[str, object]]: ...


class AnnotationRepository(Protocol):
    """Enrichment results keyed by ``(transaction_id, kind)``; the transactions stay untouched."""

    def upsert(self, annotations: Sequence[Annotation]) -> int:
        """Insert or replace each ``(transaction_id, kind)``; return how many were written.

        Refuses (``ValueError``) annotations of another business or of a transaction that is
        not this business's.
        """
        ...

    def for_transactions(self, transaction_ids: Sequence[str]) -> list[Annotation]: ...
    def list(self, kind: AnnotationKind | str) -> list[Annotation]: ...
    def delete(self, kind: AnnotationKind | str) -> int:
        """Drop every annotation of ``kind`` (before a full re-run, or on consent withdrawal)."""
        ...

    def save_profile(self, words: Sequence[str]) -> None:
        """The business's trade words (``business_profiles``), stored by each full run so that
        a handful of new lines is categorized with the whole history's profile."""
        ...

    def profile(self) -> tuple[str, ...] | None: ...


C = TypeVar("C")


class CorrectionRepository(Protocol[C]):
    """The owner's category corrections (``enrich.corrections.Correction``), scoped: the enrich
    ``CorrectionStore`` shape for one business. Generic because ``core`` may not import the
    enrich type; the adapters store and return ``Correction`` objects."""

    def add(self, correction: C, member_id: str = "") -> None: ...
    def training_examples(self) -> list[tuple[Transaction, str]]:
        """(transaction, category) of corrections made with the ``model_improvement`` consent,
        and only while that consent is still active: the next training run's labels."""
        ...

    def list(self) -> list[C]:
        """The business's corrections, oldest first."""
        ...


class AnomalyRepository(Protocol):
    """The anomaly detector's verdicts (``analyze.anomalies.AnomalyResult``), one per
    transaction that had any evidence; typed ``Any`` because ``core`` may not import analyze."""

    def replace_all(self, results: Sequence[Any]) -> int:
        """Drop the business's verdicts and store these (a full detection run)."""
        ...

    def upsert(self, results: Sequence[Any]) -> int:
        """Insert or replace the verdicts of these transactions (real-time scoring)."""
        ...

    def list(self, *, raised_only: bool = False) -> list[Any]: ...


ReservationState = Literal["new", "replay", "mismatch", "in_progress"]


@dataclass(frozen=True, slots=True)
class Reservation:
    """What an ``Idempotency-Key`` look-up found: go ahead (``new``; when the work ran in the
    same transaction as its key, ``new`` carries the answer just stored), the stored first
    answer (``replay``), another payload under the key (``mismatch``), or a first request
    still running (``in_progress``)."""

    state: ReservationState
    status_code: int | None = None
    content_type: str | None = None
    body: str | None = None


@dataclass(frozen=True, slots=True)
class KeyedAnswer:
    """A finished answer to store under an ``Idempotency-Key`` (``record_many``)."""

    subject: str
    key: str
    request_hash: str
    status_code: int
    content_type: str
    body: str


class IdempotencyRepository(Protocol):
    """A business's ``Idempotency-Key`` records, read and written inside a unit of work, so a
    request's effects and its stored answer commit together (the real-time ingest path)."""

    def find(self, subject: str, key: str, request_hash: str) -> Reservation | None:
        """The record under (subject, key) as this request sees it; ``None``: no record."""
        ...

    def find_many(self, requests: Sequence[tuple[str, str, str]]) -> list[Reservation | None]:
        """``find`` for several (subject, key, request_hash) at once, in one look-up: a
        group of real-time POSTs pays for one statement, not one each."""
        ...

    def record(
        self,
        subject: str,
        key: str,
        request_hash: str,
        status_code: int,
        content_type: str,
        body: str,
    ) -> bool:
        """Store a finished answer under a free key; ``False`` when the key was taken."""
        ...

    def record_many(self, answers: Sequence[KeyedAnswer]) -> int:
        """``record`` for several answers in one statement; how many were stored (fewer
        than given: some key was taken)."""
        ...

    def release_stale(self, subject: str, key: str, older_than: datetime) -> bool:
        """Drop an unfinished reservation made before ``older_than`` (its owner died), so
        this request may run; ``False`` when there is none."""
        ...


class FeedbackRepository(Protocol):
    """The owner's "this is expected" (``analyze.anomalies.ExpectedFeedback``), scoped."""

    def add(self, feedback: Any) -> bool:
        """Store it unless the same (transaction, pattern) is stored; True when stored."""
        ...

    def list(self) -> list[Any]:
        """The business's feedback, oldest first."""
        ...


class CardPolicyRepository(Protocol):
    """Employee-card policy documents (JSON objects), every version kept."""

    def save(self, document: dict[str, Any], created_by: str = "") -> None: ...
    def current(self) -> dict[str, Any] | None:
        """The most recently saved document, or None."""
        ...

    def get(self, version: str) -> dict[str, Any] | None: ...


class CardDecisionRepository(Protocol):
    """Card authorizations (``decide.card_policies.Authorization``) as stored records."""

    def add(self, decision_id: str, authorization: Any) -> None: ...

    def approved(self, card_id: str, since: datetime) -> list[tuple[datetime, int, str]]:
        """(purchase time, amount_minor, currency) of the card's approvals since ``since``:
        the hot path of month-to-date spend, without decoding whole records."""
        ...

    def booked_outflows(
        self, card_id: str, since: date, until: date
    ) -> list[tuple[date, int, str]]:
        """(booking date, amount_minor > 0, currency) of the card's booked purchases."""
        ...

    def list(
        self, card_id: str | None = None, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Records (``Authorization.as_record()`` + ``decision_id``, ``created_at``), oldest
        first; ``since``: purchases at or after that instant only."""
        ...


class BusinessScope(Protocol):
    """All repositories of one tenant; each query is filtered by ``business_id``."""

    business_id: str
    members: MemberRepository
    accounts: AccountRepository
    statements: StatementRepository
    transactions: TransactionRepository
    consents: ConsentRepository
    imports: ImportFileRepository
    annotations: AnnotationRepository
    corrections: CorrectionRepository[Any]
    anomalies: AnomalyRepository
    feedback: FeedbackRepository
    card_policies: CardPolicyRepository
    card_decisions: CardDecisionRepository
    idempotency: IdempotencyRepository
    known_items: KnownItemRepository


KnownItemKind = Literal["invoice", "scheduled"]
KnownItemStatus = Literal["open", "settled", "cancelled"]
KNOWN_ITEM_KINDS: tuple[KnownItemKind, ...] = ("invoice", "scheduled")
KNOWN_ITEM_STATUSES: tuple[KnownItemStatus, ...] = ("open", "settled", "cancelled")


@dataclass(frozen=True, slots=True)
class KnownItemRecord:
    """A future movement the bank's systems already know of: an open invoice the business
    is owed (``invoice``, ``amount_minor > 0``) or a standing order / agreed payment
    (``scheduled``, either sign). Money in integer minor units of the account's currency;
    ``item_id`` is the client's own id, unique per business."""

    business_id: str
    item_id: str
    kind: KnownItemKind
    account_id: str
    due_date: date
    amount_minor: int
    currency: str
    counterparty: str = ""
    reference: str = ""
    label: str = ""
    status: KnownItemStatus = "open"
    created_at: datetime | None = None  # set by the repository (UTC)
    updated_at: datetime | None = None

    def same_content(self, other: KnownItemRecord) -> bool:
        """Equal in everything a client sends (not the timestamps)."""
        return _content(self) == _content(other)


def _content(r: KnownItemRecord) -> tuple[object, ...]:
    return (
        r.business_id, r.item_id, r.kind, r.account_id, r.due_date, r.amount_minor,
        r.currency, r.counterparty, r.reference, r.label, r.status,
    )  # fmt: skip


class KnownItemRepository(Protocol):
    """The business's known future items (``known_items``), scoped.

    Writes refuse (``ValidationError``) an unknown kind or status, an account that is not the
    business's, a currency other than the account's, and an invoice of amount <= 0."""

    def upsert(self, item: KnownItemRecord, now: datetime) -> tuple[KnownItemRecord, bool]:
        """Create or replace ``item_id``; (the stored item, whether anything changed). The
        same content again changes nothing (not even ``updated_at``); replacing keeps
        ``created_at``; a settled or cancelled item can only be re-sent unchanged
        (``Conflict`` otherwise)."""
        ...

    def get(self, item_id: str) -> KnownItemRecord | None: ...
    def list(self, status: KnownItemStatus | None = "open") -> list[KnownItemRecord]:
        """By due date then id; ``status=None``: all of them."""
        ...

    def set_status(
        self, item_id: str, status: KnownItemStatus, now: datetime
    ) -> KnownItemRecord | None:
        """Settle or cancel an open item (``None``: no such item). The same status again
        changes nothing; leaving ``settled``/``cancelled`` is a ``Conflict``."""
        ...


def check_known_item(item: KnownItemRecord, account: Account | None) -> None:
    """The rules both adapters enforce (``ValidationError`` naming the field)."""
    if item.kind not in KNOWN_ITEM_KINDS:
        raise ValidationError(f"kind: must be one of {', '.join(KNOWN_ITEM_KINDS)}")
    if item.status not in KNOWN_ITEM_STATUSES:
        raise ValidationError(f"status: must be one of {', '.join(KNOWN_ITEM_STATUSES)}")
    if not item.item_id:
        raise ValidationError("item_id: must not be empty")
    if account is None or account.business_id != item.business_id:
        raise ValidationError(f"account_id: {item.account_id!r} is not an account of the business")
    if item.currency != account.currency:
        raise ValidationError(
            f"currency: {item.currency} is not the account's currency ({account.currency})"
        )
    if item.kind == "invoice" and item.amount_minor <= 0:
        raise ValidationError("amount: an invoice is money owed to the business (> 0)")


def merge_known_item(
    stored: KnownItemRecord | None, item: KnownItemRecord, now: datetime
) -> tuple[KnownItemRecord, bool]:
    """What an upsert stores, shared by the adapters: (the row, whether it changed)."""
    if stored is not None and stored.same_content(dataclasses.replace(item, status=stored.status)):
        return stored, False  # the same content again (whatever the status): nothing changes
    if stored is not None and stored.status != "open":
        raise Conflict(f"known item {item.item_id!r} is {stored.status}; it can not be replaced")
    now = now.astimezone(UTC)
    created = stored.created_at if stored is not None else now
    return dataclasses.replace(item, status="open", created_at=created, updated_at=now), True


def change_known_item_status(
    stored: KnownItemRecord, status: KnownItemStatus, now: datetime
) -> tuple[KnownItemRecord, bool]:
    """Settle or cancel, shared by the adapters: (the row, whether it changed)."""
    if status not in KNOWN_ITEM_STATUSES:
        raise ValidationError(f"status: must be one of {', '.join(KNOWN_ITEM_STATUSES)}")
    if stored.status == status:
        return stored, False
    if stored.status != "open":
        raise Conflict(f"known item {stored.item_id!r} is already {stored.status}")
    return dataclasses.replace(stored, status=status, updated_at=now.astimezone(UTC)), True


class UnitOfWork(Protocol):
    """One atomic piece of work: everything in it commits together or not at all."""

    businesses: BusinessRepository

    def scope(self, business_id: str) -> BusinessScope: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back anything not committed."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
