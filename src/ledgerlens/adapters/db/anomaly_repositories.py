"""SQL repositories of unusual transactions and card controls (see ``anomaly_tables``).

Bound to one business like every tenant repository (``SqlBusinessScope``): reads filter by its
``business_id``; writes refuse rows of another business, or about a transaction that is not this
business's, with ``ValueError`` (a programming error). ``SqlFeedbackStore`` adapts the scoped
feedback rows to the detector's ``FeedbackStore`` port for callers that hold a connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select

from ledgerlens.adapters.db.anomaly_tables import (
    anomaly_feedback,
    anomaly_results,
    card_decisions,
    card_policies,
)
from ledgerlens.adapters.db.enrichment_repositories import _chunks, _owned_transactions, _upsert
from ledgerlens.adapters.db.guards import ensure_aware, ensure_masked_card, ensure_same_business
from ledgerlens.adapters.db.tables import transactions
from ledgerlens.analyze.anomalies import AnomalyResult, ExpectedFeedback
from ledgerlens.analyze.anomalies.fuse import MODEL_NAME, MODEL_VERSION
from ledgerlens.core.errors import ValidationError
from ledgerlens.core.ledger import utc_now
from ledgerlens.decide.card_policies import Authorization

__all__ = [
    "DETECTOR_VERSION",
    "SqlAnomalyRepository",
    "SqlCardDecisionRepository",
    "SqlCardPolicyRepository",
    "SqlFeedbackRepository",
    "SqlFeedbackStore",
]

ConnectionSource = Callable[[], Connection]
DETECTOR_VERSION = f"{MODEL_NAME}@{MODEL_VERSION}"  # stored beside each verdict


class _Scoped:
    def __init__(self, connection: ConnectionSource, business_id: str) -> None:
        self._conn = connection
        self.business_id = business_id


def _result_row(business_id: str, r: AnomalyResult, now: datetime) -> dict[str, Any]:
    return {
        "transaction_id": r.transaction_id,
        "business_id": business_id,
        "score": float(r.score),
        "is_anomaly": bool(r.is_anomaly),
        "kind": r.kind,
        "reasons": json.dumps(list(r.reasons), ensure_ascii=False),
        "evidence": json.dumps([list(e) for e in r.evidence], ensure_ascii=False),
        "source": r.source,
        "model_version": DETECTOR_VERSION,
        "confidence": float(r.confidence),
        "incident_id": r.incident_id,
        "rule_ids": json.dumps(list(r.rule_ids)),
        "suppressed_by": r.suppressed_by,
        "feedback_key": r.feedback_key,
        "detected_at": now,
    }


def _result(row: Row[Any]) -> AnomalyResult:
    m = row._mapping
    return AnomalyResult(
        transaction_id=m["transaction_id"],
        score=float(m["score"]),
        is_anomaly=bool(m["is_anomaly"]),
        kind=m["kind"],
        reasons=tuple(json.loads(m["reasons"])),
        source=m["source"],
        confidence=float(m["confidence"]),
        evidence=tuple((str(k), str(v)) for k, v in json.loads(m["evidence"])),
        incident_id=m["incident_id"],
        rule_ids=tuple(json.loads(m["rule_ids"])),
        suppressed_by=m["suppressed_by"],
        feedback_key=m["feedback_key"],
    )


class SqlAnomalyRepository(_Scoped):
    """``core.ports.AnomalyRepository`` over SQL, storing ``AnomalyResult``."""

    def __init__(
        self, connection: ConnectionSource, business_id: str, stored_now: set[str] | None = None
    ) -> None:
        super().__init__(connection, business_id)
        self._stored_now = stored_now  # the scope's ids inserted in the open transaction

    def _write(self, results: Sequence[AnomalyResult]) -> int:
        if not results:
            return 0
        now = utc_now()
        rows = {r.transaction_id: _result_row(self.business_id, r, now) for r in results}
        conn = self._conn()
        _owned_transactions(conn, self.business_id, set(rows), self._stored_now)
        stmt = _upsert(conn, anomaly_results, ["transaction_id"])
        for chunk in _chunks(list(rows.values())):
            conn.execute(stmt, list(chunk))
        return len(rows)

    def replace_all(self, results: Sequence[AnomalyResult]) -> int:
        self._conn().execute(
            delete(anomaly_results).where(anomaly_results.c.business_id == self.business_id)
        )
        return self._write(results)

    def upsert(self, results: Sequence[AnomalyResult]) -> int:
        return self._write(results)

    def list(self, *, raised_only: bool = False) -> list[AnomalyResult]:
        stmt = select(anomaly_results).where(anomaly_results.c.business_id == self.business_id)
        if raised_only:
            stmt = stmt.where(anomaly_results.c.is_anomaly.is_(True))
        stmt = stmt.order_by(anomaly_results.c.score.desc(), anomaly_results.c.transaction_id)
        return [_result(r) for r in self._conn().execute(stmt)]


def _feedback(row: Row[Any]) -> ExpectedFeedback:
    m = row._mapping
    return ExpectedFeedback(
        business_id=m["business_id"],
        transaction_id=m["transaction_id"],
        kind=m["kind"],
        key=m["pattern_key"],
        amount_minor=int(m["amount_minor"]),
        created_at=m["created_at"],
        created_by=m["created_by"],
    )


def _list_feedback(conn: Connection, business_id: str) -> list[ExpectedFeedback]:
    stmt = (
        select(anomaly_feedback)
        .where(anomaly_feedback.c.business_id == business_id)
        .order_by(anomaly_feedback.c.created_at, anomaly_feedback.c.transaction_id)
    )
    return [_feedback(r) for r in conn.execute(stmt)]


class SqlFeedbackRepository(_Scoped):
    """``core.ports.FeedbackRepository`` over SQL, storing ``ExpectedFeedback``."""

    def add(self, feedback: ExpectedFeedback) -> bool:
        fb = feedback
        ensure_same_business(self.business_id, fb.business_id, f"feedback on {fb.transaction_id!r}")
        ensure_aware(fb.created_at, "feedback created_at")
        conn = self._conn()
        _owned_transactions(conn, self.business_id, {fb.transaction_id})
        seen = conn.execute(
            select(anomaly_feedback.c.transaction_id).where(
                anomaly_feedback.c.transaction_id == fb.transaction_id,
                anomaly_feedback.c.pattern_key == fb.key,
            )
        ).first()
        if seen is not None:  # marking the same alert twice is one confirmation, not two
            return False
        conn.execute(
            insert(anomaly_feedback),
            {
                "transaction_id": fb.transaction_id,
                "pattern_key": fb.key,
                "business_id": fb.business_id,
                "kind": fb.kind,
                "amount_minor": abs(int(fb.amount_minor)),
                "created_by": fb.created_by,
                "created_at": fb.created_at,
            },
        )
        return True

    def list(self) -> list[ExpectedFeedback]:
        return _list_feedback(self._conn(), self.business_id)


class SqlFeedbackStore:
    """The detector's ``FeedbackStore`` port over the feedback table (any business, each read
    filtered by the business asked for) — for batch jobs holding one connection."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._conn = connection

    def add(self, feedback: ExpectedFeedback) -> None:
        SqlFeedbackRepository(self._conn, feedback.business_id).add(feedback)

    def for_business(self, business_id: str) -> Sequence[ExpectedFeedback]:
        return _list_feedback(self._conn(), business_id)


class SqlCardPolicyRepository(_Scoped):
    """``core.ports.CardPolicyRepository``: documents keyed by ``(business, version)``.

    A version is immutable once stored: saving another document under a stored version is
    refused (``ValidationError``), since stored decisions point at it; the same document again
    is a no-op."""

    def save(self, document: dict[str, Any], created_by: str = "") -> None:
        version, policy_id = str(document.get("version", "")), str(document.get("policy_id", ""))
        if not version or not policy_id:
            raise ValidationError("card policy: policy_id and version are required")
        text = json.dumps(document, ensure_ascii=False, sort_keys=True)
        conn = self._conn()
        stored = conn.execute(
            select(card_policies.c.document).where(
                card_policies.c.business_id == self.business_id,
                card_policies.c.version == version,
            )
        ).scalar()
        if stored is not None:
            if stored != text:
                raise ValidationError(
                    f"card policy version {version!r} is already stored with other rules; "
                    "give the new rules a new version"
                )
            return
        conn.execute(
            insert(card_policies),
            {
                "business_id": self.business_id,
                "version": version,
                "policy_id": policy_id,
                "document": text,
                "created_by": created_by,
                "created_at": utc_now(),
            },
        )

    def current(self) -> dict[str, Any] | None:
        text = (
            self._conn()
            .execute(
                select(card_policies.c.document)
                .where(card_policies.c.business_id == self.business_id)
                .order_by(card_policies.c.created_at.desc(), card_policies.c.version.desc())
                .limit(1)
            )
            .scalar()
        )
        return None if text is None else dict(json.loads(text))

    def get(self, version: str) -> dict[str, Any] | None:
        text = (
            self._conn()
            .execute(
                select(card_policies.c.document).where(
                    card_policies.c.business_id == self.business_id,
                    card_policies.c.version == version,
                )
            )
            .scalar()
        )
        return None if text is None else dict(json.loads(text))


class SqlCardDecisionRepository(_Scoped):
    """``core.ports.CardDecisionRepository``: one row per authorization, never updated."""

    def add(self, decision_id: str, authorization: Authorization) -> None:
        a = authorization
        ensure_masked_card(a.card_id)
        ensure_aware(a.time, "authorization time")
        record = a.as_record()
        self._conn().execute(
            insert(card_decisions),
            {
                "decision_id": decision_id,
                "business_id": self.business_id,
                "card_id": a.card_id,
                "decision": a.decision.value,
                "reason_codes": json.dumps(record["reason_codes"]),
                "policy_id": a.policy_id,
                "policy_version": a.policy_version,
                "amount_minor": a.amount_minor,
                "currency": a.currency,
                "authorized_at": a.time,
                "record": json.dumps(record, ensure_ascii=False, sort_keys=True),
                "created_at": utc_now(),
            },
        )

    def approved(self, card_id: str, since: datetime) -> list[tuple[datetime, int, str]]:
        ensure_aware(since, "since")
        c = card_decisions.c
        stmt = select(c.authorized_at, c.amount_minor, c.currency).where(
            c.business_id == self.business_id,
            c.card_id == card_id,
            c.authorized_at >= since,
            c.decision == "approve",
        )
        return [(t, int(a), cur) for t, a, cur in self._conn().execute(stmt)]

    def booked_outflows(
        self, card_id: str, since: date, until: date
    ) -> list[tuple[date, int, str]]:
        t = transactions.c
        stmt = select(t.booking_date, t.amount_minor, t.currency).where(
            t.business_id == self.business_id,
            t.booking_date >= since,
            t.booking_date <= until,
            t.card_id == card_id,
            t.amount_minor < 0,
        )
        return [(d, -int(a), cur) for d, a, cur in self._conn().execute(stmt)]

    def list(
        self, card_id: str | None = None, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        stmt = select(
            card_decisions.c.decision_id, card_decisions.c.record, card_decisions.c.created_at
        ).where(card_decisions.c.business_id == self.business_id)
        if card_id is not None:
            stmt = stmt.where(card_decisions.c.card_id == card_id)
        if since is not None:
            ensure_aware(since, "since")
            stmt = stmt.where(card_decisions.c.authorized_at >= since)
        stmt = stmt.order_by(card_decisions.c.authorized_at, card_decisions.c.created_at,
                             card_decisions.c.decision_id)  # fmt: skip
        return [
            {**json.loads(rec), "decision_id": did, "created_at": created.isoformat()}
            for did, rec, created in self._conn().execute(stmt)
        ]
