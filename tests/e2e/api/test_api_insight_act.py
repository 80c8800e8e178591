"""Acting on an insight names which of its offered actions the owner took: anything else is a
422 naming ``action`` (and changes nothing); the choice is returned and appended to the
hash-chained audit log as owner feedback."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from tests.e2e.api.conftest import T0, A, Api

from ledgerlens.core.ledger import ConsentGrant, Purpose
from ledgerlens.explain.model import Action, Figure, Insight, InsightKind, Severity

FEED = f"/v1/businesses/{A}/insights"
WITH, WITHOUT = f"ins-{A}-gap", f"ins-{A}-plain"
TRANSFER = Action(
    "schedule_transfer",
    "Move £1,500.00 from savings on 6 Mar",
    {"amount_minor": 150000, "currency": "GBP", "on": "2026-03-06"},
    {"probability_before": 0.62, "probability_after": 0.08},
)
REVIEW = Action("review", "Review the week's payments")


def _insight(iid: str, k: int, actions: tuple[Action, ...]) -> Insight:
    return Insight(
        iid, A, InsightKind.CASH_SHORTFALL, Severity.WARNING, f"Title {k}", f"Message {k}",
        (Figure("balance", -66000, "GBP"),), ("a-tx-0001",), 0.8, "rule:test",
        T0 + timedelta(hours=k), date(2026, 6, 1), f"dedup-{iid}", date(2026, 3, 9),
        actions=actions,
    )  # fmt: skip


@pytest.fixture
def seeded(api: Api) -> Api:
    with api.container.uow_factory() as uow:
        scope: Any = uow.scope(A)
        scope.consents.grant(ConsentGrant(A, Purpose.INSIGHTS, T0, granted_by="t"))
        scope.insights.upsert([_insight(WITH, 1, (TRANSFER, REVIEW)), _insight(WITHOUT, 2, ())], T0)
        uow.commit()
    return api


def _feedback(api: Api) -> list[Any]:
    log = api.app.state.api.services.audit_log
    return [e for e in log.entries(A, "feedback") if e.subject.startswith("insight:")]


def _status(api: Api, iid: str) -> str:
    body = api.client.get(FEED, headers=api.headers(), params={"status": "all"}).json()
    return next(i["status"] for i in body["items"] if i["insight_id"] == iid)


def test_the_chosen_action_is_returned_and_audited(seeded: Api) -> None:
    r = seeded.client.post(
        f"{FEED}/{WITH}/act", headers=seeded.headers(), json={"action": "schedule_transfer"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "acted" and body["insight_id"] == WITH
    assert body["action_taken"] == {
        "kind": "schedule_transfer",
        "label": TRANSFER.label,
        "parameters": {"amount_minor": 150000, "currency": "GBP", "on": "2026-03-06"},
        "effect": {"probability_before": 0.62, "probability_after": 0.08},
    }
    (entry,) = _feedback(seeded)
    assert entry.subject == f"insight:{WITH}" and entry.source == "owner"
    assert entry.outputs["action"] == "schedule_transfer" and entry.outputs["acted"] is True
    assert entry.outputs["insight_kind"] == "cash_shortfall"
    assert entry.inputs["member_id"] == f"user-{A}-owner"
    assert entry.reason_codes == ("INSIGHT_ACTED_BY_OWNER",)
    assert _status(seeded, WITH) == "acted"
    audit = seeded.client.get(
        "/v1/audit", headers=seeded.headers(role="bank_staff"), params={"business_id": A}
    ).json()
    assert audit["verification"]["ok"] is True
    assert any(i["subject"] == f"insight:{WITH}" for i in audit["items"])


@pytest.mark.parametrize("body", [{"action": "move_payment"}, {"action": ""}, None, {}])
def test_an_action_not_offered_is_a_422_naming_action(seeded: Api, body: Any) -> None:
    r = seeded.client.post(f"{FEED}/{WITH}/act", headers=seeded.headers(), json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"] == "/problems/refused" and problem["detail"].startswith("action:")
    assert "schedule_transfer, review" in problem["detail"]  # what it offers, never what came
    assert _status(seeded, WITH) == "new" and _feedback(seeded) == []


def test_an_insight_without_actions_takes_no_action(seeded: Api) -> None:
    bad = seeded.client.post(
        f"{FEED}/{WITHOUT}/act", headers=seeded.headers(), json={"action": "review"}
    )
    assert bad.status_code == 422 and "offered: none" in bad.json()["detail"]
    r = seeded.client.post(f"{FEED}/{WITHOUT}/act", headers=seeded.headers())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acted" and r.json()["action_taken"] is None
    (entry,) = _feedback(seeded)
    assert entry.subject == f"insight:{WITHOUT}" and entry.outputs["action"] == ""


def test_acting_feedback_leaves_the_offers_alone(seeded: Api) -> None:
    """Offers read ``feedback`` entries with ``dismissed``: an acted insight is not one."""
    seeded.client.post(f"{FEED}/{WITH}/act", headers=seeded.headers(), json={"action": "review"})
    (entry,) = _feedback(seeded)
    assert "dismissed" not in entry.outputs
