"""Liveness, readiness (the database answers) and Prometheus metrics; no authentication."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ledgerlens.core.errors import StorageError
from ledgerlens.serve.deps import State
from ledgerlens.serve.errors import problem_responses
from ledgerlens.serve.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


class Status(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str


@router.get("/healthz", response_model=Status, summary="The process is alive")
async def healthz() -> Status:
    return Status(status="ok")


def _ping(engine: object) -> None:
    try:
        with engine.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise StorageError("database unreachable") from exc


@router.get(
    "/readyz",
    response_model=Status,
    summary="The database answers",
    responses=problem_responses(503),
)
async def readyz(state: State) -> Status:
    await run_in_threadpool(_ping, state.container.engine)
    return Status(status="ready")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(state: State) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
