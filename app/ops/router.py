"""Operations endpoints: liveness, readiness and Prometheus metrics (outside /api/v1)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from app.core.docs import problems
from app.core.errors import ServiceUnavailable
from app.core.routing import ProbeRoute
from app.core.security import open_data

router = APIRouter(tags=["operations"], route_class=ProbeRoute)


class Health(BaseModel):
    status: str

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})


@router.get(
    "/livez", response_model=Health, summary="Liveness", dependencies=[Depends(open_data())]
)
async def livez() -> Health:
    """The process is up. Does not touch the database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness",
    responses=problems(503),
    dependencies=[Depends(open_data())],
)
async def readyz(request: Request) -> Health:
    """The database answers within a second; otherwise 503 with `Retry-After`."""
    try:
        async with asyncio.timeout(1.0):
            async with request.app.state.db.read_sessions() as session:
                await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        raise ServiceUnavailable(
            "The database is not reachable.", headers={"Retry-After": "1"}
        ) from exc
    return Health(status="ok")


_METRICS_EXAMPLE = (
    "# HELP http_requests_total HTTP requests by route and status\n"
    "# TYPE http_requests_total counter\n"
    'http_requests_total{method="GET",route="/api/v1/innovations",status="200"} 42.0\n'
)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"example": _METRICS_EXAMPLE}},
            "description": "Metrics.",
        }
    },
    dependencies=[Depends(open_data())],
)
async def metrics() -> Response:
    """Request counts and latencies per route, in the Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
