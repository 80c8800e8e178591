"""Transactions carry their current category (the ``category`` annotation, one LEFT JOIN in
the search) and can be filtered on it: exact leaf codes, an unknown code is a 422 naming
``category``, cursor pages stay stable and the ETag moves when a category changes."""

from __future__ import annotations

from typing import Any

from tests.e2e.api.conftest import N_A, TX_A, A, Api

from ledgerlens.core.ledger import Annotation, AnnotationKind

URL = f"/v1/businesses/{A}/transactions"
TRAVEL = [f"a-tx-{i:04d}" for i in range(0, N_A, 3)]  # 10 lines
ABSTAINED = "a-tx-0001"


def _categorize(
    api: Api, ids: list[str], category: str, kind: Any = AnnotationKind.CATEGORY
) -> None:
    with api.container.uow_factory() as uow:
        uow.scope(A).annotations.upsert(
            [Annotation(t, A, kind, category, 0.9, "rule:test") for t in ids]
        )
        uow.commit()


def _items(api: Api, **params: Any) -> list[dict[str, Any]]:
    r = api.client.get(URL, headers=api.headers(), params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_search_and_get_one_show_the_current_category(api_any_db: Api) -> None:
    api = api_any_db
    _categorize(api, TRAVEL, "opex.travel")
    _categorize(api, [ABSTAINED], "")  # the categorizer abstained
    _categorize(api, ["a-tx-0002"], "pair-1", AnnotationKind.TRANSFER)  # another kind
    items = _items(api)
    assert len(items) == N_A  # the join never multiplies or drops lines
    by_id = {i["transaction_id"]: i["category"] for i in items}
    assert {t for t, c in by_id.items() if c == "opex.travel"} == set(TRAVEL)
    assert by_id[ABSTAINED] is None and by_id["a-tx-0002"] is None
    one = api.client.get(f"{URL}/{TX_A}", headers=api.headers())
    assert one.status_code == 200 and one.json()["category"] == "opex.travel"
    other = api.client.get(f"{URL}/a-tx-0002", headers=api.headers())
    assert other.status_code == 200 and other.json()["category"] is None


def test_the_category_filter_is_exact_and_combines(api_any_db: Api) -> None:
    api = api_any_db
    _categorize(api, TRAVEL, "opex.travel")
    _categorize(api, ["a-tx-0001"], "opex.office_supplies")
    got = [i["transaction_id"] for i in _items(api, category="opex.travel")]
    assert sorted(got) == sorted(TRAVEL)
    assert got == sorted(got, reverse=True)  # newest first, as unfiltered
    assert _items(api, category="opex.meals_entertainment") == []  # a leaf nobody has
    coffee = _items(api, category="opex.travel", q="coffee")  # i % 3 == 0 is COFFEE
    assert len(coffee) == len(TRAVEL)
    assert _items(api, category="opex.travel", q="stationery") == []


def test_cursor_pages_over_a_category_cover_it_once(api: Api) -> None:
    _categorize(api, TRAVEL, "opex.travel")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"category": "opex.travel", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = api.client.get(URL, headers=api.headers(), params=params).json()
        seen += [i["transaction_id"] for i in body["items"]]
        assert all(i["category"] == "opex.travel" for i in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(TRAVEL, reverse=True)


def test_an_unknown_category_is_a_422_naming_it(api: Api) -> None:
    for bad in ("opex.nope", "opex", "OPEX.TRAVEL", "x" * 64):
        r = api.client.get(URL, headers=api.headers(), params={"category": bad})
        assert r.status_code == 422, bad
        problem = r.json()
        assert problem["type"] == "/problems/refused"
        assert problem["detail"].startswith("category:")
        assert bad not in problem["detail"]  # never echoes what was sent
    r = api.client.get(URL, headers=api.headers(), params={"category": "y" * 65})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "category"]


def test_the_etag_changes_when_a_category_changes(api: Api) -> None:
    _categorize(api, [TX_A], "opex.travel")
    first = api.client.get(URL, headers=api.headers())
    etag = first.headers["etag"]
    same = api.client.get(URL, headers={**api.headers(), "If-None-Match": etag})
    assert same.status_code == 304
    fixed = api.client.patch(
        f"{URL}/{TX_A}", headers=api.headers(), json={"category": "opex.office_supplies"}
    )
    assert fixed.status_code == 200, fixed.text
    changed = api.client.get(URL, headers={**api.headers(), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    by_id = {i["transaction_id"]: i["category"] for i in changed.json()["items"]}
    assert by_id[TX_A] == "opex.office_supplies"
