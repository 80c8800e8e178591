"""Statement upload: a bank file in, the importer's report out (whole file or nothing)."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import ImportRefused
from ledgerlens.ingest.detect import FORMAT_ALIASES
from ledgerlens.pipeline import ImportStatements, dispatch
from ledgerlens.serve.deps import BusinessId, CurrentPrincipal, IdempotencyKey, State
from ledgerlens.serve.errors import ApiProblem
from ledgerlens.serve.idempotency import request_fingerprint
from ledgerlens.serve.routes import WRITE_ERRORS
from ledgerlens.serve.schemas.ingest import ImportReportOut
from ledgerlens.serve.security import Permission, authorize

router = APIRouter(prefix="/v1/businesses", tags=["statements"])

# whatever the importer accepts (``ledgerlens import --format``), read from its table
StatementFormat = Literal[("auto", *FORMAT_ALIASES)]  # type: ignore[valid-type]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 1 << 20
# the multipart body as OpenAPI shows it (``file`` is the raw bytes of the bank file)
_EXAMPLE = {
    "file": ":20:STMT-2026-02\n:25:GB29NWBK60161331926819\n:28C:00042/1\n:60F:C260201GBP1240,00\n",
    "account_id": "acc_main_gbp",
    "format": "mt940",
}


def _safe_name(filename: str | None) -> str:
    """A file name fit for a temporary path: the extension is kept (detection reads it)."""
    name = _SAFE_NAME.sub("_", Path(filename or "").name).strip("._")[:100]
    return name or "statement"


def _save(upload: UploadFile, target: Path, max_bytes: int) -> str:
    """Copy the upload to ``target``; return its sha256. ``ApiProblem(413)`` when too large."""
    digest = hashlib.sha256()
    size = 0
    upload.file.seek(0)
    with target.open("wb") as out:
        while chunk := upload.file.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise ApiProblem(413, f"the upload is larger than {max_bytes} bytes")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


@router.post(
    "/{business_id}/statements",
    status_code=201,
    response_model=ImportReportOut,
    responses=WRITE_ERRORS,
    summary="Upload a statement file (MT940, CAMT, BAI2, OFX, CSV, Open Banking JSON, zip)",
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"example": _EXAMPLE}}}},
)
async def upload_statement(
    business_id: BusinessId,
    file: Annotated[UploadFile, File(description="the statement file")],
    principal: CurrentPrincipal,
    state: State,
    idempotency_key: IdempotencyKey,
    request: Request,
    account_id: Annotated[str | None, Form(min_length=1, max_length=128)] = None,
    format: Annotated[StatementFormat, Form()] = "auto",
) -> Response:
    authorize(principal, business_id, Permission.INGEST)
    name = _safe_name(file.filename)
    workdir = Path(tempfile.mkdtemp(prefix="ledgerlens-upload-"))
    try:
        path = workdir / name
        sha = await run_in_threadpool(_save, file, path, state.settings.api.max_upload_bytes)
        fields = f"{name}\x1f{account_id or ''}\x1f{format}".encode()
        fingerprint = request_fingerprint("POST", request.url.path, sha.encode(), fields)

        async def work() -> tuple[int, ImportReportOut]:
            command = ImportStatements(
                business_id, (path,), account_id, format, source_names=(f"upload:{name}",)
            )
            (report,) = await state.writes.run(dispatch, command, state.services)
            if report.refused:
                raise ImportRefused(report.path, list(report.issues))
            return 201, ImportReportOut.of(report)

        return await state.idempotency.run(
            principal, business_id, idempotency_key, fingerprint, work
        )
    finally:
        await run_in_threadpool(shutil.rmtree, workdir, True)
