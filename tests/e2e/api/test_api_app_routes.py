"""The app's API routes (issue 9): forecast + what-if, categories + recategorize, unusual
activity, and the web app's static files with their Content-Security-Policy."""

from __future__ import annotations

import re
from importlib import resources

from tests.e2e.api.conftest import ACC_A, N_A, TX_A, A, Api

from ledgerlens.serve.routes.web import WEB_FILES


def _forecast(api: Api) -> dict:  # type: ignore[type-arg]
    r = api.client.get(f"/v1/businesses/{A}/forecast", headers=api.headers())
    assert r.status_code == 200, r.text
    return r.json()


def test_forecast_has_band_weeks_chart_and_the_gap_week(api: Api) -> None:
    fc = _forecast(api)
    assert fc["source"].startswith("model:cashflow@")
    assert len(fc["chart"]) == 13 and 13 <= len(fc["weeks"]) <= 14  # Monday-aligned weeks
    for p in fc["chart"]:
        assert float(p["p10"]) <= float(p["p50"]) <= float(p["p90"])
        assert float(p["inflow"]) >= 0 >= float(p["outflow"])
    risky = [w for w in fc["weeks"] if w["shortfall_probability"] >= fc["gap_threshold"]]
    # the seed's account runs negative: the first risky week is the gap week, with drivers
    assert risky and fc["gap_week"] == risky[0]
    assert fc["drivers"] and fc["history"].startswith("based on")
    assert [b["account_id"] for b in fc["balances"]] == [ACC_A]
    assert fc["balances"][0]["operating"] is True


def test_what_if_one_off_inflow_lowers_the_risk_of_later_weeks(api: Api) -> None:
    fc = _forecast(api)
    on = fc["weeks"][1]["week_start"]
    body = {"actions": [{"type": "one_off", "account_id": ACC_A, "on": on, "amount": "500.00"}]}
    r = api.client.post(f"/v1/businesses/{A}/forecast/what-if", headers=api.headers(), json=body)
    assert r.status_code == 200, r.text
    weeks = r.json()["weeks"]
    assert weeks[0]["after"] == weeks[0]["before"]  # before the item: same draws, same risk
    later = [w for w in weeks if w["week_start"] > on]
    assert any(w["after"] < w["before"] for w in later)
    assert all(w["after"] <= w["before"] for w in later)


def test_what_if_refuses_unknown_accounts_and_items_semantically(api: Api) -> None:
    url = f"/v1/businesses/{A}/forecast/what-if"
    bad = [
        {"type": "one_off", "account_id": "nope", "on": "2026-02-10", "amount": "1.00"},
        {"type": "move_payment", "item_id": "nope", "new_date": "2026-02-10"},
        {"type": "schedule_transfer", "from_account_id": ACC_A, "to_account_id": "x",
         "on": "2026-02-10", "amount": "1.00"},
    ]  # fmt: skip
    for action in bad:
        r = api.client.post(url, headers=api.headers(), json={"actions": [action]})
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/refused"


def test_recategorize_moves_similar_lines_and_lists_them(api: Api) -> None:
    url = f"/v1/businesses/{A}/transactions/{TX_A}"
    r = api.client.patch(url, headers=api.headers(), json={"category": "opex.training_education"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["transaction"]["category"] == "opex.training_education"
    assert out["transaction"]["source"].startswith("rule:correction")
    followed = {f["transaction_id"] for f in out["followed"]}
    assert followed and TX_A not in followed
    ids = ",".join([TX_A, *sorted(followed)])
    cats = api.client.get(
        f"/v1/businesses/{A}/categories", headers=api.headers(), params={"ids": ids}
    ).json()["items"]
    assert {c["category"] for c in cats} == {"opex.training_education"}
    assert len(cats) == len(followed) + 1


def test_recategorize_refuses_a_non_leaf_and_needs_the_owner(api: Api) -> None:
    url = f"/v1/businesses/{A}/transactions/{TX_A}"
    r = api.client.patch(url, headers=api.headers(), json={"category": "opex"})
    assert r.status_code == 422 and r.json()["type"] == "/problems/refused"
    r = api.client.patch(
        url, headers=api.headers(role="accountant"), json={"category": "opex.travel"}
    )
    assert r.status_code == 403


def test_unusual_activity_lists_scored_lines_and_expected_needs_an_alert(api: Api) -> None:
    r = api.client.get(f"/v1/businesses/{A}/anomalies", headers=api.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["transactions"] == N_A and body["max_alerts"] >= 1
    r = api.client.post(f"/v1/businesses/{A}/anomalies/{TX_A}/expected", headers=api.headers())
    assert r.status_code in (422, 501)  # no raised alert on the seed line (or not wired yet)
    r = api.client.post(f"/v1/businesses/{A}/anomalies/nope/expected", headers=api.headers())
    assert r.status_code == 404


def test_taxonomy_lists_the_leaves(api: Api) -> None:
    assert api.client.get("/v1/taxonomy").status_code == 401
    leaves = api.client.get("/v1/taxonomy", headers=api.headers()).json()["leaves"]
    assert {"code": "opex.travel", "label": "Travel", "group": "opex"} in leaves


def test_the_app_is_served_with_a_same_origin_csp(api: Api) -> None:
    r = api.client.get("/app", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/app/"
    r = api.client.get("/app/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "http" not in csp and "unsafe" not in csp
    sw = api.client.get("/app/sw.js")
    assert sw.headers["service-worker-allowed"] == "/app/"
    again = api.client.get("/app/app.js", headers={"If-None-Match": sw.headers["etag"]})
    assert again.status_code == 200  # another file's ETag does not match
    etag = api.client.get("/app/app.js").headers["etag"]
    assert api.client.get("/app/app.js", headers={"If-None-Match": etag}).status_code == 304


def test_every_asset_is_our_own_nothing_from_a_cdn() -> None:
    web = resources.files("ledgerlens.serve").joinpath("web")
    on_disk = {p.name for p in web.iterdir()}  # type: ignore[union-attr]
    assert on_disk == set(WEB_FILES), "every file under web/ is listed and served"
    for name in WEB_FILES:
        if name.endswith(".png"):
            continue
        text = web.joinpath(name).read_text()
        urls = re.findall(r"https?://[^\s\"')]+", text)
        assert urls in ([], ["http://www.w3.org/2000/svg"]), (name, urls)


def test_forecast_cache_is_keyed_by_the_ledger_shape_and_bounded(api: Api) -> None:
    from ledgerlens.serve.forecasting import ForecastCache, load_forecast

    cache = ForecastCache(size=1)
    read = api.container.uow_factory
    first = load_forecast(read, A, cache)
    assert load_forecast(read, A, cache) is first  # same ledger: simulated once
    load_forecast(read, "biz-b", cache)  # evicts A (size 1)
    assert load_forecast(read, A, cache) is not first
    body = {
        "transactions": [
            {"account_id": ACC_A, "booking_date": "2026-02-03", "amount": "-1.00",
             "currency": "GBP", "transaction_id": "new-1"}
        ]
    }  # fmt: skip
    headers = {**api.headers(), "Idempotency-Key": "cache-test-1"}
    r = api.client.post(f"/v1/businesses/{A}/transactions", headers=headers, json=body)
    assert r.status_code == 201, r.text
    refreshed = load_forecast(read, A, cache)
    assert refreshed.fc.as_of.isoformat() == "2026-02-03"  # a new line: a new forecast
