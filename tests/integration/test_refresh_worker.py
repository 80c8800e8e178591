"""The API's background refresh computes in a worker process: same plan and scoring context as
computed in the serving process; a worker that is stopped is started again on demand, one
that cannot start leaves the compute in the serving process."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.api.conftest import A, seed

from ledgerlens.adapters.db.engine import create_engine_for
from ledgerlens.adapters.db.unit_of_work import sql_uow_factory
from ledgerlens.bootstrap import bootstrap
from ledgerlens.config import DbSettings, Settings
from ledgerlens.core.ledger import ConsentGrant, Purpose
from ledgerlens.pipeline_anomalies import ScoringContexts
from ledgerlens.serve.refresh_worker import RefreshCompute, compute_refresh, shares_storage


def test_only_storage_another_process_can_open_is_refreshed_out_of_process(tmp_path: Path) -> None:
    memory = create_engine_for("sqlite://")
    on_disk = create_engine_for(f"sqlite:///{tmp_path / 'w.db'}")
    assert not shares_storage(memory) and shares_storage(on_disk)
    memory.dispose()
    on_disk.dispose()


def test_the_worker_process_plans_what_this_process_would_and_restarts_after_close(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    container = bootstrap(Settings(environment="test", db=DbSettings(url=url)))
    seed(container)
    with container.uow_factory() as uow:
        uow.scope(A).consents.grant(ConsentGrant(A, Purpose.INSIGHTS, datetime.now(UTC)))
        uow.commit()
    services = replace(container.services(), anomaly_contexts=ScoringContexts(4))
    read_uow = sql_uow_factory(container.engine, read_only=True)  # type: ignore[arg-type]
    here_plan, here_ctx = compute_refresh(A, None, True, services, read_uow)
    worker = RefreshCompute(container.settings, services, read_uow)
    assert worker.out_of_process

    async def twice() -> list[tuple[object, object]]:
        first = await worker(A, None, True)
        worker.close()  # stops the process; the next call starts a new one
        second = await worker(A, None, False)
        worker.close()
        return [first, second]

    broken = RefreshCompute(object(), services, read_uow)  # its worker cannot initialise

    try:
        (plan, ctx), (again, no_ctx) = asyncio.run(twice())
        fallback, _ = asyncio.run(broken(A, None, False))  # computed here instead
        assert not broken.out_of_process  # and here from now on: no respawn loop
    finally:
        worker.close()
        broken.close()
        container.dispose()
    assert fallback.processed  # type: ignore[attr-defined]
    assert here_plan.processed and plan.processed and again.processed  # type: ignore[attr-defined]
    kinds = sorted(str(c.kind) for c in here_plan.candidates)
    assert sorted(str(c.kind) for c in plan.candidates) == kinds  # type: ignore[attr-defined]
    assert sorted(str(c.kind) for c in again.candidates) == kinds  # type: ignore[attr-defined]
    assert here_ctx is not None and ctx is not None and no_ctx is None
    assert (ctx.n, ctx.last_day, ctx.index) == (here_ctx.n, here_ctx.last_day, here_ctx.index)  # type: ignore[attr-defined]
