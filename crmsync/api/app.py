"""The FastAPI application factory."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from sqlalchemy import Engine

import crmsync
from crmsync import web
from crmsync.api import docs, errors, openapi
from crmsync.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from crmsync.api.routers import (
    API_PREFIX,
    alerts,
    attribution,
    conflicts,
    dedup,
    engagement,
    events,
    imports,
    integration_health,
    integration_mappings,
    integration_proxy,
    integration_setup,
    integration_sync,
    integrations,
    journeys,
    mappings,
    oauth,
    ops,
    owners,
    record_actions,
    records,
    rules,
    sources,
    sync_jobs,
    trigger_rules,
    webhook_endpoints,
    webhooks,
)
from crmsync.config import Settings, get_settings
from crmsync.integrations.setup import service as setup
from crmsync.store.engine import make_engine, make_sessionmaker

# Multipart uploads (API and web app) get the upload limit; every other body the JSON limit.
UPLOAD_PATHS = (f"{API_PREFIX}/imports", "/ui/imports")

DESCRIPTION = """
crmsync keeps an app's contacts, companies, properties, leads, deals, activities, notes and
tickets, and syncs them with CRMs. Every `/api/v1` call needs `Authorization: Bearer <api key>`
(make one with `crmsync apikey create`). Errors always have the shape
`{"error": {"code", "message", "details"}}`.
"""


# how long shutdown waits for running imports to reach a checkpoint
IMPORT_STOP_SECONDS = 10.0


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # webhooks registered for an old CRMSYNC_BASE_URL follow it (off the startup path)
    threading.Thread(target=_reregister, args=(app,), name="reregister", daemon=True).start()
    yield
    # What the app made on first use, closed with it.
    webhooks.close_receiver(app)  # write the deliveries still queued
    # Each is dropped once closed: an app started again (a test client entered twice)
    # makes new ones on first use instead of using a stopped one.
    launcher, app.state.import_launcher = app.state.import_launcher, None
    if launcher is not None:  # running imports stop at their next checkpoint
        launcher.stop()
        launcher.join_all(timeout=IMPORT_STOP_SECONDS)
    if app.state.targets is not None and app.state.owns_targets:
        targets, app.state.targets = app.state.targets, None
        targets.close()  # the connectors' HTTP clients


def _reregister(app: FastAPI) -> None:
    try:
        setup.reregister_all(app.state.sessionmaker, app.state.settings)
    except Exception as exc:  # a database not migrated yet, or unreachable: try next start
        structlog.get_logger("crmsync.api").warning("webhooks not re-registered", error=repr(exc))


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, echo=settings.sql_echo)
    app = FastAPI(
        title="crmsync",
        version=crmsync.__version__,
        description=DESCRIPTION,
        docs_url=None,  # /docs and /redoc come from api.docs, with assets in the package
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.targets = None  # sync.targets.targets_of makes it on first use
    # False when a caller shares the resolver with a worker and closes it after it
    app.state.owns_targets = True
    app.state.import_launcher = None  # routers.imports.launcher_of makes it on first use
    app.state.webhooks = None  # routers.webhooks.receiver_of makes it on first use

    for router in [
        dedup.router,  # before the record routers: /contacts/duplicates is not an id
        *records.routers,
        *record_actions.routers,
        events.router,
        attribution.router,
        imports.router,
        integrations.router,
        integration_sync.router,
        integration_health.router,
        integration_mappings.router,
        integration_proxy.router,
        integration_setup.router,
        oauth.router,
        sync_jobs.router,
        sources.router,
        conflicts.router,
        mappings.router,
        webhooks.router,
        webhook_endpoints.router,
        alerts.router,
        rules.router,
        ops.router,
        journeys.router,
        engagement.router,
        trigger_rules.router,
        owners.router,
    ]:
        app.include_router(router)
    web.install(app)  # the web app at /ui
    errors.install(app)
    docs.install(app)
    openapi.install(app)

    def body_limit(path: str) -> int:
        if path.startswith(UPLOAD_PATHS):
            return settings.max_upload_bytes
        return settings.max_body_bytes

    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    app.add_middleware(RequestContextMiddleware)
    return app


def app_from_environment() -> FastAPI:
    """The app of one ``crmsync serve --workers N`` process: settings from ``CRMSYNC_*``."""
    from crmsync.logging import configure

    settings = get_settings()
    configure(settings.log_level, json=settings.log_json)
    app = create_app(settings)
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Leave what start-up made (modules, the app, its routes: some 300,000 objects) out
    of the garbage collector's full passes, which otherwise walk all of it every few
    hundred requests and stop the request at hand for 50-150 ms on a busy machine.
    Called once by a serving process, after the app is made."""
    gc.collect()
    gc.freeze()
