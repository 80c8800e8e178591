"""The flow as one table: each command names the handler that carries it out.

Entry points (CLI, API, stream worker, batch jobs) build a command and call ``dispatch``; they hold
no logic of their own. Stages grow this table as they land (enrich, analyze, decide, explain).

Enrichment runs after every successful import (``ImportStatements``) and on every real-time
batch (``IngestTransactions``, the new lines only), and again for the whole business after an
owner's correction (``Recategorize``), so similar lines follow the owner at once. The handlers
live in ``pipeline_enrich``; this module keeps the table.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ledgerlens.core.errors import NotFound, ValidationError
from ledgerlens.core.ledger import Account, Annotation, AnnotationKind, Business, Purpose
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.enrich.categorize.service import Categorizer
from ledgerlens.enrich.corrections import make_correction
from ledgerlens.enrich.service import annotate_business, annotate_new, trade_profile
from ledgerlens.enrich.transfers import FxRates
from ledgerlens.ingest.realtime import IncomingTransaction, IngestResult, TransactionIngestor
from ledgerlens.ingest.service import ImportReport, StatementImporter
from ledgerlens.pipeline_anomalies import (
    AuthorizeCard,
    DetectAnomalies,
    MarkExpected,
    SetCardPolicy,
    authorize_card,
    detect_business,
    detect_in,
    mark_expected,
    score_ingested,
    set_card_policy,
)
from ledgerlens.pipeline_decide import (
    DecideForBusiness,
    DismissRecommendation,
    decide_for_business,
    dismiss_recommendation,
)
from ledgerlens.pipeline_insights import INSIGHT_HANDLERS

__all__ = [
    "HANDLERS",
    "EnrichBusiness",
    "EnrichmentReport",
    "ImportStatements",
    "IngestTransactions",
    "Recategorize",
    "RecategorizeResult",
    "Services",
    "dispatch",
]


@dataclass(frozen=True, slots=True)
class ImportStatements:
    """Import statement files for one business (each file whole or not at all)."""

    business_id: str
    paths: tuple[Path, ...]
    account_id: str | None = None
    fmt: str = "auto"
    source_names: tuple[str, ...] = ()  # what reports call each file (an upload's own name)


@dataclass(frozen=True, slots=True)
class IngestTransactions:
    """Store transactions pushed in real time (the API's POST …/transactions), whole or not."""

    business_id: str
    rows: tuple[IncomingTransaction, ...]


@dataclass(frozen=True, slots=True)
class EnrichBusiness:
    """Annotate all of a business's transactions: categories, transfer pairs, recurring series."""

    business_id: str


@dataclass(frozen=True, slots=True)
class Recategorize:
    """The owner moves one transaction to another category; similar lines follow at once."""

    business_id: str
    transaction_id: str
    category: str
    member_id: str = ""


@dataclass(frozen=True, slots=True)
class EnrichmentReport:
    """What one enrichment run stored (counts only: no personal data)."""

    business_id: str
    transactions: int
    annotations: int
    categories: dict[str, int]  # category code -> lines; abstentions are not in here
    abstained: int
    transfer_pairs: int
    recurring_series: int
    corrected: int  # lines decided by one of the owner's corrections


@dataclass(frozen=True, slots=True)
class RecategorizeResult:
    correction_id: str
    training_example: bool  # kept for the next training run (model_improvement consent)
    report: EnrichmentReport


@dataclass(frozen=True, slots=True)
class Services:
    """What handlers need, built by ``bootstrap`` (``Container.services()``) or by tests.

    Enrichment needs ``uow_factory`` and ``categorizer`` (loaded once per process); without
    them imports and ingestion still work, un-enriched.
    """

    importer: StatementImporter
    ingestor: TransactionIngestor | None = None
    uow_factory: Callable[[], UnitOfWork] | None = None
    categorizer: Categorizer | None = None
    fx_rates: FxRates | None = None
    iban_secret: bytes = b""
    # issue 7A: the hash-chained decision log (decide.audit_chain.AuditLog), the decision tables
    # (decide.rules.DecisionRules), the product catalog and an optional risk scorer
    # (decide.service.model_risk_scorer(model, version); the transparent proxy otherwise)
    audit_log: Any = None
    decision_rules: Any = None
    product_catalog: Any = None
    risk_scorer: Any = None
    # issue 8: channel -> notifier (email over SMTP, HMAC-signed push webhook), from settings
    notifiers: Any = None
    # issue 9: the API process's fitted anomaly scoring contexts
    # (pipeline_anomalies.ScoringContexts); None elsewhere: real-time lines are judged in batch
    anomaly_contexts: Any = None

    @property
    def can_enrich(self) -> bool:
        return self.uow_factory is not None and self.categorizer is not None


def import_statements(cmd: ImportStatements, services: Services) -> list[ImportReport]:
    """Import each file (whole or not at all), then enrich the business if anything was new."""
    names = cmd.source_names or (None,) * len(cmd.paths)
    reports = [
        services.importer.import_file(p, cmd.business_id, cmd.account_id, cmd.fmt, name)
        for p, name in zip(cmd.paths, names, strict=True)
    ]
    if services.can_enrich and any(r.new and not r.refused for r in reports):
        enrich_business(EnrichBusiness(cmd.business_id), services)
    return reports


def ingest_transactions(cmd: IngestTransactions, services: Services) -> IngestResult:
    """Store the batch, categorize its new lines and score them, in one transaction, before
    answering (so the client reads them back enriched, and a failure leaves nothing behind).
    Forecast and insights follow in the background (the API's refresh scheduler)."""
    if services.uow_factory is None:
        if services.ingestor is None:
            raise TypeError("Services.ingestor is not configured")
        return services.ingestor.ingest(cmd.business_id, cmd.rows)
    with services.uow_factory() as uow:
        result = ingest_in(uow, cmd, services)
        uow.commit()
    return result


def ingest_in(
    uow: UnitOfWork, cmd: IngestTransactions, services: Services, facts: BusinessFacts | None = None
) -> IngestResult:
    """``ingest_transactions`` inside an open unit of work (the caller commits). ``facts``:
    the business as the caller holds it (``BusinessFacts``), so nothing of it is read."""
    result = store_in(uow, cmd, services, facts)
    judge_ingested(uow, cmd.business_id, [(cmd, result)], services, facts)
    return result


def store_in(
    uow: UnitOfWork, cmd: IngestTransactions, services: Services, facts: BusinessFacts | None = None
) -> IngestResult:
    """Check and store the batch's lines in ``uow`` (refusals raise before anything is
    written); ``judge_ingested`` enriches and scores them."""
    if services.ingestor is None:
        raise TypeError("Services.ingestor is not configured")
    accounts = {a.account_id: a for a in facts.accounts} if facts is not None else None
    return services.ingestor.ingest_in(uow, cmd.business_id, cmd.rows, accounts)


def judge_ingested(
    uow: UnitOfWork,
    business_id: str,
    stored: Sequence[tuple[IngestTransactions, IngestResult]],
    services: Services,
    facts: BusinessFacts | None = None,
) -> None:
    """Categorize and score what batches of one business stored (``store_in``), all at once.

    Without ``facts`` a batch of duplicates is looked at too (its lines may have been stored
    un-enriched by an older run, which this heals); with ``facts`` (the real-time path, where
    a batch's lines are judged in the transaction that stores them) only new lines are."""
    keep = [(cmd, r) for cmd, r in stored
            if r.transaction_ids and cmd.rows and (facts is None or r.created)]  # fmt: skip
    if not keep:
        return
    ids = tuple(i for _, r in keep for i in r.transaction_ids)
    all_new = all(r.new_lines for _, r in keep)
    new_lines = tuple(t for _, r in keep for t in r.new_lines) if all_new else ()
    booked = [row.booking_date for cmd, _ in keep for row in cmd.rows]
    span = (min(booked), max(booked))
    lines: list[Any] = []
    categories: dict[str, str] = {}
    if services.can_enrich:
        annotations = enrich_ingested(business_id, ids, span, services, uow=uow, loaded=lines,
                                      new_lines=new_lines, facts=facts)  # fmt: skip
        categories = {a.transaction_id: a.value for a in annotations
                      if a.kind is AnnotationKind.CATEGORY and a.value}  # fmt: skip
    elif new_lines:
        lines = list(new_lines)
    score_ingested(business_id, ids, span, services, uow=uow, lines=lines,
                   categories=categories, business_known=True)  # issue #6  # fmt: skip


def _report(business_id: str, transactions: int, annotations: list[Annotation]) -> EnrichmentReport:
    categories: Counter[str] = Counter()
    pairs: set[str] = set()
    series: set[str] = set()
    corrected = 0
    for a in annotations:
        if a.kind is AnnotationKind.CATEGORY:
            categories[a.value] += 1
            corrected += a.source.startswith("rule:correction:")
        elif a.kind is AnnotationKind.TRANSFER:
            pairs.add(a.value)
        else:
            series.add(a.value)
    abstained = categories.pop("", 0)
    return EnrichmentReport(business_id, transactions, len(annotations),
                            dict(sorted(categories.items())), abstained, len(pairs), len(series),
                            corrected)  # fmt: skip


def _enrich_in(uow: UnitOfWork, business_id: str, services: Services) -> EnrichmentReport:
    """Re-annotate the whole business inside ``uow`` (the caller commits)."""
    if services.categorizer is None:
        raise TypeError("Services.categorizer is not configured")
    business = uow.businesses.get(business_id)
    if business is None:
        raise NotFound(f"unknown business {business_id!r}")
    scope = uow.scope(business_id)
    accounts = scope.accounts.list()
    txs = list(scope.transactions.iter_all())
    profile = trade_profile(txs)
    annotations = annotate_business(
        txs, accounts, categorizer=services.categorizer, iban_secret=services.iban_secret,
        corrections=scope.corrections.list(), fx_rates=services.fx_rates,
        country=business.country, profile=profile,
    )  # fmt: skip
    # pairs and series are re-derived as a whole: drop the old ones, so none outlives its cause
    scope.annotations.delete(AnnotationKind.TRANSFER)
    scope.annotations.delete(AnnotationKind.RECURRING)
    scope.annotations.upsert(annotations)
    scope.annotations.save_profile(profile)
    return _report(business_id, len(txs), annotations)


def enrich_business(cmd: EnrichBusiness, services: Services) -> EnrichmentReport:
    """Annotate every transaction of the business in one transaction (idempotent: upserts)."""
    if services.uow_factory is None:
        raise TypeError("Services.uow_factory is not configured")
    with services.uow_factory() as uow:
        report = _enrich_in(uow, cmd.business_id, services)
        detect_in(uow, cmd.business_id)  # issue #6: anomalies on the fresh categories
        uow.commit()
    return report


def recategorize(cmd: Recategorize, services: Services) -> RecategorizeResult:
    """Store the owner's correction and re-enrich the business, atomically.

    The correction is kept as a training example only while the business has the
    ``model_improvement`` consent; either way it decides this business's similar lines.
    """
    if cmd.category not in load_taxonomy():
        raise ValidationError(f"not a category leaf: {cmd.category!r}")
    if services.uow_factory is None:
        raise TypeError("Services.uow_factory is not configured")
    with services.uow_factory() as uow:
        if uow.businesses.get(cmd.business_id) is None:
            raise NotFound(f"unknown business {cmd.business_id!r}")
        scope = uow.scope(cmd.business_id)
        tx = scope.transactions.get(cmd.transaction_id)
        if tx is None:
            raise NotFound(f"no transaction {cmd.transaction_id!r} in {cmd.business_id!r}")
        consented = Purpose.MODEL_IMPROVEMENT in scope.consents.active()
        correction = make_correction(
            f"cor_{uuid.uuid4().hex[:20]}", tx, cmd.category, consented=consented,
            iban_secret=services.iban_secret,
        )  # fmt: skip
        scope.corrections.add(correction, cmd.member_id)
        report = _enrich_in(uow, cmd.business_id, services)
        detect_in(uow, cmd.business_id)  # issue #6: categories feed the anomaly rules
        uow.commit()
    return RecategorizeResult(correction.correction_id, consented, report)


_TRANSFER_WINDOW = timedelta(days=10)  # covers match_transfers' 3 banking days and holidays


@dataclass(frozen=True, slots=True)
class BusinessFacts:
    """What enriching a real-time line reads of its business besides the line: the business,
    its accounts, the owner's corrections and the stored vocabulary profile (``None``: none
    stored yet). The real-time path keeps them between requests
    (``pipeline_realtime.BusinessFactsCache``) instead of reading them for every line."""

    business: Business
    accounts: tuple[Account, ...]
    corrections: tuple[Any, ...]
    profile: tuple[str, ...] | None

    @classmethod
    def read(cls, uow: UnitOfWork, business_id: str) -> BusinessFacts | None:
        """The business's facts as stored (``None``: no such business)."""
        business = uow.businesses.get(business_id)
        if business is None:
            return None
        scope = uow.scope(business_id)
        return cls(business, tuple(scope.accounts.list()), tuple(scope.corrections.list()),
                   scope.annotations.profile())  # fmt: skip


def enrich_ingested(
    business_id: str,
    transaction_ids: Sequence[str],
    booked: tuple[date, date],
    services: Services,
    *,
    uow: UnitOfWork | None = None,
    loaded: list[Any] | None = None,
    new_lines: Sequence[Any] = (),
    facts: BusinessFacts | None = None,
) -> list[Annotation]:
    """Annotate the lines among ``transaction_ids`` (booked between ``booked``) that have no
    category yet, with the stored profile and corrections; pair them with the other leg of a
    transfer booked nearby. One window query, whatever the batch size. ``uow``: an open unit
    of work to run in (the caller commits); ``loaded`` receives the batch's lines as read.
    ``new_lines``: the batch's lines when every one was stored just now (so none has an
    annotation yet): with one account they are the whole window and nothing is read back.
    ``facts``: the business's accounts, corrections and profile when the caller holds them."""
    if services.uow_factory is None or services.categorizer is None:
        raise TypeError("Services.uow_factory and categorizer are not configured")
    if uow is None:
        with services.uow_factory() as own:
            out = enrich_ingested(business_id, transaction_ids, booked, services, uow=own,
                                  loaded=loaded, new_lines=new_lines, facts=facts)  # fmt: skip
            own.commit()
        return out
    scope = uow.scope(business_id)
    accounts = list(facts.accounts) if facts is not None else scope.accounts.list()
    ids = set(transaction_ids)
    fresh_known = bool(new_lines) and {t.transaction_id for t in new_lines} == ids
    if len(accounts) < 2 and fresh_known:
        # stored just now, so not annotated yet; one account: no transfer to pair
        window, stored = list(new_lines), []
    elif len(accounts) < 2:
        # a transfer pairs lines of two of the business's accounts (``match_transfers``): with
        # one account there is nothing to pair, so only the batch's own days are read, not ±10
        # days of lines and their annotations (the real-time POST's largest read)
        window = [t for t in scope.transactions.list(since=booked[0], until=booked[1])
                  if t.transaction_id in ids]  # fmt: skip
        stored = scope.annotations.for_transactions([t.transaction_id for t in window])
    else:
        window = scope.transactions.list(
            since=booked[0] - _TRANSFER_WINDOW, until=booked[1] + _TRANSFER_WINDOW
        )
        stored = scope.annotations.for_transactions([t.transaction_id for t in window])
    if loaded is not None:
        loaded.extend(t for t in window if t.transaction_id in ids)
    done = {a.transaction_id for a in stored if a.kind is AnnotationKind.CATEGORY}
    paired = {a.transaction_id for a in stored if a.kind is AnnotationKind.TRANSFER}
    fresh = [t for t in window if t.transaction_id in ids - done]
    if not fresh:
        return []
    corrections = list(facts.corrections) if facts is not None else scope.corrections.list()
    profile = facts.profile if facts is not None else scope.annotations.profile()
    annotations = annotate_new(
        fresh, window, accounts, categorizer=services.categorizer,
        iban_secret=services.iban_secret, corrections=corrections,
        profile=profile, paired=paired, fx_rates=services.fx_rates,
    )  # fmt: skip
    scope.annotations.upsert(annotations)
    return annotations


HANDLERS: dict[type, Callable[[Any, Services], Any]] = {
    ImportStatements: import_statements,
    IngestTransactions: ingest_transactions,
    EnrichBusiness: enrich_business,
    Recategorize: recategorize,
    DetectAnomalies: detect_business,
    MarkExpected: mark_expected,
    SetCardPolicy: set_card_policy,
    AuthorizeCard: authorize_card,
    DecideForBusiness: decide_for_business,
    DismissRecommendation: dismiss_recommendation,
}


HANDLERS.update(INSIGHT_HANDLERS)  # explain + consent (issue 8): pipeline_insights


# commands that leave what anomaly scoring reads (lines, categories, feedback, card policy)
# as it was, or keep the scoring context up to date themselves; any other command for a
# business drops that business's context, and the next POST or refresh rebuilds it
_KEEP_SCORING_CONTEXT: frozenset[str] = frozenset({
    "IngestTransactions", "RefreshInsights", "AuthorizeCard", "BuildDigest", "ExportBusiness",
    "DecideForBusiness", "DismissRecommendation", "GrantConsent", "DispatchDue",
})  # fmt: skip


def dispatch(cmd: object, services: Services) -> Any:
    """Run the handler registered for the command's type."""
    try:
        handler = HANDLERS[type(cmd)]
    except KeyError:
        raise TypeError(f"no handler for {type(cmd).__name__}") from None
    contexts = getattr(services, "anomaly_contexts", None)  # callers may pass a namespace
    business_id = getattr(cmd, "business_id", None)
    if contexts is not None and business_id and type(cmd).__name__ not in _KEEP_SCORING_CONTEXT:
        contexts.drop(business_id)
        try:
            return handler(cmd, services)
        finally:
            contexts.drop(business_id)  # also what was built while the command ran
    return handler(cmd, services)
