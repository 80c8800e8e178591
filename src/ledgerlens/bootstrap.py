"""Composition root: builds storage and services from Settings, once, at start-up.

Entry points (CLI, API, workers) call ``bootstrap()`` and receive ready objects; nothing in the
stages creates engines or loads models itself, so tests can hand in fakes instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ledgerlens.config import Settings, get_settings
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.ingest.service import StatementImporter

__all__ = ["Container", "bootstrap", "configure_logging"]


@dataclass(slots=True)
class Container:
    settings: Settings
    engine: object
    uow_factory: Callable[[], UnitOfWork]
    importer: StatementImporter

    def dispose(self) -> None:
        dispose = getattr(self.engine, "dispose", None)
        if callable(dispose):
            dispose()


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)


def bootstrap(settings: Settings | None = None, *, upgrade: bool = True) -> Container:
    """Build the container; with ``upgrade`` the database schema is brought to head first."""
    from ledgerlens.adapters.db.engine import create_engine_for, upgrade_database
    from ledgerlens.adapters.db.unit_of_work import sql_uow_factory

    settings = settings or get_settings()
    _ensure_sqlite_dir(settings.db.url)
    if upgrade:
        upgrade_database(settings.db.url)
    engine = create_engine_for(settings.db.url)
    uow_factory = sql_uow_factory(engine)
    importer = StatementImporter(uow_factory, batch_size=settings.import_batch_size)
    return Container(settings, engine, uow_factory, importer)


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
