"""The web app at ``/ui``: server-rendered pages (Jinja2) with htmx where it helps.

Layout: ``guard`` (sign-in, roles, CSRF, error pages), ``render`` (layout, flash
messages), ``accounts``/``sessions``/``throttle`` (people and sign-in), ``charts``
(SVG), ``routes/`` (one module per area), ``templates/`` and ``static/`` (the stylesheet
and the vendored htmx with its licence). Pages call the domain services directly, in the
request's session, as the API's routers do.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from crmsync.web.routes import (
    admin_people,
    alerts,
    attribution,
    auth,
    automation,
    contacts,
    deliveries,
    duplicates,
    fallback,
    imports,
    integrations,
    journeys,
    mappings,
    pipeline,
    rules,
    setup,
    sync,
)

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    for module in (
        auth,
        pipeline,
        contacts,
        journeys,
        imports,
        integrations,
        mappings,
        setup,
        sync,
        duplicates,
        automation,
        rules,
        deliveries,
        alerts,
        attribution,
        admin_people,
        fallback,  # last: /ui/... that no page has answers an HTML 404
    ):
        app.include_router(module.router)
