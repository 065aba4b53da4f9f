"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets inside the package.

FastAPI's pages load their scripts from a CDN, and stay blank on a network without
internet; these load them from ``/docs/assets`` (``static/docs``: swagger-ui-dist 5.35.0
and redoc 2.5.4 from npm, with their licences; see the README there).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS", "ASSETS_URL", "install"]

ASSETS = Path(__file__).parent / "static" / "docs"
ASSETS_URL = "/docs/assets"


def install(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Serve the assets and the two pages (the app is made with docs_url=redoc_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - API docs",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
            with_google_fonts=False,
        )
