"""Database fixtures: the same tests run on SQLite (a file in tmp_path) and PostgreSQL.

PostgreSQL: ``LEDGERLENS_TEST_PG_URL`` or ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
Each test gets a fresh schema ``t_<random>`` (selected through ``search_path`` in the URL) that
is dropped afterwards, so tests never see each other's rows nor touch other schemas. When the
server is unreachable the PostgreSQL variants are skipped with the reason — except under CI
(env ``CI`` set), where they fail: CI must not pass by silently testing less.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.exc import OperationalError

from ledgerlens.adapters.db import create_engine_for, sql_uow_factory, upgrade_database

# tests/fakes.py is a sibling package-less module; make it importable however pytest was started.
_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from fakes import in_memory_uow_factory  # noqa: E402

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
ALL_BACKENDS = [*SQL_BACKENDS, "memory"]


def pg_base_url() -> str:
    url = make_url(os.environ.get("LEDGERLENS_TEST_PG_URL", PG_DEFAULT_URL))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin_engine() -> Iterator[Engine]:
    """A connection to the test server used only to create and drop per-test schemas."""
    base = pg_base_url()
    engine = create_engine(base, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        engine.dispose()
        shown = make_url(base).render_as_string(hide_password=True)
        reason = f"PostgreSQL unreachable at {shown}: {str(exc).splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: PostgreSQL tests must run)")
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin_engine: Engine) -> Iterator[str]:
    """URL of a fresh, empty schema on the test server (dropped after the test)."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with pg_admin_engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(pg_base_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with pg_admin_engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


def _url_for(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=SQL_BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty (unmigrated) database URL, once per SQL backend."""
    return _url_for(request.param, request, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    upgrade_database(db_url)
    eng = create_engine_for(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(params=ALL_BACKENDS)
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """A unit-of-work factory on SQLite, PostgreSQL and the in-memory fake (same semantics)."""
    if request.param == "memory":
        yield in_memory_uow_factory()
        return
    url = _url_for(request.param, request, tmp_path)
    upgrade_database(url)
    eng = create_engine_for(url)
    yield sql_uow_factory(eng)
    eng.dispose()


@pytest.fixture(scope="session")
def categorizer() -> Any:
    """The shipped categorizer, loaded once per test process (loading takes seconds)."""
    from ledgerlens.adapters.model_store import load_categorizer

    model, _ = load_categorizer()
    return model


@pytest.fixture(scope="session")
def fx_rates() -> Any:
    """ECB rates for cross-currency transfer matching, built once per test process."""
    from ledgerlens.enrich.transfers import EcbRates

    return EcbRates.load()
