"""schemathesis against the OpenAPI document: no server errors, no response off the spec.

The ASGI app runs in-process over a seeded SQLite file with an owner token for ``biz-a``;
generated requests address ``biz-a`` (other tenants are the isolation test's job), so the
generated filters, bodies and uploads reach the handlers instead of stopping at a 404.
Examples are bounded per operation to keep the run well under a minute.

Every built-in check runs, with one replaced: ``positive_data_acceptance`` expects any
schema-valid request to succeed, but some refusals cannot be written in a schema (an account
that does not exist, an empty statement file, a cursor from another query). Its stand-in,
``refusals_are_semantic``, still fails when a schema-valid request is refused by request
validation (the spec and the validators disagree), and accepts only refusals of the kinds
that depend on stored data.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tests.e2e.api.conftest import TX_A, A, Api

from ledgerlens.serve.app import create_app


class _AppProxy:
    """An ASGI app forwarding to ``target``: the schema is loaded at import from an app without
    storage (building one does no I/O), and each test points the proxy at its seeded app."""

    def __init__(self) -> None:
        self.target: Any = create_app()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the fixtures own start-up; never bootstrap here
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.target(scope, receive, send)


PROXY = _AppProxy()
schema = schemathesis.openapi.from_asgi("/openapi.json", PROXY)
SEMANTIC_REFUSALS = {"/problems/refused", "/problems/invalid-cursor"}


def refusals_are_semantic(ctx, response, case) -> None:  # type: ignore[no-untyped-def]
    """A schema-valid request may be refused only for what the schema cannot know."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if response.status_code in (400, 413, 422):
        kind = response.json().get("type")
        assert kind in SEMANTIC_REFUSALS, (
            f"schema-valid request refused by validation ({response.status_code}): "
            f"{response.text[:400]}"
        )


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case, api: Api) -> None:
    PROXY.target = api.app
    components = case.meta.components if case.meta is not None else {}

    def negative(location: str) -> bool:
        info = next((v for k, v in components.items() if str(k.value) == location), None)
        return info is not None and not info.mode.is_positive

    if "business_id" in (case.path_parameters or {}) and not negative("path"):
        case.path_parameters["business_id"] = A
        tid = case.path_parameters.get("transaction_id")
        if tid is not None and len(tid) % 2:
            case.path_parameters["transaction_id"] = TX_A
    # a case probing the Authorization header itself keeps what schemathesis generated
    headers = None if negative("header") else api.headers()
    # call_and_validate raises on any failed check (server error, schema violation, …)
    response = case.call_and_validate(
        headers=headers,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[refusals_are_semantic],
    )
    assert response.status_code < 500
