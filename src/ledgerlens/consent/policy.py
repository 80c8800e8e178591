"""Pure policy checks: may we process for this purpose, may we tell the owner this way now?

``require`` is what every stage calls before it does work for a purpose: it raises
``ConsentMissing`` so that a missing consent stops the work instead of being logged and ignored.
``allowed`` decides one notification: the kind is not muted, the channel is chosen (in-app is
always chosen), the insights consent holds, and — for interrupting channels (email, push) — the
moment is outside the quiet hours. Critical insights do not break quiet hours either: they wait
in the feed and go out when the window ends (``next_allowed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ledgerlens.consent.model import Channel, ConsentState, Preferences
from ledgerlens.core.errors import LedgerLensError
from ledgerlens.core.ledger import Purpose

__all__ = ["ConsentMissing", "Verdict", "allowed", "in_quiet_hours", "next_allowed", "require"]


class ConsentMissing(LedgerLensError):
    """The business has not granted (or has withdrawn) the purpose this work needs."""


def require(state: ConsentState, purpose: Purpose | str) -> None:
    """Raise ``ConsentMissing`` unless ``purpose`` is granted."""
    if not state.has(purpose):
        raise ConsentMissing(f"business has not consented to {Purpose(purpose).value!r}")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str  # "ok" | "no_consent" | "muted" | "channel_off" | "quiet_hours" | "no_address"


def _local(now: datetime, tz: str) -> time:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(tz)).time()


def in_quiet_hours(prefs: Preferences, now: datetime) -> bool:
    """True when ``now`` (aware) falls in the owner's quiet window (may cross midnight)."""
    if prefs.quiet_start is None or prefs.quiet_end is None:
        return False
    t = _local(now, prefs.timezone)
    start, end = prefs.quiet_start, prefs.quiet_end
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def allowed(
    prefs: Preferences, consent: ConsentState, kind: str, channel: Channel | str, now: datetime
) -> Verdict:
    """May an insight of ``kind`` be delivered on ``channel`` at ``now``?"""
    channel = Channel(channel)
    if not consent.has(Purpose.INSIGHTS):
        return Verdict(False, "no_consent")
    if kind in prefs.muted_kinds:
        return Verdict(False, "muted")
    if channel is not Channel.IN_APP and channel not in prefs.channels:
        return Verdict(False, "channel_off")
    if channel is Channel.EMAIL and not prefs.email:
        return Verdict(False, "no_address")
    if channel is not Channel.IN_APP and in_quiet_hours(prefs, now):
        return Verdict(False, "quiet_hours")
    return Verdict(True, "ok")


def next_allowed(prefs: Preferences, now: datetime) -> datetime:
    """The first moment at or after ``now`` outside the quiet hours (UTC)."""
    if not in_quiet_hours(prefs, now) or prefs.quiet_end is None:
        return now.astimezone(UTC)
    zone = ZoneInfo(prefs.timezone)
    local = now.astimezone(zone)
    end = local.replace(
        hour=prefs.quiet_end.hour, minute=prefs.quiet_end.minute, second=0, microsecond=0
    )
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)
