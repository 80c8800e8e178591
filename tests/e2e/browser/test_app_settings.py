"""Settings, offers and insight actions in a real browser (headless Chromium, 360×640).

What an owner does: grant the offers consent and see offers (then dismiss one, and withdraw the
consent again after a confirmation that says derived data is deleted), unmute an insight kind,
add a notification channel that survives a reload, dismiss an insight and act on another.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ledgerlens.jobs.screenshots import DemoServer

pytestmark = pytest.mark.slow


def _api(demo: DemoServer) -> tuple[str, dict[str, str]]:
    auth = {"Authorization": "Bearer " + demo.login_url.split("#token=")[1]}
    return f"{demo.base_url}/v1/businesses/{demo.business_id}", auth


def _feed(demo: DemoServer, status: str = "open") -> list[dict[str, Any]]:
    base, auth = _api(demo)
    r = httpx.get(f"{base}/insights", params={"status": status}, headers=auth)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _open_settings(page: Any) -> None:
    page.get_by_role("link", name="Settings").click()
    page.get_by_test_id("consents").wait_for()


def test_grant_the_offers_consent_then_offers_show_and_withdraw_it_again(page: Any) -> None:
    page.get_by_role("link", name="Offers").click()
    missing = page.get_by_test_id("offers-consent")
    missing.wait_for()
    assert "“Offers” consent is off" in missing.inner_text()
    assert "not available" not in missing.inner_text()
    page.get_by_test_id("to-settings").click()  # the screen links to where it is granted
    page.get_by_test_id("consents").wait_for()
    toggle = page.get_by_test_id("consent-offers")
    assert not toggle.is_checked()
    toggle.check()
    page.get_by_test_id("consent-status").filter(has_text="consent granted").wait_for()

    page.get_by_role("link", name="Offers").click()
    page.get_by_test_id("offers").wait_for()
    cards = page.locator("[data-product]")
    first = cards.first.get_attribute("data-product")
    assert cards.first.locator("h3").inner_text().strip()
    assert cards.first.locator("li").count() >= 1  # why: the reasons
    shown = {c.get_attribute("data-product") for c in cards.all()}
    page.get_by_test_id(f"dismiss-offer-{first}").click()
    page.locator(f"[data-product='{first}']").first.wait_for(state="detached")
    page.reload()
    page.get_by_test_id("offers").wait_for()
    left = {c.get_attribute("data-product") for c in page.locator("[data-product]").all()}
    assert left == shown - {first}  # dismissed for good, the others still there

    _open_settings(page)
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.get_by_test_id("consent-offers").uncheck()
    page.get_by_test_id("consent-status").filter(has_text="consent withdrawn").wait_for()
    assert asked and "deleted" in asked[0], asked
    page.get_by_role("link", name="Offers").click()
    page.get_by_test_id("offers-consent").wait_for()


def test_unmute_a_kind_that_was_muted_through_the_api(page: Any, demo: DemoServer) -> None:
    base, auth = _api(demo)
    insight = _feed(demo, "all")[0]
    kind = insight["kind"]
    r = httpx.post(f"{base}/insights/{insight['insight_id']}/mute", headers=auth)
    assert r.status_code == 200, r.text
    _open_settings(page)
    page.get_by_test_id(f"muted-{kind}").wait_for()
    page.get_by_test_id(f"unmute-{kind}").click()
    page.get_by_test_id(f"muted-{kind}").wait_for(state="detached")
    assert page.get_by_test_id("none-muted").is_visible()
    assert kind not in httpx.get(f"{base}/preferences", headers=auth).json()["muted_kinds"]
    page.reload()
    page.get_by_test_id("muted-kinds").wait_for()
    assert page.get_by_test_id(f"muted-{kind}").count() == 0


def test_a_new_notification_channel_is_kept_after_a_reload(page: Any, demo: DemoServer) -> None:
    _open_settings(page)
    email = page.get_by_test_id("channel-email")
    assert not email.is_checked()
    assert page.get_by_test_id("channel-in_app").is_checked()
    email.check()
    page.get_by_test_id("pref-email").fill("owner@example.com")
    page.get_by_test_id("save-preferences").click()
    page.get_by_test_id("prefs-status").filter(has_text="Preferences saved").wait_for()
    page.reload()
    page.get_by_test_id("preferences").wait_for()
    assert page.get_by_test_id("channel-email").is_checked()
    assert page.get_by_test_id("pref-email").input_value() == "owner@example.com"
    base, auth = _api(demo)
    assert "email" in httpx.get(f"{base}/preferences", headers=auth).json()["channels"]


def test_dismiss_an_insight_from_its_detail_and_it_leaves_the_feed(
    page: Any, demo: DemoServer
) -> None:
    items = _feed(demo)
    target = next((i for i in items if not i["actions"]), items[-1])
    page.goto(f"{demo.base_url}/app/#/insight/{target['insight_id']}")
    page.locator("h1", has_text=target["title"]).wait_for()
    page.get_by_test_id("dismiss-insight").click()
    page.get_by_test_id("business-name").wait_for()  # back home
    page.locator("#toast", has_text="Dismissed").wait_for()
    page.wait_for_function("document.getElementById('view').getAttribute('aria-busy') === 'false'")
    assert page.locator(".insights a", has_text=target["title"]).count() == 0
    assert target["insight_id"] not in {i["insight_id"] for i in _feed(demo)}


def test_act_on_an_insight_action(page: Any, demo: DemoServer) -> None:
    target = next((i for i in _feed(demo) if i["actions"]), None)
    assert target is not None, "the demo owner's cash-gap insight should carry actions"
    page.goto(f"{demo.base_url}/app/#/insight/{target['insight_id']}")
    button = page.get_by_test_id("act-0")
    button.wait_for()
    assert target["actions"][0]["label"] in button.inner_text()
    button.click()
    page.locator("#toast", has_text="you acted on").wait_for()
    acted = {i["insight_id"]: i["status"] for i in _feed(demo, "all")}
    assert acted[target["insight_id"]] == "acted"
