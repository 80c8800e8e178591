"""In-memory twins of the enrich stage's storage ports (annotations, corrections, profiles).

Kept beside ``fakes.py`` (which wires them into ``InMemoryBusinessScope``) with the same
semantics as ``adapters/db/enrichment_repositories``: scoped reads, foreign writes refused with
``ValueError``, upsert on ``(transaction_id, kind)``, training examples only while the
``model_improvement`` consent is active.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from ledgerlens.adapters.db.guards import ensure_aware, ensure_same_business
from ledgerlens.core.ledger import Annotation, AnnotationKind, Purpose, Transaction
from ledgerlens.enrich.corrections import Correction

__all__ = ["InMemoryAnnotationRepository", "InMemoryCorrectionRepository"]


class _Scoped:
    def __init__(self, store: Callable[[], Any], business_id: str) -> None:
        self._store = store
        self.business_id = business_id

    def _owned(self, ids: set[str]) -> None:
        txs = self._store().transactions
        foreign = {t for t in ids if t not in txs or txs[t][1].business_id != self.business_id}
        if foreign:
            raise ValueError(
                f"transaction(s) {sorted(foreign)[:5]} are not transactions of {self.business_id!r}"
            )


class InMemoryAnnotationRepository(_Scoped):
    def upsert(self, annotations: Sequence[Annotation]) -> int:
        rows: dict[tuple[str, str], Annotation] = {}
        for a in annotations:
            ensure_same_business(
                self.business_id, a.business_id, f"annotation of {a.transaction_id!r}"
            )
            ensure_aware(a.created_at, "annotation created_at")
            # what the SQL adapter gives back: plain JSON types, UTC instants
            rows[(a.transaction_id, str(a.kind))] = dataclasses.replace(
                a,
                reasons=tuple(a.reasons),
                evidence=dict(a.evidence),
                created_at=a.created_at.astimezone(UTC),
            )
        if rows:
            self._owned({k[0] for k in rows})
        self._store().annotations.update(rows)
        return len(rows)

    def for_transactions(self, transaction_ids: Sequence[str]) -> list[Annotation]:
        wanted = set(transaction_ids)
        return sorted(
            (
                a
                for (tid, _), a in self._store().annotations.items()
                if tid in wanted and a.business_id == self.business_id
            ),
            key=lambda a: (a.transaction_id, str(a.kind)),
        )

    def list(self, kind: AnnotationKind | str) -> list[Annotation]:
        k = str(AnnotationKind(kind))
        return sorted(
            (
                a
                for a in self._store().annotations.values()
                if a.business_id == self.business_id and str(a.kind) == k
            ),
            key=lambda a: a.transaction_id,
        )

    def delete(self, kind: AnnotationKind | str) -> int:
        s = self._store()
        k = str(AnnotationKind(kind))
        gone = [
            key for key, a in s.annotations.items()
            if a.business_id == self.business_id and key[1] == k
        ]  # fmt: skip
        for key in gone:
            del s.annotations[key]
        return len(gone)

    def save_profile(self, words: Sequence[str]) -> None:
        self._store().profiles[self.business_id] = tuple(words)

    def profile(self) -> tuple[str, ...] | None:
        return self._store().profiles.get(self.business_id)


class InMemoryCorrectionRepository(_Scoped):
    def add(self, correction: Correction, member_id: str = "") -> None:
        ensure_same_business(
            self.business_id, correction.business_id, f"correction {correction.correction_id!r}"
        )
        ensure_aware(correction.created_at, "correction created_at")
        self._owned({correction.transaction_id})
        s = self._store()
        if any(c.correction_id == correction.correction_id for c, _ in s.corrections):
            raise ValueError(f"correction {correction.correction_id!r} already exists")
        stored = dataclasses.replace(
            correction, example=None, created_at=correction.created_at.astimezone(UTC)
        )
        s.corrections.append((stored, member_id))

    def list(self) -> list[Correction]:
        mine = [c for c, _ in self._store().corrections if c.business_id == self.business_id]
        return sorted(mine, key=lambda c: (c.created_at, c.correction_id))

    def training_examples(self) -> list[tuple[Transaction, str]]:
        s = self._store()
        active = any(
            g.business_id == self.business_id
            and g.purpose == Purpose.MODEL_IMPROVEMENT
            and g.active
            for g in s.consents
        )
        if not active:
            return []
        return [
            (s.transactions[c.transaction_id][1], c.category)
            for c in self.list()
            if c.consented and c.transaction_id in s.transactions
        ]
