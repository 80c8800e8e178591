"""``ledgerlens dispatch`` as an operator runs it (a real subprocess and SQLite file), and the
background loop ``ledgerlens demo`` runs beside the web server (started and stopped cleanly)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

LEDGERLENS = [sys.executable, "-m", "ledgerlens.jobs"]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEDGERLENS, *args], env=env, cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["LEDGERLENS_DB__URL"] = f"sqlite:///{tmp_path}/cli.db"
    return e


def test_dispatch_once_queues_the_due_digest_once(env: dict[str, str], tmp_path: Path) -> None:
    add = ["business", "add", "acme", "--country", "GB", "--currency", "GBP"]
    assert _run(add, env, tmp_path).returncode == 0
    grant = ["consent", "grant", "--business", "acme", "--purpose", "insights"]
    assert _run(grant, env, tmp_path).returncode == 0, _run(grant, env, tmp_path).stderr
    # default preferences: weekly digest, Monday 07:00, UTC, in-app only
    monday = ["dispatch", "--once", "--now", "2026-12-07T07:05:00+00:00", "--json"]
    first = _run(monday, env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["digests_queued"] == 1
    again = _run(monday, env, tmp_path)
    assert json.loads(again.stdout)["digests_queued"] == 0
    sunday = ["dispatch", "--once", "--now", "2026-12-06T07:05:00+00:00", "--json"]
    assert json.loads(_run(sunday, env, tmp_path).stdout)["digests_queued"] == 0
    bad = _run(["dispatch", "--loop", "--now", "2026-12-07T07:05:00+00:00"], env, tmp_path)
    assert bad.returncode != 0
    naive = _run(["dispatch", "--once", "--now", "2026-12-07T07:05:00"], env, tmp_path)
    assert naive.returncode != 0 and "offset" in naive.stderr


def test_the_demo_dispatcher_runs_in_the_background_and_stops_cleanly(tmp_path: Path) -> None:
    from ledgerlens.adapters.db import create_engine_for, sql_uow_factory, upgrade_database
    from ledgerlens.jobs.demo_serve import start_dispatcher

    url = f"sqlite:///{tmp_path}/demo.db"
    upgrade_database(url)
    engine = create_engine_for(url)
    container = SimpleNamespace(uow_factory=sql_uow_factory(engine), notifiers=dict)
    loop = start_dispatcher(container, Console(quiet=True), interval_s=0.05)  # type: ignore[arg-type,unused-ignore]
    try:
        deadline = time.monotonic() + 10
        while loop.passes < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert loop.running and loop.passes >= 2 and loop.failures == 0
    finally:
        assert loop.stop(timeout_s=10)
        engine.dispose()
    assert not loop.running
    passes = loop.passes
    time.sleep(0.2)
    assert loop.passes == passes  # stopped means no further pass
