"""Browser fixtures: a small demo portfolio served by uvicorn on a free loopback port, and
Debian's Chromium driven headless by Playwright (never a downloaded browser).

Skips (with the reason) when Playwright or ``/usr/bin/chromium`` is missing:
``pip install playwright`` and ``apt-get install -y chromium``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledgerlens.jobs.screenshots import CHROMIUM, VIEWPORT, DemoServer, demo_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo")) as server:
        if not server.gap_week:
            pytest.fail("the demo portfolio has no business with a cash gap to show")
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    executable = os.environ.get("LEDGERLENS_CHROMIUM", CHROMIUM)
    if not Path(executable).exists():
        reason = f"no Chromium at {executable} (apt-get install -y chromium; `make browser`)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} — CI must run the browser tests")
        pytest.skip(reason)
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True)
        yield b
        b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, demo: DemoServer) -> Any:
    """Logged in as the demo owner (through the printed login link), on the home screen."""
    p = context.new_page()
    p.goto(demo.login_url)
    p.get_by_test_id("business-name").wait_for()
    return p
