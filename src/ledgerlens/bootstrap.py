"""Composition root: builds storage and services from Settings, once, at start-up.

Entry points (CLI, API, workers) call ``bootstrap()`` and receive ready objects; nothing in the
stages creates engines or loads models itself, so tests can hand in fakes instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledgerlens.config import Settings, get_settings
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.ingest.service import StatementImporter

if TYPE_CHECKING:
    from ledgerlens.enrich.categorize.service import Categorizer
    from ledgerlens.pipeline import Services

__all__ = ["Container", "bootstrap", "configure_logging"]

_MODELS_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _load_categorizer(root: Path | None, version: str | None) -> Any:
    """The categorizer, loaded (and hash-checked) once per process and version: loading costs
    seconds, and every container of a process (CLI, API, tests) serves the same model."""
    from ledgerlens.adapters.model_store import load_categorizer

    model, _ = load_categorizer(root, version)
    return model


@lru_cache(maxsize=1)
def _load_fx_rates() -> Any:
    """ECB reference rates (a zip read: ~0.3 s), once per process."""
    from ledgerlens.enrich.transfers import EcbRates

    return EcbRates.load()


@lru_cache(maxsize=4)
def _load_risk_scorer(root: Path | None) -> Any:
    """The trained risk model (issue 7B) as decide's scorer; checked by sha256, loaded once."""
    from ledgerlens.adapters.risk_store import load_risk_model
    from ledgerlens.decide.service import model_risk_scorer

    return model_risk_scorer(*load_risk_model(root))


@lru_cache(maxsize=1)
def _load_decision_rules() -> Any:
    """The decision tables (zen-engine), parsed once per process."""
    from ledgerlens.decide.rules import DecisionRules

    return DecisionRules.load()


def _audit_log(engine: object) -> Any:
    from ledgerlens.adapters.db.audit import SqlAuditLog

    return SqlAuditLog(engine)  # type: ignore[arg-type]


@dataclass(slots=True)
class Container:
    settings: Settings
    engine: object
    uow_factory: Callable[[], UnitOfWork]
    importer: StatementImporter
    _categorizer: Categorizer | None = field(default=None, repr=False)

    @property
    def categorizer(self) -> Categorizer:
        """The serving categorizer (``settings.enrich``), loaded on first use, once."""
        if self._categorizer is None:
            enrich = self.settings.enrich
            with _MODELS_LOCK:
                self._categorizer = _load_categorizer(enrich.model_root, enrich.categorizer_version)
        return self._categorizer

    def services(self) -> Services:
        """The pipeline's services over this container, enrichment included."""
        from ledgerlens.ingest.realtime import TransactionIngestor
        from ledgerlens.pipeline import Services

        return Services(
            importer=self.importer,
            ingestor=TransactionIngestor(self.uow_factory),
            uow_factory=self.uow_factory,
            categorizer=self.categorizer,
            fx_rates=_load_fx_rates(),
            iban_secret=self.settings.enrich.iban_secret.get_secret_value().encode(),
            audit_log=_audit_log(self.engine),  # issue 7A: every decision is audited
            decision_rules=_load_decision_rules(),
            notifiers=_notifiers(self.settings),
            risk_scorer=_load_risk_scorer(self.settings.enrich.model_root),
        )

    def notifiers(self) -> dict[object, object]:
        """The configured senders (channel → notifier): what the dispatcher and refresh use."""
        return _notifiers(self.settings)

    def dispose(self) -> None:
        dispose = getattr(self.engine, "dispose", None)
        if callable(dispose):
            dispose()


def _notifiers(settings: Settings) -> dict[object, object]:
    """The delivery channels that are configured (none by default: nothing leaves the machine)."""
    from ledgerlens.consent.model import Channel

    cfg = settings.notify
    out: dict[object, object] = {}
    if cfg.smtp_host:
        from ledgerlens.adapters.notifiers.smtp import SmtpNotifier

        out[Channel.EMAIL] = SmtpNotifier(
            cfg.smtp_host,
            cfg.smtp_port,
            cfg.smtp_sender,
            starttls=cfg.smtp_starttls,
            username=cfg.smtp_username,
            password=cfg.smtp_password.get_secret_value(),
        )
    if cfg.webhook_url:
        from ledgerlens.adapters.notifiers.webhook import WebhookNotifier

        secret = cfg.webhook_secret.get_secret_value().encode()
        out[Channel.PUSH] = WebhookNotifier(cfg.webhook_url, secret)
    return out


def bootstrap(
    settings: Settings | None = None, *, upgrade: bool = True, load_models: bool = False
) -> Container:
    """Build the container; with ``upgrade`` the database schema is brought to head first.

    Models load on first use (``Container.categorizer``), once per process, so commands that
    never categorize start fast; ``load_models`` loads (and verifies) them now, as a server's
    start-up does.
    """
    from ledgerlens.adapters.db.engine import create_engine_for, upgrade_database
    from ledgerlens.adapters.db.unit_of_work import sql_uow_factory

    settings = settings or get_settings()
    if upgrade:
        upgrade_database(settings.db.url)
    engine = create_engine_for(settings.db.url)
    uow_factory = sql_uow_factory(engine)
    importer = StatementImporter(uow_factory, batch_size=settings.import_batch_size)
    container = Container(settings, engine, uow_factory, importer)
    if load_models:
        container.categorizer  # noqa: B018 - load and verify the model now
    return container


def configure_logging(json_logs: bool = False) -> None:
    """structlog with a processor that scrubs card numbers and IBANs from every event."""
    import logging

    import structlog

    from ledgerlens.core.privacy import scrub_text

    def scrub(_: object, __: str, event: dict[str, object]) -> dict[str, object]:
        return {k: scrub_text(v) if isinstance(v, str) else v for k, v in event.items()}

    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            scrub,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )
