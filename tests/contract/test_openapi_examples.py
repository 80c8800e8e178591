"""Every request body and every 2xx JSON response of the OpenAPI document carries an example,
and every example validates against the schema it illustrates.

The walk covers whatever routes the app has when the test runs (no list of operations to keep
in step). An example counts where OpenAPI puts one: on the media type (``example`` or
``examples``) or on the schema itself (``examples``/``example``, after following ``$ref``, as
pydantic's ``json_schema_extra`` writes it). Problem (error) bodies are documented by
``serve.errors.problem_responses`` and are checked here too when they carry examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from ledgerlens.serve.app import create_app

_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


def _document() -> dict[str, Any]:
    doc: dict[str, Any] = create_app().openapi()  # building the app does no I/O
    return doc


DOC = _document()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = DOC["components"]["schemas"][name]
    return schema


def _examples(media: dict[str, Any]) -> list[Any]:
    """The examples OpenAPI shows for one media type (its own first, then its schema's)."""
    found: list[Any] = []
    if "example" in media:
        found.append(media["example"])
    found += [e["value"] for e in media.get("examples", {}).values() if "value" in e]
    schema = _resolve(media.get("schema", {}))
    if "example" in schema:
        found.append(schema["example"])
    found += list(schema.get("examples", []))
    return found


def _bodies(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(operation, "request"/"<status>", media) for every request body and 2xx JSON body."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            name = f"{method.upper()} {path}"
            for content_type, media in op.get("requestBody", {}).get("content", {}).items():
                yield name, f"request {content_type}", media
            for status, response in op.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                for content_type, media in response.get("content", {}).items():
                    if "json" in content_type:
                        yield name, f"{status} {content_type}", media


BODIES = list(_bodies(DOC))
ALL_MEDIA = [
    (f"{method.upper()} {path}", f"{status} {content_type}", media)
    for path, item in DOC["paths"].items()
    for method, op in item.items()
    if method in _METHODS
    for status, response in op.get("responses", {}).items()
    for content_type, media in response.get("content", {}).items()
] + [b for b in BODIES if b[1].startswith("request")]


def _validator(schema: dict[str, Any]) -> Any:
    """A 2020-12 validator for ``schema`` with the document's components reachable by $ref."""
    root = {**schema, "components": DOC.get("components", {})}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def test_the_walk_sees_the_api() -> None:
    """A guard against a walk that silently checks nothing."""
    names = {name for name, _, _ in BODIES}
    assert len(names) >= 30
    assert "POST /v1/businesses/{business_id}/insights/{insight_id}/act" in names
    assert "POST /v1/businesses/{business_id}/forecast/what-if" in names


def test_every_request_body_and_success_response_has_an_example() -> None:
    missing = [f"{name} [{where}]" for name, where, media in BODIES if not _examples(media)]
    assert not missing, "no example in the OpenAPI document for:\n  " + "\n  ".join(missing)


@pytest.mark.parametrize(
    ("name", "where", "media"),
    [b for b in ALL_MEDIA if _examples(b[2]) and "schema" in b[2]],
    ids=[f"{b[0]} [{b[1]}]" for b in ALL_MEDIA if _examples(b[2]) and "schema" in b[2]],
)
def test_every_example_validates_against_its_schema(
    name: str, where: str, media: dict[str, Any]
) -> None:
    validator = _validator(media["schema"])
    for example in _examples(media):
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(example)]
        assert not errors, f"{name} [{where}] example does not match its schema: {errors}"


def test_the_validator_catches_a_wrong_example() -> None:
    """The check itself: an example that breaks its schema is reported."""
    schema = {"$ref": "#/components/schemas/IngestResultOut"}
    assert _validator(schema).is_valid({"received": 2, "created": 2, "duplicates": 0})
    assert not _validator(schema).is_valid({"received": "two", "created": 2, "duplicates": 0})
    assert not _validator({"$ref": "#/components/schemas/WeekRiskOut"}).is_valid(
        {**_resolve({"$ref": "#/components/schemas/WeekRiskOut"})["examples"][0], "week_start": 1}
    )
