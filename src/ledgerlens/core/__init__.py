"""The pure shared kernel: money, ids, ledger types, taxonomy, privacy, errors and ports."""

from ledgerlens.core.errors import (
    AmountError,
    Conflict,
    ConsentRequired,
    CurrencyError,
    ImportRefused,
    LedgerLensError,
    NotFound,
    StorageError,
    ValidationError,
)
from ledgerlens.core.ledger import (
    CANONICAL_COLUMNS,
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
from ledgerlens.core.money import Money, currency_exponent, format_minor, parse_amount, to_minor
from ledgerlens.core.taxonomy import Category, Taxonomy, load_taxonomy

__all__ = [
    "CANONICAL_COLUMNS",
    "Account",
    "AccountType",
    "AmountError",
    "Business",
    "Category",
    "Conflict",
    "ConsentGrant",
    "ConsentRequired",
    "CurrencyError",
    "ImportRefused",
    "LedgerLensError",
    "Member",
    "Money",
    "NotFound",
    "Purpose",
    "Role",
    "Statement",
    "StorageError",
    "Taxonomy",
    "Transaction",
    "ValidationError",
    "currency_exponent",
    "format_minor",
    "load_taxonomy",
    "parse_amount",
    "to_minor",
    "utc_now",
]
