"""What a business has agreed to and how it wants to hear from LedgerLens.

Pure value objects. ``ConsentState`` is the set of purposes granted right now (built from the
stored grants); ``Preferences`` are the owner's choices: kinds muted, the cash buffer a shortfall
is measured against, channels, quiet hours, digest frequency and language. Defaults are the
conservative ones: in-app only, no quiet-hours surprises, English.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import time

from ledgerlens.core.ledger import Purpose

__all__ = ["Channel", "ConsentState", "DigestFrequency", "Preferences", "Purpose"]


class Channel(enum.StrEnum):
    IN_APP = "in_app"  # the insights feed: always on while the insights consent holds
    EMAIL = "email"
    PUSH = "push"  # an HMAC-signed webhook to the bank's push service


class DigestFrequency(enum.StrEnum):
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The purposes a business has granted and not withdrawn."""

    business_id: str
    granted: frozenset[Purpose] = frozenset()

    def has(self, purpose: Purpose | str) -> bool:
        return Purpose(purpose) in self.granted


@dataclass(frozen=True, slots=True)
class Preferences:
    """The owner's notification choices (one row per business).

    ``quiet_start``/``quiet_end`` are local wall-clock times in ``timezone``; a window that
    crosses midnight (22:00–07:00) is the usual case. ``buffer_minor`` is in the base currency.
    """

    business_id: str
    muted_kinds: frozenset[str] = frozenset()
    buffer_minor: int = 0
    channels: frozenset[Channel] = frozenset({Channel.IN_APP})
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "UTC"
    digest: DigestFrequency = DigestFrequency.WEEKLY
    language: str = "en"
    email: str = ""
    push_url: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", frozenset(Channel(c) for c in self.channels))
        object.__setattr__(self, "muted_kinds", frozenset(self.muted_kinds))
        object.__setattr__(self, "digest", DigestFrequency(self.digest))
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet hours need both a start and an end")
