"""The app in a real browser (headless Chromium at 360×640), over the demo portfolio.

What an owner does: log in from the printed link, see the cash gap, open its chart and
drivers, preview an action and see the new shortfall probability, recategorize a line and see
a similar one follow, mute an insight kind, and read the home screen offline.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from ledgerlens.jobs.screenshots import DemoServer

pytestmark = pytest.mark.slow


def _pct(text: str) -> int:
    m = re.search(r"(\d+)%", text)
    assert m, text
    return int(m.group(1))


def test_login_shows_the_cash_gap_and_drops_the_token_from_the_url(
    page: Any, demo: DemoServer
) -> None:
    assert "token=" not in page.url and page.url.endswith("#/home")
    gap = page.get_by_test_id("cash-gap")
    assert gap.is_visible()
    assert re.search(r"\d+% chance", gap.inner_text()) or gap.inner_text().strip()
    chart = page.get_by_test_id("forecast-chart")
    assert chart.locator("svg[role=img] title").count() == 1  # text alternative …
    assert chart.locator("table tbody tr").count() == 13  # … and the numbers as a table
    assert chart.get_by_test_id("gap-week").count() == 1  # the shortfall week highlighted


def test_open_the_gap_then_a_what_if_lowers_the_shortfall_probability(page: Any) -> None:
    page.get_by_test_id("open-gap").click()
    page.get_by_test_id("drivers").wait_for()
    assert page.get_by_test_id("drivers").locator("li").count() >= 1
    assert page.get_by_test_id("forecast-chart").first.get_by_test_id("gap-week").count() == 1
    buttons = page.locator("[data-testid^=whatif-]").filter(has_text="Bring in")
    buttons.first.click()
    result = page.get_by_test_id("whatif-result")
    result.wait_for()
    before = _pct(result.locator("strong").first.inner_text())
    after = _pct(page.get_by_test_id("whatif-after").inner_text())
    assert after < before, result.inner_text()


def _similar_pair(page: Any) -> tuple[str, str]:
    """Two listed lines of the same counterparty: the one to correct and one that should follow."""
    rows = page.locator("[data-testid^=tx-]")
    seen: dict[str, str] = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        name = row.locator(".desc").inner_text().strip()
        tid = row.get_attribute("data-testid").removeprefix("tx-")
        if name in seen:
            return seen[name], tid
        seen[name] = tid
    pytest.fail("no two listed transactions share a counterparty")


def test_recategorize_and_a_similar_transaction_follows(page: Any) -> None:
    page.get_by_role("link", name="Transactions").click()
    page.locator("[data-testid^=tx-]").first.wait_for()
    first, other = _similar_pair(page)
    target = "opex.training_education"
    page.get_by_test_id(f"select-{first}").select_option(target)
    follower = page.get_by_test_id(f"tx-{other}")
    follower.locator(".note", has_text="followed your change").wait_for()
    label = page.get_by_test_id(f"cat-{first}").inner_text()
    assert label == "Training and education"
    assert page.get_by_test_id(f"cat-{other}").inner_text() == label
    assert "similar transaction" in page.locator("#toast").inner_text()


def test_mute_an_insight_kind(page: Any, demo: DemoServer) -> None:
    auth = {"Authorization": "Bearer " + demo.login_url.split("#token=")[1]}
    base = f"{demo.base_url}/v1/businesses/{demo.business_id}"
    probe = httpx.get(f"{base}/insights", headers=auth)
    assert probe.status_code == 200, probe.text
    items = probe.json().get("items", [])
    assert items, "the demo owner should have insights to mute"
    kind = items[0]["kind"]
    page.goto(f"{demo.base_url}/app/#/insight/{items[0]['insight_id']}")
    page.get_by_test_id("mute-kind").click()
    page.locator("#toast", has_text="will not get").wait_for()  # the toast follows the POST
    prefs = httpx.get(f"{base}/preferences", headers=auth).json()
    assert kind in prefs["muted_kinds"]


def test_offline_the_cached_home_still_shows(page: Any, context: Any, demo: DemoServer) -> None:
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.reload()  # now through the service worker, which keeps the answers
    page.get_by_test_id("cash-gap").wait_for()
    name = page.get_by_test_id("business-name").inner_text()
    context.set_offline(True)
    try:
        page.reload()
        page.get_by_test_id("business-name").wait_for()
        assert page.get_by_test_id("business-name").inner_text() == name
        assert page.get_by_test_id("cash-gap").is_visible()
        assert page.get_by_test_id("offline-note").is_visible()
    finally:
        context.set_offline(False)
