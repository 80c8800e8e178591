"""Storage adapter: SQLAlchemy Core tables, repositories and unit of work (SQLite, PostgreSQL).

Importing this package creates no engine and imports no Alembic; ``bootstrap`` calls
``create_engine_for(settings.db.url)``, ``upgrade_database(url)`` and ``sql_uow_factory(engine)``.
"""

from __future__ import annotations

from ledgerlens.adapters.db import (  # noqa: F401 - registers anomaly and card-control tables
    anomaly_tables as _anomaly_tables,
)
from ledgerlens.adapters.db import api_tables as _api_tables  # noqa: F401 - registers API tables
from ledgerlens.adapters.db import (  # noqa: F401 - registers the decision audit log's table
    audit_tables as _audit_tables,
)
from ledgerlens.adapters.db import (  # noqa: F401 - registers the enrich stage's tables
    enrichment_tables as _enrichment_tables,
)
from ledgerlens.adapters.db import (  # noqa: F401 - registers the explain stage's tables
    insight_tables as _insight_tables,
)
from ledgerlens.adapters.db import (  # noqa: F401 - registers the known future items
    known_item_tables as _known_item_tables,
)
from ledgerlens.adapters.db import (  # noqa: F401 - registers the notification outbox
    outbox_tables as _outbox_tables,
)
from ledgerlens.adapters.db.engine import create_engine_for, upgrade_database
from ledgerlens.adapters.db.unit_of_work import SqlBusinessScope, SqlUnitOfWork, sql_uow_factory

__all__ = [
    "SqlBusinessScope",
    "SqlUnitOfWork",
    "create_engine_for",
    "sql_uow_factory",
    "upgrade_database",
]
