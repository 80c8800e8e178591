"""Guards every write passes: tenant scoping, masked card numbers, timezone-aware instants.

Shared by the SQL repositories and the in-memory fakes (tests/fakes.py) so both refuse exactly
the same rows. A refusal is a ``ValueError``: these are programming errors in the caller (the
importer masks cards, the services scope by business), not user input problems.
"""

from __future__ import annotations

import re
from datetime import datetime

__all__ = ["ensure_aware", "ensure_masked_card", "ensure_same_business"]

_CARD_NUMBER = re.compile(r"[0-9]{13,}")
_CARD_SEPARATORS = re.compile(r"[\s.\-_/]")


def ensure_masked_card(card_id: str) -> None:
    """Refuse what looks like a full card number (13-19 digits, separators ignored).

    The importer masks card numbers; this guard makes sure a bug there cannot put a PAN in the
    database (the table has a matching CHECK constraint on the raw value as well).
    """
    if card_id and _CARD_NUMBER.search(_CARD_SEPARATORS.sub("", card_id)):
        raise ValueError(f"card_id is not masked (looks like a card number): {card_id[:4]}…")


def ensure_aware(value: datetime | None, what: str) -> None:
    """Timestamps are instants: a naive datetime would be stored as a guess, so refuse it."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {value!r}")


def ensure_same_business(scope_business_id: str, row_business_id: str, what: str) -> None:
    """A scoped repository writes only its own tenant's rows."""
    if row_business_id != scope_business_id:
        raise ValueError(
            f"{what} belongs to business {row_business_id!r}, not to this scope "
            f"({scope_business_id!r})"
        )
