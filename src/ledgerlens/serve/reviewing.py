"""What the owner reviews in the app: categories (and corrections that similar lines follow) and
unusual activity (and "this is expected").

Blocking functions over a unit of work (call them in the thread pool). Recategorizing goes
through the pipeline (``Recategorize``); the lines that "followed" are those whose category
changed to the owner's choice in the same correction. Unusual activity is scored on request
from the stored ledger, the enrichment's categories and the owner's stored feedback, so a
"this is expected" shows at once; marking goes through the pipeline's ``MarkExpected`` when
the anomaly stage provides it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Annotation, AnnotationKind, Transaction
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.pipeline import Recategorize, RecategorizeResult, Services, dispatch

__all__ = [
    "CategoryView",
    "UnusualLine",
    "categories_for",
    "load_line",
    "mark_expected",
    "mark_expected_available",
    "recategorize_and_follow",
    "unusual_activity",
]


@dataclasses.dataclass(frozen=True, slots=True)
class CategoryView:
    transaction_id: str
    category: str
    label: str
    confidence: float
    source: str
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, a: Annotation) -> CategoryView:
        tax = load_taxonomy()
        label = tax[a.value].label if a.value in tax else ""
        return cls(a.transaction_id, a.value, label, a.confidence, a.source, a.reasons)


def _business_scope(uow: UnitOfWork, business_id: str) -> Any:
    if uow.businesses.get(business_id) is None:
        raise NotFound("no such business")
    return uow.scope(business_id)


def categories_for(
    read_uow: Callable[[], UnitOfWork], business_id: str, transaction_ids: Sequence[str]
) -> list[CategoryView]:
    """The stored category of each given line (lines never categorized are left out)."""
    with read_uow() as uow:
        scope = _business_scope(uow, business_id)
        found = scope.annotations.for_transactions(list(transaction_ids))
    return [CategoryView.of(a) for a in found if a.kind is AnnotationKind.CATEGORY]


def recategorize_and_follow(
    services: Services, business_id: str, transaction_id: str, category: str, member_id: str
) -> tuple[RecategorizeResult, CategoryView, list[CategoryView]]:
    """Correct one line; return the result, its new category and the lines that followed."""
    if services.uow_factory is None:
        raise TypeError("Services.uow_factory is not configured")

    def current() -> dict[str, Annotation]:
        assert services.uow_factory is not None
        with services.uow_factory() as uow:
            scope = _business_scope(uow, business_id)
            return {a.transaction_id: a for a in scope.annotations.list(AnnotationKind.CATEGORY)}

    before = current()
    result = dispatch(Recategorize(business_id, transaction_id, category, member_id), services)
    after = current()
    followed = [
        CategoryView.of(a)
        for tid, a in after.items()
        if tid != transaction_id
        and a.value == category
        and (tid not in before or before[tid].value != category)
    ]
    mine = after.get(transaction_id)
    view = (
        CategoryView.of(mine)
        if mine is not None
        else CategoryView(
            transaction_id, category, load_taxonomy()[category].label, 1.0, "rule:correction", ()
        )
    )
    return result, view, sorted(followed, key=lambda v: v.transaction_id)


@dataclasses.dataclass(frozen=True, slots=True)
class UnusualLine:
    transaction: Transaction
    result: Any  # analyze.anomalies.AnomalyResult


def _feedback(scope: Any) -> list[Any]:
    repo = getattr(scope, "feedback", None)
    return list(repo.list()) if repo is not None and hasattr(repo, "list") else []


def unusual_activity(
    read_uow: Callable[[], UnitOfWork], business_id: str, limit: int
) -> tuple[list[UnusualLine], int, int]:
    """Raised alerts, highest score first: (lines, lines scored, alert budget).

    The anomaly stage's stored verdicts when it keeps them (those are what "expected" marks);
    otherwise scored here from the ledger, the categories and any stored feedback."""
    from ledgerlens.analyze.anomalies import AlertBudget, detect_anomalies

    with read_uow() as uow:
        scope = _business_scope(uow, business_id)
        stored = getattr(scope, "anomalies", None)
        if stored is not None:
            n = scope.transactions.count()
            raised = sorted(
                stored.list(raised_only=True), key=lambda r: (-r.score, r.transaction_id)
            )
            lines = []
            for r in raised[:limit]:
                tx = scope.transactions.get(r.transaction_id)
                if tx is not None:
                    lines.append(UnusualLine(tx, r))
            return lines, n, AlertBudget().max_alerts(n)
        txs = list(scope.transactions.iter_all())
        categories = {
            a.transaction_id: a.value for a in scope.annotations.list(AnnotationKind.CATEGORY)
        }
        feedback = _feedback(scope)
    report = detect_anomalies(txs, categories=categories, feedback=feedback)
    by_id = {t.transaction_id: t for t in txs}
    alerts = sorted(report.alerts, key=lambda r: (-r.score, r.transaction_id))[:limit]
    lines = [UnusualLine(by_id[r.transaction_id], r) for r in alerts if r.transaction_id in by_id]
    return lines, report.n_transactions, report.max_alerts


def mark_expected_available() -> bool:
    """Whether the anomaly stage has wired ``MarkExpected`` into the pipeline yet."""
    import ledgerlens.pipeline as pipeline

    cmd = getattr(pipeline, "MarkExpected", None)
    return cmd is not None and cmd in pipeline.HANDLERS


def load_line(read_uow: Callable[[], UnitOfWork], business_id: str, transaction_id: str) -> None:
    """``NotFound`` unless the business has the line (other tenants' ids included)."""
    with read_uow() as uow:
        scope = _business_scope(uow, business_id)
        if scope.transactions.get(transaction_id) is None:
            raise NotFound("no such transaction")


def mark_expected(
    services: Services, business_id: str, transaction_id: str, member_id: str
) -> bool:
    """Dispatch the anomaly stage's ``MarkExpected`` for the line (checked by ``load_line``)."""
    import ledgerlens.pipeline as pipeline

    cmd_type = pipeline.MarkExpected  # type: ignore[attr-defined]
    names = {f.name for f in dataclasses.fields(cmd_type)}
    kwargs: dict[str, Any] = {"business_id": business_id, "transaction_id": transaction_id}
    for name in ("member_id", "created_by"):
        if name in names:
            kwargs[name] = member_id
    result = dispatch(cmd_type(**kwargs), services)
    return bool(getattr(result, "stored", True))
