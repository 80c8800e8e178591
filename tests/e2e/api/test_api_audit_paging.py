"""A reviewer pages the decision log newest first, narrowed by kind, subject and time, on
SQLite and PostgreSQL; every page still reports the verification of the whole chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.api.conftest import A, Api, B

from ledgerlens.core.ledger import Role
from ledgerlens.decide.model import Decision, DecisionKind

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _seed(api: Api) -> None:
    """Ten decisions for A (card authorizations and consent changes, an hour apart) and one
    for B, appended through the log the app uses."""
    log = api.container.services().audit_log
    kinds = [DecisionKind.CARD_AUTHORIZATION, DecisionKind.CONSENT]
    mine = [
        Decision(A, kinds[i % 2], f"subject-{i % 3}", {"n": i}, {}, (f"CODE_{i}",), (),
                 decided_at=T0 + timedelta(hours=i))
        for i in range(10)
    ]  # fmt: skip
    log.append([*mine, Decision(B, DecisionKind.CONSENT, "subject-0", {}, {}, ("B",), ())])


def _get(api: Api, **params: object) -> dict[str, object]:
    r = api.client.get("/v1/audit", params={"business_id": A, **params},
                       headers=api.headers(A, Role.BANK_STAFF))  # fmt: skip
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _positions(body: dict[str, object]) -> list[int]:
    return [int(e["position"]) for e in body["items"]]  # type: ignore[attr-defined,index]


def _all_pages(api: Api, **params: object) -> list[list[int]]:
    pages, cursor = [], None
    for _ in range(20):
        body = _get(api, **params, **({"cursor": cursor} if cursor else {}))
        pages.append(_positions(body))
        assert body["verification"] == {"ok": True, "entries": 10, "problems": []}
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("paging did not end")


def test_pages_go_newest_first_without_gaps_or_repeats(api_any_db: Api) -> None:
    _seed(api_any_db)
    pages = _all_pages(api_any_db, limit=4)
    assert pages == [[10, 9, 8, 7], [6, 5, 4, 3], [2, 1]]


def test_filters_narrow_by_kind_subject_and_time(api_any_db: Api) -> None:
    _seed(api_any_db)
    consent = _get(api_any_db, kind="consent")
    assert _positions(consent) == [10, 8, 6, 4, 2]  # i odd -> consent, position = i + 1
    assert _positions(_get(api_any_db, subject="subject-1")) == [8, 5, 2]
    window = _get(api_any_db, since=(T0 + timedelta(hours=3)).isoformat(),
                  until=(T0 + timedelta(hours=6)).isoformat())  # fmt: skip
    assert _positions(window) == [6, 5, 4]  # hours 3, 4, 5: since inclusive, until exclusive
    both = _all_pages(api_any_db, kind="card_authorization", limit=2)
    assert both == [[9, 7], [5, 3], [1]]


def test_a_cursor_from_other_filters_or_made_up_is_refused(api: Api) -> None:
    _seed(api)
    cursor = _get(api, limit=2)["next_cursor"]
    assert isinstance(cursor, str)
    staff = api.headers(A, Role.BANK_STAFF)
    params = {"business_id": A, "kind": "consent", "cursor": cursor}
    other = api.client.get("/v1/audit", headers=staff, params=params)
    assert other.status_code == 400
    bogus = api.client.get("/v1/audit", headers=staff,
                           params={"business_id": A, "cursor": "bm90LWEtY3Vyc29y"})  # fmt: skip
    assert bogus.status_code == 400
    naive = api.client.get("/v1/audit", headers=staff,
                           params={"business_id": A, "since": "2026-03-01T00:00:00"})  # fmt: skip
    assert naive.status_code == 422 and "since" in naive.json()["detail"]
