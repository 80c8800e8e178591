"""Consent and preferences: purposes, grants, the owner's choices; pure policy checks."""

from ledgerlens.consent.model import Channel, ConsentState, DigestFrequency, Preferences, Purpose
from ledgerlens.consent.policy import (
    ConsentMissing,
    Verdict,
    allowed,
    in_quiet_hours,
    next_allowed,
    require,
)

__all__ = [
    "Channel",
    "ConsentMissing",
    "ConsentState",
    "DigestFrequency",
    "Preferences",
    "Purpose",
    "Verdict",
    "allowed",
    "in_quiet_hours",
    "next_allowed",
    "require",
]
