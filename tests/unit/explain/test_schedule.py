"""Digest schedule: due at the owner's local send time, once per period, never stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledgerlens.consent import Preferences
from ledgerlens.explain.schedule import digest_due, send_time, send_weekday


def _p(**kw: object) -> Preferences:
    return Preferences("b1", **kw)  # type: ignore[arg-type,unused-ignore]


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_daily_digest_is_due_from_seven_local_and_keyed_by_the_local_day() -> None:
    tokyo = _p(digest="daily", timezone="Asia/Tokyo")  # UTC+9: 07:00 local = 22:00 UTC before
    assert digest_due(tokyo, utc(2026, 12, 6, 21, 59)) is None  # the 6th's is 24 h old
    due = digest_due(tokyo, utc(2026, 12, 6, 22, 0))
    assert due is not None and due.period_key == "2026-12-07" and due.kind == "digest_daily"
    assert due.due_at == utc(2026, 12, 6, 22, 0)


def test_weekly_digest_is_due_on_the_chosen_weekday_and_keyed_by_iso_week() -> None:
    berlin = _p(digest="weekly", timezone="Europe/Berlin")
    assert digest_due(berlin, utc(2026, 12, 7, 5, 59)) is None  # Monday 06:59 local; W49 stale
    due = digest_due(berlin, utc(2026, 12, 7, 6, 0))
    assert due is not None and (due.period_key, due.kind) == ("2026-W50", "digest_weekly")
    assert digest_due(berlin, utc(2026, 12, 8, 12)).period_key == "2026-W50"  # type: ignore[union-attr,unused-ignore]
    assert digest_due(berlin, utc(2026, 12, 9, 12)) is None  # more than 48 h late: not sent
    friday = _p(digest="weekly", extra={"digest_weekday": "fri", "digest_time": "17:30"})
    due = digest_due(friday, utc(2026, 12, 11, 17, 30))
    assert due is not None and due.period_key == "2026-W50"
    assert digest_due(friday, utc(2026, 12, 11, 17, 29)) is None


def test_daily_digest_missed_for_more_than_twelve_hours_is_skipped() -> None:
    p = _p(digest="daily")
    assert digest_due(p, utc(2026, 12, 7, 18, 59)) is not None
    assert digest_due(p, utc(2026, 12, 7, 19, 1)) is None
    assert digest_due(p, utc(2026, 12, 7, 19, 1), max_lag=timedelta(days=1)) is not None


def test_send_time_follows_daylight_saving_time() -> None:
    berlin = _p(digest="daily", timezone="Europe/Berlin")
    summer = digest_due(berlin, utc(2026, 7, 1, 5, 0))  # 07:00 CEST = 05:00 UTC
    winter = digest_due(berlin, utc(2026, 12, 1, 6, 0))  # 07:00 CET = 06:00 UTC
    assert summer is not None and summer.due_at == utc(2026, 7, 1, 5, 0)
    assert winter is not None and winter.due_at == utc(2026, 12, 1, 6, 0)


def test_no_digest_chosen_and_bad_values_fall_back() -> None:
    assert digest_due(_p(digest="none"), utc(2026, 12, 7, 9)) is None
    odd = _p(extra={"digest_time": "7 o'clock", "digest_weekday": "someday"}, timezone="Mars/Base")
    assert send_time(odd).hour == 7 and send_weekday(odd) == 0
    assert digest_due(odd, utc(2026, 12, 7, 7, 0)) is not None  # UTC, Monday 07:00
    with pytest.raises(ValueError):
        digest_due(_p(), datetime(2026, 12, 7, 7))  # naive
