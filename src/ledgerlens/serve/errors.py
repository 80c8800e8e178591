"""RFC 9457 problem details: the one shape every API error takes, mapped from the error tree.

Domain errors (``core.errors``) become HTTP only here::

    NotFound          -> 404        ConsentRequired -> 403        Conflict     -> 409
    ImportRefused     -> 422 (+ issues with line and field)        StorageError -> 503
    ValidationError   -> 422        other LedgerLensError -> 400
    AuthError -> 401 (WWW-Authenticate: Bearer)   Forbidden -> 403   ApiProblem -> its status
    request validation -> 422 (malformed JSON -> 400)   anything else -> 500, type name only

Every documented status has a ``Problem`` schema and an example in the OpenAPI document
(``problem_responses``), so schemathesis can hold the spec to what the server sends. Error
bodies never echo submitted values (they may hold personal data): only where and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ledgerlens.core.errors import (
    Conflict,
    ConsentRequired,
    ImportRefused,
    LedgerLensError,
    NotFound,
    StorageError,
    ValidationError,
)
from ledgerlens.serve.security import AuthError, Forbidden

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ApiProblem",
    "FieldError",
    "IssueOut",
    "Problem",
    "field_refused",
    "install_error_handlers",
    "install_problem_schema",
    "problem_for",
    "problem_response",
    "problem_responses",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("ledgerlens.serve")

_TITLES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Unprocessable content"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


class IssueOut(BaseModel):
    """One problem in a refused file or batch: where (line, element, field) and why."""

    line: int | None = None
    element: str = ""
    field: str = ""
    message: str
    fatal: bool = True


class FieldError(BaseModel):
    """One invalid request field: its location and the reason (never the submitted value)."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(title="Problem")

    type: str = Field(description="URI reference naming the kind of problem")
    title: str
    status: int = Field(ge=100, le=599)
    detail: str = ""
    instance: str | None = None
    issues: list[IssueOut] | None = Field(default=None, description="why a file/batch was refused")
    errors: list[FieldError] | None = Field(default=None, description="invalid request fields")


class ApiProblem(Exception):
    """An HTTP-level refusal raised by the serve layer (413, 429, idempotency 409, …)."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        headers: Mapping[str, str] | None = None,
        slug: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.slug = slug
        self.errors = errors


def field_refused(field: str, msg: str, kind: str = "value_error") -> ApiProblem:
    """A 422 ``refused`` problem naming one body field (``errors[0].loc``), for checks a
    schema cannot express (an IBAN's check digits, an account of this business)."""
    error = {"loc": ["body", field], "msg": msg, "type": kind}
    return ApiProblem(422, f"{field}: {msg}", slug="refused", errors=[error])


def _problem(
    status: int, detail: str = "", slug: str | None = None, **extra: Any
) -> dict[str, Any]:
    default_slug, title = _TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": f"/problems/{slug or default_slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_for(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, problem body and headers for an exception (the single mapping)."""
    if isinstance(exc, ApiProblem):
        body = _problem(exc.status, exc.detail, exc.slug, errors=exc.errors)
        return exc.status, body, exc.headers
    if isinstance(exc, AuthError):
        return 401, _problem(401, str(exc)), {"WWW-Authenticate": 'Bearer realm="ledgerlens"'}
    if isinstance(exc, Forbidden):
        return 403, _problem(403, str(exc)), {}
    if isinstance(exc, NotFound):
        return 404, _problem(404, str(exc) or "not found"), {}
    if isinstance(exc, ConsentRequired):
        return 403, _problem(403, str(exc), "consent-required"), {}
    if isinstance(exc, Conflict):
        return 409, _problem(409, str(exc)), {}
    if isinstance(exc, ImportRefused):
        issues = [i.as_dict() if hasattr(i, "as_dict") else {"message": str(i)} for i in exc.issues]
        return 422, _problem(422, "the file or batch was refused", "refused", issues=issues), {}
    if isinstance(exc, ValidationError):
        return 422, _problem(422, str(exc)), {}
    if isinstance(exc, StorageError):
        return 503, _problem(503, "storage is unavailable; retry later"), {"Retry-After": "1"}
    if isinstance(exc, LedgerLensError):
        return 400, _problem(400, str(exc)), {}
    return 500, _problem(500, "internal error"), {}


def problem_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        dict(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()[:50]
    ]


def _allowed_methods(request: Request) -> str:
    """Every method any route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(route.methods or ())
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping for domain, serve, request-validation and framework errors."""

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        status, body, headers = problem_for(exc)
        if status >= 500:
            log.error("request failed", error=type(exc).__name__, path=request.url.path)
        return problem_response(status, body, headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _field_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(400, _problem(400, "the body is not valid JSON", errors=errors))
        return problem_response(422, _problem(422, "the request is invalid", errors=errors))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else ""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return problem_response(exc.status_code, _problem(exc.status_code, detail), headers)

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for exc_type in (ApiProblem, AuthError, Forbidden, LedgerLensError, Exception):
        app.add_exception_handler(exc_type, on_error)


_EXAMPLES: dict[int, str] = {
    400: "the body is not valid JSON",
    401: "invalid token (ExpiredSignatureError)",
    403: "the accountant role may not ingest",
    404: "no such business",
    409: "this Idempotency-Key was used with a different request",
    413: "the upload is larger than 52428800 bytes",
    422: "the request is invalid",
    429: "rate limit exceeded; retry after 1 s",
    503: "storage is unavailable; retry later",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries: a ``Problem`` body with an example per status."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "description": _TITLES[status][1],
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": _problem(status, _EXAMPLES.get(status, "")),
                }
            },
        }
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status in (429, 503):
            entry["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
        out[status] = entry
    return out


def install_problem_schema(app: FastAPI) -> None:
    """Put ``Problem`` (and the types it uses) into the generated document's components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        extra = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(extra.pop("$defs", {}))
        components["Problem"] = extra
        # FastAPI adds its own 422 shape when a route has no 422 entry; ours always do
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
