"""Any other path under ``/ui``: an HTML 404 in the layout (registered last)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from crmsync.web.guard import WebProblem, WebRoute
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=UI_PREFIX, include_in_schema=False)


@router.get("/{rest:path}")
def not_found(request: Request, rest: str) -> Response:
    raise WebProblem(404, f"There is no page at {request.url.path}.")


@router.get("")
def root() -> Response:
    return RedirectResponse(f"{UI_PREFIX}/", status_code=307)
