"""Mobile screenshots (360×640) of every screen of the app, written to docs/screenshots/.

    python -m ledgerlens.jobs.screenshots [--out docs/screenshots] [--businesses 4]

Builds a small demo portfolio in a temporary SQLite database (``demo_serve.prepare_demo``),
serves API + app with uvicorn on a free loopback port in a background thread, and drives the
system's Chromium (``/usr/bin/chromium``, ``apt-get install -y chromium``) with Playwright,
headless. ``DemoServer`` is shared with the browser tests.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

__all__ = [
    "CHROMIUM",
    "SCREENS",
    "VIEWPORT",
    "DemoServer",
    "demo_server",
    "main",
    "write_screenshots",
]

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 360, "height": 640}
#: screen name -> hash route (the insight is the forecast's cash gap, with a what-if applied)
SCREENS = {
    "home": "#/home",
    "insight": "#/insight/cash-gap",
    "transactions": "#/transactions",
    "unusual": "#/unusual",
    "cards": "#/cards",
    "offers": "#/offers",
    "settings": "#/settings",
}


@dataclass(frozen=True, slots=True)
class DemoServer:
    base_url: str
    login_url: str  # the riskiest demo owner's login link
    business_id: str
    gap_week: str
    db_url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server(
    workdir: Path, *, businesses: int = 4, months: int = 12, seed: int = 11, quiet: bool = True
) -> Iterator[DemoServer]:
    """A demo portfolio in ``workdir`` served on a free 127.0.0.1 port until the block ends."""
    import uvicorn

    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.config import DbSettings, Settings
    from ledgerlens.jobs.demo_serve import demo_login, prepare_demo
    from ledgerlens.serve.app import create_app
    from ledgerlens.serve.settings import ApiSettings, ServeSettings

    db_url = f"sqlite:///{workdir / 'demo.db'}"
    container = bootstrap(Settings(environment="test", db=DbSettings(url=db_url)))
    console = Console(quiet=quiet)
    portfolio = prepare_demo(container, businesses, console, months=months, seed=seed)
    owner = portfolio.owners[0]
    port = _free_port()
    settings = ServeSettings(
        environment="test", api=ApiSettings(rate_limit_per_s=1000, rate_limit_burst=1000)
    )
    config = uvicorn.Config(
        create_app(container, settings), host="127.0.0.1", port=port, access_log=False,
        log_level="warning", lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="demo-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the demo server did not start")
        time.sleep(0.05)
    try:
        yield DemoServer(
            f"http://127.0.0.1:{port}", demo_login(container, owner, port), owner.business_id,
            owner.gap_week, db_url,
        )  # fmt: skip
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.dispose()


def write_screenshots(
    out_dir: Path, *, businesses: int = 4, executable: str = CHROMIUM
) -> list[Path]:
    """One PNG per screen at 360×640; returns the files written."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(prefix="ledgerlens-shots-") as tmp,
        demo_server(Path(tmp), businesses=businesses) as demo,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=executable, headless=True)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=2)
        page = context.new_page()
        page.goto(demo.login_url)
        page.get_by_test_id("business-name").wait_for()
        for name, route in SCREENS.items():
            if name == "offers":  # the owner turns the offers consent on first, in Settings
                page.goto(f"{demo.base_url}/app/#/settings")
                page.get_by_test_id("consent-offers").check()
                page.get_by_test_id("consent-status").filter(has_text="granted").wait_for()
            page.goto(f"{demo.base_url}/app/{route}")
            page.wait_for_selector("main[aria-busy=false]")
            bring_in = page.locator("[data-testid^=whatif-]").filter(has_text="Bring in")
            if name == "insight" and bring_in.count():
                bring_in.first.click()
                page.get_by_test_id("whatif-result").wait_for()
            path = out_dir / f"{name}.png"
            page.screenshot(path=str(path), full_page=False)
            written.append(path)
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--businesses", type=int, default=4)
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    for path in write_screenshots(args.out, businesses=args.businesses, executable=args.chromium):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
