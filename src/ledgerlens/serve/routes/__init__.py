"""HTTP routes; each module is one resource and each route only translates (DESIGN.md §7)."""

from __future__ import annotations

from ledgerlens.serve.errors import problem_responses

__all__ = ["READ_ERRORS", "WRITE_ERRORS"]

#: Problems any tenant read can answer (documented so the OpenAPI spec is honest).
READ_ERRORS = problem_responses(400, 401, 403, 404, 422, 429, 503)
#: … and a creating request (idempotency conflicts, oversized bodies).
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)
