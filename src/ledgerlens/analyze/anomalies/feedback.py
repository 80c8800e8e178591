""" "This is expected": the owner's feedback, learned per business, suppresses similar alerts.

An alert the owner waves through teaches us a *pattern*: this kind of alert for this payee (or
this card at this kind of merchant) up to about this amount is normal here. Later alerts that
match it are kept (scored, explained, visible on request) but not raised. The tolerance grows
with repeated confirmations — a supplier confirmed three times may vary more than one confirmed
once — and never beyond ``MAX_TOLERANCE`` × the largest confirmed amount, so a fraudster cannot
hide a 10× payment behind a pattern the owner accepted for small ones.

Pure logic plus the ``FeedbackStore`` port and its in-memory twin. Patterns are keyed by an
HMAC-free SHA-256 digest of (kind, payee key), so neither payee names nor IBAN tokens are stored
in the feedback table in clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = [
    "BASE_TOLERANCE",
    "MAX_TOLERANCE",
    "ExpectedFeedback",
    "ExpectedPatterns",
    "FeedbackStore",
    "InMemoryFeedbackStore",
    "pattern_key",
]

BASE_TOLERANCE = 1.5  # a confirmed amount covers up to 1.5 × itself …
STEP_TOLERANCE = 0.25  # … plus this per further confirmation …
MAX_TOLERANCE = 3.0  # … and never more than 3 ×


def pattern_key(kind: str, subject: str) -> str:
    """Stable, non-reversible key of "this kind of alert about this payee/card"."""
    return hashlib.sha256(f"{kind}|{subject}".encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class ExpectedFeedback:
    """The owner marked one alert "this is expected"."""

    business_id: str
    transaction_id: str
    kind: str
    key: str  # pattern_key(kind, subject)
    amount_minor: int  # the confirmed amount (absolute, minor units)
    created_at: datetime
    created_by: str = ""


class FeedbackStore(Protocol):
    """Where feedback lives (the database in production, memory in tests and batch runs)."""

    def add(self, feedback: ExpectedFeedback) -> None: ...

    def for_business(self, business_id: str) -> Sequence[ExpectedFeedback]: ...


class InMemoryFeedbackStore:
    """The in-memory twin of ``FeedbackStore``; business-scoped reads."""

    def __init__(self) -> None:
        self._rows: list[ExpectedFeedback] = []

    def add(self, feedback: ExpectedFeedback) -> None:
        self._rows.append(feedback)

    def for_business(self, business_id: str) -> Sequence[ExpectedFeedback]:
        return [f for f in self._rows if f.business_id == business_id]


@dataclass(frozen=True, slots=True)
class _Pattern:
    max_amount_minor: int
    confirmations: int
    last_transaction_id: str

    @property
    def tolerance(self) -> float:
        return min(MAX_TOLERANCE, BASE_TOLERANCE + STEP_TOLERANCE * (self.confirmations - 1))


class ExpectedPatterns:
    """What one business's feedback has taught: ``match`` says whether an alert is expected."""

    def __init__(self, patterns: dict[str, _Pattern] | None = None) -> None:
        self._patterns = patterns or {}

    @classmethod
    def learn(cls, feedback: Iterable[ExpectedFeedback]) -> ExpectedPatterns:
        patterns: dict[str, _Pattern] = {}
        for fb in sorted(feedback, key=lambda f: f.created_at):
            old = patterns.get(fb.key)
            amount = abs(fb.amount_minor)
            patterns[fb.key] = _Pattern(
                max(amount, old.max_amount_minor if old else 0),
                (old.confirmations if old else 0) + 1,
                fb.transaction_id,
            )
        return cls(patterns)

    def __len__(self) -> int:
        return len(self._patterns)

    def match(self, kind: str, subject: str, amount_minor: int) -> str | None:
        """The transaction id of the confirmation that covers this alert, or None."""
        p = self._patterns.get(pattern_key(kind, subject))
        if p is None or abs(amount_minor) > p.tolerance * p.max_amount_minor:
            return None
        return p.last_transaction_id
