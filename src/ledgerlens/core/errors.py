"""One error tree for LedgerLens; mapped to CLI messages and HTTP problems only at the edges.

LedgerLensError
├── ValidationError          bad input value (maps to 400/422)
│   ├── CurrencyError        unknown ISO 4217 code, or mixing currencies
│   └── AmountError          not an amount, or more decimals than the currency has
├── ImportRefused            a statement file cannot be imported whole (carries issues)
├── NotFound                 no such resource for this business (maps to 404)
├── ConsentRequired          the purpose has no active grant (maps to 403)
├── Conflict                 idempotency or uniqueness conflict (maps to 409)
└── StorageError             the database refused or is unreachable (maps to 503)
"""

from __future__ import annotations

__all__ = [
    "AmountError",
    "Conflict",
    "ConsentRequired",
    "CurrencyError",
    "ImportRefused",
    "LedgerLensError",
    "NotFound",
    "StorageError",
    "ValidationError",
]


class LedgerLensError(Exception):
    """Base of every error LedgerLens raises on purpose."""


class ValidationError(LedgerLensError):
    """An input value is not acceptable."""


class CurrencyError(ValidationError):
    """Unknown currency code or arithmetic across currencies."""


class AmountError(ValidationError):
    """Text is not an amount, or has more decimals than its currency allows."""


class ImportRefused(LedgerLensError):
    """A file was refused as a whole; ``issues`` say where and why."""

    def __init__(self, path: str, issues: list[object]) -> None:
        self.path = path
        self.issues = issues
        first = issues[0] if issues else "no reason given"
        super().__init__(f"{path}: refused: {first}")


class NotFound(LedgerLensError):
    """The resource does not exist for this business (or belongs to another)."""


class ConsentRequired(LedgerLensError):
    """Processing for a purpose was asked for without an active consent grant."""


class Conflict(LedgerLensError):
    """The request conflicts with stored state (idempotency key reuse, uniqueness)."""


class StorageError(LedgerLensError):
    """The storage backend failed."""
