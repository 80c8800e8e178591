"""The ledger's types: businesses (tenants), members, accounts, statements and transactions.

Pure value objects. Storage adapters translate them to and from rows; no ORM object crosses
into the stages. A transaction is never edited after import: later stages annotate it by id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ledgerlens.core.money import format_minor, validate_currency

__all__ = [
    "CANONICAL_COLUMNS",
    "Account",
    "AccountType",
    "Annotation",
    "AnnotationKind",
    "Business",
    "ConsentGrant",
    "Member",
    "Purpose",
    "Role",
    "Statement",
    "Transaction",
    "utc_now",
]


# The canonical CSV contract (DESIGN.md §3): import/export, the batch CLIs and the synthetic world
# all speak it, so its columns live here, in the kernel every one of them may import.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "transaction_id",
    "business_id",
    "account_id",
    "account_currency",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "description",
    "counterparty_name",
    "counterparty_iban",
    "mcc",
    "card_id",
    "employee_id",
    "balance_after",
    "bank_reference",
)


def utc_now() -> datetime:
    """Timezone-aware UTC now; the only clock the domain uses."""
    return datetime.now(UTC)


class Role(enum.StrEnum):
    OWNER = "owner"
    ACCOUNTANT = "accountant"  # reads the books
    EMPLOYEE = "employee"  # sees own cards only
    BANK_STAFF = "bank_staff"  # operations and audit, no raw PII unless granted
    SERVICE = "service"  # ingestion by machines


class AccountType(enum.StrEnum):
    CURRENT = "current"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    CURRENCY = "currency"  # an FX/currency account held beside the base-currency one


class Purpose(enum.StrEnum):
    """What a business consents to; each stage checks the purpose it serves."""

    INSIGHTS = "insights"
    OFFERS = "offers"
    MODEL_IMPROVEMENT = "model_improvement"
    DATA_SHARING = "data_sharing"


@dataclass(frozen=True, slots=True)
class Business:
    business_id: str
    name: str
    country: str  # ISO 3166-1 alpha-2
    base_currency: str
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        validate_currency(self.base_currency)


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    business_id: str
    display_name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Account:
    """One account of a business. ``identifier`` is what the bank prints (IBAN, number)."""

    account_id: str
    business_id: str
    identifier: str
    currency: str
    account_type: AccountType = AccountType.CURRENT
    name: str = ""

    def __post_init__(self) -> None:
        validate_currency(self.currency)


@dataclass(frozen=True, slots=True)
class Statement:
    """A bank statement as the bank gave it: balances are kept, never repaired."""

    statement_id: str
    business_id: str
    account_id: str
    currency: str
    opening_minor: int | None
    closing_minor: int | None
    sum_minor: int
    transaction_count: int
    period_start: date | None
    period_end: date | None
    source_format: str
    source_path: str
    bank_statement_ref: str = ""

    @property
    def reconciles(self) -> bool | None:
        """opening + Σ amounts == closing; None when the bank gave no balances."""
        if self.opening_minor is None or self.closing_minor is None:
            return None
        return self.opening_minor + self.sum_minor == self.closing_minor


@dataclass(frozen=True, slots=True)
class Transaction:
    """One booked movement on an account, in the account's currency (negative = money out).

    ``original_amount_minor``/``original_currency`` keep the instructed amount when the bank
    converted (a USD card payment on a EUR account). ``dedup_key`` makes re-imports idempotent.
    """

    transaction_id: str
    business_id: str
    account_id: str
    booking_date: date
    value_date: date | None
    amount_minor: int
    currency: str
    description: str
    counterparty_name: str = ""
    counterparty_iban: str = ""
    mcc: str = ""
    card_id: str = ""
    employee_id: str = ""
    balance_after_minor: int | None = None
    bank_reference: str = ""
    bank_tx_code: str = ""
    purpose_code: str = ""
    original_amount_minor: int | None = None
    original_currency: str = ""
    statement_id: str = ""
    source_path: str = ""
    source_line: int = 0
    dedup_key: str = ""

    def __post_init__(self) -> None:
        validate_currency(self.currency)

    @property
    def amount_text(self) -> str:
        return format_minor(self.amount_minor, self.currency)


@dataclass(frozen=True, slots=True)
class ConsentGrant:
    """A business's consent for one purpose; withdrawn grants keep their history."""

    business_id: str
    purpose: Purpose
    granted_at: datetime
    withdrawn_at: datetime | None = None
    granted_by: str = ""

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class AnnotationKind(enum.StrEnum):
    """What an enrichment annotation says about a transaction."""

    CATEGORY = "category"  # value: a taxonomy leaf, "" when the categorizer abstained
    TRANSFER = "transfer"  # value: the pair id shared by both legs of an own-account move
    RECURRING = "recurring"  # value: the id of the recurring series the line belongs to


@dataclass(frozen=True, slots=True)
class Annotation:
    """What a stage concluded about one transaction, beside it (the transaction stays untouched).

    Keyed by ``(transaction_id, kind)``: re-running a stage replaces its annotation instead of
    adding one. Every annotation carries its ``source`` (``rule:<id>`` or
    ``model:<name>@<version>``), a ``confidence`` in [0, 1], plain-language ``reasons`` and
    ``evidence`` as labelled figures (numbers, dates as ISO text) so an owner can check it.
    """

    transaction_id: str
    business_id: str
    kind: AnnotationKind
    value: str
    confidence: float
    source: str
    reasons: tuple[str, ...] = ()
    evidence: dict[str, str | int | float] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", AnnotationKind(self.kind))
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence!r}")
        if not self.source:
            raise ValueError("an annotation needs its source (rule:<id> or model:<name>@<v>)")
