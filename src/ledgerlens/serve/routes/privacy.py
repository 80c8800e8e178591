"""The business's data: everything as one archive (JSON + CSV per table), and erasure.

Both go through the pipeline (``ExportBusiness``, ``EraseBusiness``). Erasure is the owner's
alone and answers 204; afterwards the business answers 404 like any unknown one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import NotFound
from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_insights import EraseBusiness, ExportBusiness
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, State
from ledgerlens.serve.routes import READ_ERRORS, WRITE_ERRORS
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["privacy"])
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_ZIP: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "a zip: data.json and one CSV per table",
        "content": {"application/zip": _BINARY},
    }
}


def _archive(services: Any, business_id: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="ll-export-") as tmp:
        path = dispatch(ExportBusiness(business_id, Path(tmp)), services)
        return Path(path).read_bytes()


@router.get(
    "/{business_id}/export/archive", response_class=Response,
    responses={**READ_ERRORS, **_ZIP},
    summary="Everything stored for the business, as a zip of JSON and CSV files",
)  # fmt: skip
async def export_archive(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> Response:
    authorize(principal, business_id, Permission.EXPORT)
    data = await run_in_threadpool(_archive, state.services, business_id)
    disposition = f'attachment; filename="{business_id}_export.zip"'
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": disposition})  # fmt: skip


def _erase(state: Any, business_id: str) -> None:
    with state.read_uow() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound("no such business")
    dispatch(EraseBusiness(business_id), state.services)


@router.delete(
    "/{business_id}", status_code=204, response_class=Response,
    responses={**WRITE_ERRORS, 204: {"description": "erased"}},
    summary="Erase the business and everything stored for it (owner only)",
)  # fmt: skip
async def erase_business(
    business_id: BusinessId, principal: CurrentPrincipal, state: State
) -> Response:
    authorize(principal, business_id, Permission.ERASE)
    await state.writes.run(_erase, state, business_id)
    return Response(status_code=204)
