"""Tables of unusual transactions and employee-card controls (issue #6).

* ``anomaly_results`` — the detector's verdict per transaction that had any evidence (score,
  raised or not, kind, reasons, evidence, source rule or model version). A full run replaces the
  business's rows; real-time scoring upserts the new lines' rows.
* ``anomaly_feedback`` — the owner's "this is expected" (``ExpectedFeedback``): a pattern key
  (a SHA-256 digest, no payee name in clear) and the confirmed amount.
* ``card_policies`` — the business's card-policy documents (JSON), every version kept, so a
  stored decision can always be traced to the exact rules that made it.
* ``card_decisions`` — each card authorization: inputs, decision, reason codes, policy version,
  timestamp UTC (the audit log of issue 7A also receives them when it is configured).

They join ``tables.metadata`` (the no-drift test covers them) and every one has a
``business_id``, so erasure removes their rows. Must stay in step with
``migrations/versions/0004_anomalies.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from ledgerlens.adapters.db.tables import UtcDateTime, metadata

__all__ = ["anomaly_feedback", "anomaly_results", "card_decisions", "card_policies"]

anomaly_results = Table(
    "anomaly_results",
    metadata,
    Column(
        "transaction_id",
        String(128),
        ForeignKey("transactions.transaction_id"),
        primary_key=True,
    ),
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("is_anomaly", Boolean, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON array of plain-language strings
    Column("evidence", Text, nullable=False),  # JSON array of [label, value] pairs
    Column("source", String(128), nullable=False),  # rule:<id> | model:<name>@<version>
    Column("model_version", String(64), nullable=False),  # the detector version that scored it
    Column("confidence", Float, nullable=False),
    Column("incident_id", String(128), nullable=False),
    Column("rule_ids", Text, nullable=False),  # JSON array
    Column("suppressed_by", String(128), nullable=False),
    Column("feedback_key", String(64), nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Index(None, "business_id", "is_anomaly"),
)

anomaly_feedback = Table(
    "anomaly_feedback",
    metadata,
    Column(
        "transaction_id",
        String(128),
        ForeignKey("transactions.transaction_id"),
        nullable=False,
    ),
    Column("pattern_key", String(64), nullable=False),
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("transaction_id", "pattern_key"),
    Index(None, "business_id", "created_at"),
)

card_policies = Table(
    "card_policies",
    metadata,
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column("version", String(64), nullable=False),
    Column("policy_id", String(128), nullable=False),
    Column("document", Text, nullable=False),  # the policy JSON as the owner wrote it
    Column("created_by", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("business_id", "version"),
)

card_decisions = Table(
    "card_decisions",
    metadata,
    Column("decision_id", String(64), primary_key=True),
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column("card_id", String(64), nullable=False),  # masked, as on statements
    Column("decision", String(16), nullable=False),
    Column("reason_codes", Text, nullable=False),  # JSON array
    Column("policy_id", String(128), nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("authorized_at", UtcDateTime, nullable=False),  # the purchase time (UTC)
    Column("record", Text, nullable=False),  # Authorization.as_record(): inputs and outputs
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "business_id", "card_id", "authorized_at"),
)
