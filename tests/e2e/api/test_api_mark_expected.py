"""Marking an unusual line "expected" on a world where it succeeds: the stage raised an alert
on the line, the owner's POST answers 200 with ``stored``, the feedback is in the database and
the line leaves the list of unusual activity; marking it again stores nothing new."""

from __future__ import annotations

from datetime import date

from tests.e2e.api.conftest import ACC_A, A, Api

from ledgerlens.core.ledger import Transaction
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_anomalies import DetectAnomalies

BIG = "a-tx-big-payee"


def _with_a_raised_alert(api: Api) -> None:
    """A large first payment to a new payee abroad, then the anomaly stage's full run."""
    big = Transaction(
        transaction_id=BIG, business_id=A, account_id=ACC_A, booking_date=date(2026, 2, 1),
        value_date=None, amount_minor=-4_850_000, currency="GBP",
        description="FASTER PAYMENT OFFSHORE HOLDINGS", counterparty_name="Offshore Holdings SA",
        counterparty_iban="CH9300762011623852957", bank_reference="REFBIG", dedup_key="seed:big",
    )  # fmt: skip
    with api.container.uow_factory() as uow:
        uow.scope(A).transactions.add_new([big])
        uow.commit()
    dispatch(DetectAnomalies(A), api.container.services())


def _unusual(api: Api) -> list[str]:
    r = api.client.get(f"/v1/businesses/{A}/anomalies", headers=api.headers())
    assert r.status_code == 200, r.text
    return [i["transaction_id"] for i in r.json()["items"]]


def test_marking_a_raised_alert_expected_stores_the_feedback(api: Api) -> None:
    _with_a_raised_alert(api)
    assert BIG in _unusual(api)
    url = f"/v1/businesses/{A}/anomalies/{BIG}/expected"
    r = api.client.post(url, headers=api.headers())
    assert r.status_code == 200, r.text
    assert r.json() == {"transaction_id": BIG, "stored": True}
    with api.container.uow_factory() as uow:
        feedback = uow.scope(A).feedback.list()
    assert [f.transaction_id for f in feedback] == [BIG]
    assert feedback[0].created_by == f"user-{A}-owner"
    assert feedback[0].kind == "new_payee_large" and feedback[0].amount_minor == 4_850_000
    assert BIG not in _unusual(api)  # suppressed at once
    again = api.client.post(url, headers=api.headers())
    assert again.status_code == 200, again.text
    assert again.json() == {"transaction_id": BIG, "stored": False}  # already marked
    with api.container.uow_factory() as uow:
        assert len(uow.scope(A).feedback.list()) == 1


def test_only_the_owner_side_may_mark(api: Api) -> None:
    _with_a_raised_alert(api)
    url = f"/v1/businesses/{A}/anomalies/{BIG}/expected"
    assert api.client.post(url, headers=api.headers(role="bank_staff")).status_code == 403
    with api.container.uow_factory() as uow:
        assert uow.scope(A).feedback.list() == []
