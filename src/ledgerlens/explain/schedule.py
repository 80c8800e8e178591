"""When a business's digest is due: its frequency, send time and weekday, in its own time zone.

A daily digest is due every day at the send time (default 07:00 local), a weekly one on the
chosen weekday (default Monday) at that time. ``digest_due`` names the latest period whose send
time has passed — ``2026-12-07`` for a daily digest, ``2026-W50`` (ISO week) for a weekly one —
which is the outbox key that makes it go out once. A period more than ``max_lag`` late is not
sent at all: a dispatcher that was down for a day does not wake owners with yesterday's news.

The send time and weekday live in ``Preferences.extra`` (``digest_time`` = ``"HH:MM"``,
``digest_weekday`` = ``mon``…``sun``); an unreadable value falls back to the default rather
than silencing the digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledgerlens.consent.model import DigestFrequency, Preferences

__all__ = [
    "DEFAULT_SEND_TIME",
    "DigestDue",
    "digest_due",
    "local_zone",
    "send_time",
    "send_weekday",
]

DEFAULT_SEND_TIME = time(7, 0)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_LAG = {"daily": timedelta(hours=12), "weekly": timedelta(hours=48)}


@dataclass(frozen=True, slots=True)
class DigestDue:
    period: str  # daily | weekly
    period_key: str  # 2026-12-07 | 2026-W50
    due_at: datetime  # UTC: the local send time of that period

    @property
    def kind(self) -> str:
        return f"digest_{self.period}"


def local_zone(prefs: Preferences) -> ZoneInfo:
    try:
        return ZoneInfo(prefs.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def send_time(prefs: Preferences) -> time:
    raw = (prefs.extra or {}).get("digest_time", "")
    try:
        return time.fromisoformat(raw) if raw else DEFAULT_SEND_TIME
    except ValueError:
        return DEFAULT_SEND_TIME


def send_weekday(prefs: Preferences) -> int:
    raw = str((prefs.extra or {}).get("digest_weekday", "mon")).strip().lower()[:3]
    return _WEEKDAYS.index(raw) if raw in _WEEKDAYS else 0


def _at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``zone`` as UTC (a time skipped by DST moves forward)."""
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC)


def digest_due(
    prefs: Preferences, now: datetime, *, max_lag: timedelta | None = None
) -> DigestDue | None:
    """The digest period due at ``now`` (aware), or None (no digest chosen, or too late)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if prefs.digest is DigestFrequency.NONE:
        return None
    period = str(prefs.digest)
    zone, at = local_zone(prefs), send_time(prefs)
    today = now.astimezone(zone).date()
    if period == "daily":
        day = today if _at(today, at, zone) <= now else today - timedelta(days=1)
        key = day.isoformat()
    else:
        day = today - timedelta(days=(today.weekday() - send_weekday(prefs)) % 7)
        if _at(day, at, zone) > now:
            day -= timedelta(days=7)
        iso = day.isocalendar()
        key = f"{iso.year}-W{iso.week:02d}"
    due = _at(day, at, zone)
    if now - due > (max_lag if max_lag is not None else _MAX_LAG[period]):
        return None
    return DigestDue(period, key, due)
