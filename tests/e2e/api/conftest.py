"""API test fixtures: the real app over a real database, seeded with two businesses.

``api`` is SQLite (a file in tmp_path) through the real ``bootstrap``; ``api_any_db`` runs the
same on PostgreSQL too (a fresh schema per test, from tests/integration/conftest.py).
Business ``biz-a`` and ``biz-b`` each own one account and a few transactions; the tenant
isolation test relies on every resource of ``biz-b`` being addressable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.integration.conftest import (  # noqa: F401 - fixtures re-exported for this folder
    SQL_BACKENDS,
    pg_admin_engine,
    pg_url,
)

from ledgerlens.bootstrap import Container, bootstrap
from ledgerlens.config import DbSettings, Settings
from ledgerlens.core.ledger import Account, AccountType, Business, Role, Transaction
from ledgerlens.serve.app import create_app
from ledgerlens.serve.security import issue_dev_token
from ledgerlens.serve.settings import ApiSettings, ServeSettings

A, B = "biz-a", "biz-b"
ACC_A, ACC_B = "acc-a1", "acc-b1"
TX_A, TX_B = "a-tx-0000", "b-tx-0000"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
N_A = 30


def _tx(i: int, bid: str, acc: str, prefix: str) -> Transaction:
    return Transaction(
        transaction_id=f"{prefix}-tx-{i:04d}",
        business_id=bid,
        account_id=acc,
        booking_date=date(2026, 1, 1) + timedelta(days=i),
        value_date=None,
        amount_minor=(-1) ** i * (1000 + i * 7),
        currency="GBP",
        description=f"CARD PAYMENT {'COFFEE' if i % 3 == 0 else 'STATIONERY'} SHOP {i}",
        counterparty_name="Jane Smith" if i % 2 else "Acme Supplies Ltd",
        counterparty_iban="GB33BUKB20201555555555",
        bank_reference=f"REF{i:05d}",
        dedup_key=f"seed:{i}",
    )


def seed(container: Container) -> None:
    with container.uow_factory() as uow:
        for bid, acc, prefix, n in ((A, ACC_A, "a", N_A), (B, ACC_B, "b", 3)):
            uow.businesses.add(Business(bid, f"Business {bid}", "GB", "GBP", created_at=T0))
            scope = uow.scope(bid)
            scope.accounts.add(
                Account(
                    acc,
                    bid,
                    f"GB29NWBK6016133192{prefix.upper()}",
                    "GBP",
                    AccountType.CURRENT,
                    "Main",
                )
            )
            scope.transactions.add_new([_tx(i, bid, acc, prefix) for i in range(n)])
        uow.commit()


@dataclass
class Api:
    client: TestClient
    app: FastAPI
    container: Container
    settings: ServeSettings

    def token(self, business_id: str = A, role: Role | str = Role.OWNER, **kw: object) -> str:
        return issue_dev_token(
            self.settings.auth,
            str(kw.pop("subject", f"user-{business_id}-{role}")),
            {business_id: Role(role)},
            **kw,  # type: ignore[arg-type]
        )

    def headers(
        self, business_id: str = A, role: Role | str = Role.OWNER, **kw: object
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(business_id, role, **kw)}"}


def make_api(url: str, api_settings: ApiSettings | None = None) -> Iterator[Api]:
    container = bootstrap(Settings(environment="test", db=DbSettings(url=url)))
    seed(container)
    settings = ServeSettings(
        environment="test",
        api=api_settings or ApiSettings(rate_limit_per_s=10_000, rate_limit_burst=10_000),
    )
    app = create_app(container, settings)
    with TestClient(app) as client:
        yield Api(client, app, container, settings)
    container.dispose()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(f"sqlite:///{tmp_path / 'api.db'}")


@pytest.fixture(params=SQL_BACKENDS)
def api_any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'api.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    yield from make_api(url)


@pytest.fixture
def api_factory(tmp_path: Path) -> Iterator[Callable[[ApiSettings], Api]]:
    """An API with custom limits (rate limit, body size), on SQLite."""
    gens: list[Iterator[Api]] = []

    def make(api_settings: ApiSettings) -> Api:
        gen = make_api(f"sqlite:///{tmp_path / f'api{len(gens)}.db'}", api_settings)
        gens.append(gen)
        return next(gen)

    yield make
    for gen in gens:
        next(gen, None)
