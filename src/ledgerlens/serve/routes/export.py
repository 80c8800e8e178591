"""Export: all of a business's transactions as canonical CSV, streamed with flat memory."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from ledgerlens.ingest.formats.canonical_csv import CANONICAL_COLUMNS, canonical_row
from ledgerlens.serve.deps import ApiState, BusinessId, CurrentPrincipal, State
from ledgerlens.serve.routes import READ_ERRORS
from ledgerlens.serve.routes.businesses import load_business
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["export"])
_ROWS_PER_CHUNK = 1000


def _file_name(business_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", business_id)[:100] or "export"


def _csv_chunks(state: ApiState, business_id: str) -> Iterator[bytes]:
    """Header, then rows in canonical order, ~1,000 rows per chunk (one DB read transaction)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CANONICAL_COLUMNS)
    with state.read_uow() as uow:
        scope = uow.scope(business_id)
        currencies = {a.account_id: a.currency for a in scope.accounts.list()}
        for n, tx in enumerate(scope.transactions.iter_all(), start=1):
            writer.writerow(canonical_row(tx, currencies[tx.account_id]))
            if n % _ROWS_PER_CHUNK == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


@router.get(
    "/{business_id}/export",
    response_class=StreamingResponse,
    responses={
        **READ_ERRORS,
        200: {
            "description": "Canonical CSV (DESIGN.md §3), header row first",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
    summary="Export every transaction as canonical CSV",
)
async def export_transactions(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> StreamingResponse:
    authorize(principal, business_id, Permission.EXPORT)
    await run_in_threadpool(load_business, state, business_id)
    return StreamingResponse(
        _csv_chunks(state, business_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(business_id)}.csv"'},
    )
