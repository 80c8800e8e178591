"""The hash chain of the decision audit log: entries, hashing and verification (pure).

Each business has its own chain: entry *n* stores ``prev_hash`` = the hash of entry *n-1* and
``hash = sha256(prev_hash + canonical JSON of the entry)``. Editing any stored field changes
its hash; deleting an entry breaks the next one's link or the 1..n numbering. Chains are per
business so that erasing a business (GDPR) removes its whole chain and leaves the others
verifiable. What a chain alone cannot show is its newest entries being cut off: ``heads``
(latest position and hash per business) is what to anchor elsewhere for that.

The SQL log (``adapters/db/audit.py``) and ``InMemoryAuditLog`` share this code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from ledgerlens.decide.model import Decision

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "AuditQuery",
    "ChainReport",
    "InMemoryAuditLog",
    "canonical_json",
    "chain_entries",
    "decision_from_record",
    "entry_hash",
    "verify_entries",
]

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8, non-JSON types as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stored decision with its place in its business's chain."""

    business_id: str
    position: int  # 1, 2, … within the business's chain
    decided_at: datetime
    kind: str
    subject: str
    inputs_json: str
    outputs_json: str
    reason_codes: tuple[str, ...]
    reasons: tuple[str, ...]
    versions: tuple[str, ...]
    confidence: float
    source: str
    prev_hash: str
    hash: str
    sequence: int | None = None  # global order of appends (the store assigns it)

    def payload(self) -> dict[str, Any]:
        return {
            "business_id": self.business_id,
            "position": self.position,
            "decided_at": self.decided_at.isoformat(timespec="microseconds"),
            "kind": self.kind,
            "subject": self.subject,
            "inputs": self.inputs_json,
            "outputs": self.outputs_json,
            "reason_codes": list(self.reason_codes),
            "reasons": list(self.reasons),
            "versions": list(self.versions),
            "confidence": self.confidence,
            "source": self.source,
        }

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(json.loads(self.outputs_json))

    @property
    def inputs(self) -> dict[str, Any]:
        return dict(json.loads(self.inputs_json))


def entry_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode("utf-8")).hexdigest()


def chain_entries(
    decisions: Sequence[Decision], heads: dict[str, tuple[int, str]]
) -> list[AuditEntry]:
    """Entries for ``decisions`` continuing each business's chain from ``heads``
    (business → (last position, last hash)); ``heads`` is updated in place."""
    out = []
    for d in decisions:
        pos, prev = heads.get(d.business_id, (0, GENESIS))
        e = AuditEntry(
            business_id=d.business_id,
            position=pos + 1,
            decided_at=d.decided_at.astimezone(UTC),
            kind=str(d.kind),
            subject=d.subject,
            inputs_json=canonical_json(d.inputs),
            outputs_json=canonical_json(d.outputs),
            reason_codes=tuple(d.reason_codes),
            reasons=tuple(d.reasons),
            versions=tuple(d.versions),
            confidence=float(d.confidence),
            source=d.source,
            prev_hash=prev,
            hash="",
        )
        e = _with_hash(e)
        heads[d.business_id] = (e.position, e.hash)
        out.append(e)
    return out


def _with_hash(e: AuditEntry) -> AuditEntry:

    return replace(e, hash=entry_hash(e.prev_hash, e.payload()))


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    businesses: int
    entries: int
    problems: tuple[str, ...] = field(default_factory=tuple)


def verify_entries(entries: Iterable[AuditEntry]) -> ChainReport:
    """Check every business's chain: numbering 1..n, links, and each hash recomputed."""
    by_business: dict[str, list[AuditEntry]] = {}
    for e in entries:
        by_business.setdefault(e.business_id, []).append(e)
    problems: list[str] = []
    n = 0
    for bid, chain in sorted(by_business.items()):
        chain.sort(key=lambda e: e.position)
        prev = GENESIS
        for k, e in enumerate(chain, start=1):
            n += 1
            where = f"{bid} #{e.position}"
            if e.position != k:
                problems.append(f"{where}: expected position {k} (an entry is missing)")
            if e.prev_hash != prev:
                problems.append(f"{where}: link to the previous entry is broken")
            if entry_hash(e.prev_hash, e.payload()) != e.hash:
                problems.append(f"{where}: content does not match its hash (edited)")
            prev = e.hash
    return ChainReport(not problems, len(by_business), n, tuple(problems))


def decision_from_record(business_id: str, kind: str, record: dict[str, Any]) -> Decision:
    """A decision another stage stored as a plain record (issue 6's card authorizations call
    ``services.audit_log(uow, business_id, kind, record)``)."""
    codes = tuple(str(c) for c in record.get("reason_codes") or ()) or (kind.upper(),)
    version = record.get("policy_version")
    versions = (f"policy:{record.get('policy_id', '')}@{version}",) if version else ()
    return Decision(
        business_id=business_id,
        kind=kind,  # type: ignore[arg-type]
        subject=str(record.get("decision_id", kind)),
        outputs={k: v for k, v in record.items() if k != "inputs"},
        inputs=dict(record.get("inputs") or {}),
        reason_codes=codes,
        versions=versions,
        source=str(record.get("source", "")),
    )


class AuditLog(Protocol):
    """Append-only store of decisions (SQL: ``adapters.db.audit.SqlAuditLog``)."""

    def append(self, decisions: Sequence[Decision]) -> list[AuditEntry]: ...

    def entries(self, business_id: str, kind: str | None = None) -> list[AuditEntry]: ...

    def page(self, business_id: str, query: AuditQuery) -> list[AuditEntry]:
        """The business's entries matching ``query``, newest first (by chain position)."""
        ...

    def verify_chain(self, business_id: str | None = None) -> ChainReport: ...

    def __call__(self, uow: Any, business_id: str, kind: str, record: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which entries a reviewer asks for: ``kind`` and ``subject`` exact, ``since``/``until``
    on ``decided_at`` (inclusive, exclusive), ``before`` a chain position (keyset paging
    backwards from the newest), at most ``limit``."""

    kind: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    limit: int = 200

    def matches(self, e: AuditEntry) -> bool:
        return (
            (self.kind is None or e.kind == self.kind)
            and (self.subject is None or e.subject == self.subject)
            and (self.since is None or e.decided_at >= self.since)
            and (self.until is None or e.decided_at < self.until)
            and (self.before is None or e.position < self.before)
        )


class InMemoryAuditLog:
    """The same chain in a list: tests and database-free dry runs."""

    def __init__(self) -> None:
        self.rows: list[AuditEntry] = []
        self._heads: dict[str, tuple[int, str]] = {}

    def append(self, decisions: Sequence[Decision]) -> list[AuditEntry]:

        new = chain_entries(decisions, self._heads)
        new = [replace(e, sequence=len(self.rows) + i + 1) for i, e in enumerate(new)]
        self.rows.extend(new)
        return new

    def __call__(self, uow: Any, business_id: str, kind: str, record: dict[str, Any]) -> None:
        self.append([decision_from_record(business_id, kind, record)])

    def entries(self, business_id: str, kind: str | None = None) -> list[AuditEntry]:
        return [
            e
            for e in self.rows
            if e.business_id == business_id and (kind is None or e.kind == kind)
        ]

    def page(self, business_id: str, query: AuditQuery) -> list[AuditEntry]:
        mine = [e for e in self.rows if e.business_id == business_id and query.matches(e)]
        return sorted(mine, key=lambda e: e.position, reverse=True)[: query.limit]

    def verify_chain(self, business_id: str | None = None) -> ChainReport:
        return verify_entries(e for e in self.rows if business_id in (None, e.business_id))
