"""The notification outbox table (issue 8): every e-mail and push waits here until it is sent.

One row per ``(business_id, kind, period_key, channel)`` — the unique key that makes a digest
or a held insight go out once per period and channel however often the dispatcher runs. Rows
carry the rendered message (subject, text, HTML, JSON payload) so the dispatcher needs nothing
else to send it; they hold personal data only as long as the business's other rows (a
``business_id`` column: export and erasure cover them; consent withdrawal drops the unsent
ones). Must stay in step with ``migrations/versions/0008_outbox.py``.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from ledgerlens.adapters.db.tables import UtcDateTime, metadata

__all__ = ["notification_outbox"]

notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("outbox_id", String(64), primary_key=True),
    Column("business_id", String(128), nullable=False),
    Column("kind", String(32), nullable=False),  # insight | digest_daily | digest_weekly
    Column("period_key", String(64), nullable=False),  # insight id | 2026-12-07 | 2026-W50
    Column("channel", String(16), nullable=False),  # in_app | email | push
    Column("purpose", String(32), nullable=False),  # the consent it is sent under
    Column("topic", String(40), nullable=False),  # what mute is checked against
    Column("reference", String(64), nullable=False),  # receivers deduplicate on it
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed | dropped
    Column("not_before", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(64), nullable=False),  # a reason or an error class: no PII
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    UniqueConstraint("business_id", "kind", "period_key", "channel"),
    Index(None, "status", "not_before"),
    Index(None, "business_id", "created_at"),
)
