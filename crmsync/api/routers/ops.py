"""Health, readiness and Prometheus metrics: unauthenticated by design, for probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text

from crmsync.api.responses import JSON
from crmsync.api.routing import GuardedRoute
from crmsync.sync.metrics import HealthCollector, QueueCollector

router = APIRouter(route_class=GuardedRoute, tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> JSON:
    return JSON({"status": "ok"})


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses={503: {"description": "The database does not answer"}},
)
def readyz(request: Request) -> JSON:
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; say which
        return JSON({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSON({"status": "ok", "database": "ok"})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics(request: Request) -> Response:
    # Process-wide counters, then this app's queue gauges read from its database.
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueCollector(request.app.state.engine))
    queue.register(HealthCollector(request.app.state.engine))
    return Response(generate_latest() + generate_latest(queue), media_type=CONTENT_TYPE_LATEST)
