"""Pages: the Jinja2 environment, the layout's context, flash messages and redirects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader
from starlette.templating import Jinja2Templates

from crmsync.auth.permissions import Permission, allows
from crmsync.imports.jobs import ACTIVE as IMPORT_ACTIVE
from crmsync.store.models import IntegrationStatus
from crmsync.web import charts
from crmsync.web.sessions import SignedIn

HERE = Path(__file__).parent
FLASH_COOKIE = "crmsync_flash"
# autoescape everywhere: every value a page shows is escaped unless marked safe (charts)
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
)
templates.env.globals["svg"] = charts
# states as the code names them, so a page never spells a stored status itself
templates.env.globals["IntegrationStatus"] = IntegrationStatus
templates.env.globals["IMPORT_ACTIVE"] = IMPORT_ACTIVE


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    permission: Permission


NAVIGATION = (
    NavItem("/ui/", "Pipeline", Permission.RECORDS_READ),
    NavItem("/ui/contacts", "Contacts", Permission.RECORDS_READ),
    NavItem("/ui/journeys", "Journeys", Permission.RECORDS_READ),
    NavItem("/ui/imports", "Imports", Permission.RECORDS_READ),
    NavItem("/ui/integrations", "Integrations", Permission.INTEGRATIONS_READ),
    NavItem("/ui/sync", "Sync", Permission.INTEGRATIONS_READ),
    NavItem("/ui/duplicates", "Duplicates", Permission.RECORDS_READ),
    NavItem("/ui/automation", "Automation", Permission.INTEGRATIONS_READ),
    NavItem("/ui/alerts", "Alerts", Permission.INTEGRATIONS_READ),
    NavItem("/ui/attribution", "Attribution", Permission.RECORDS_READ),
    NavItem("/ui/people", "People", Permission.WORKSPACE_ADMIN),
)


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """A page in the layout: who is signed in, what they may do, the flash message."""
    user: SignedIn | None = getattr(request.state, "web_user", None)
    flash = request.cookies.get(FLASH_COOKIE)
    kind, _, text = unquote(flash).partition(":") if flash else ("", "", "")

    def can(permission: str) -> bool:
        return user is not None and allows(user.role, Permission(permission))

    values = {
        "user": user,
        "can": can,
        "nav": [n for n in NAVIGATION if user is not None and allows(user.role, n.permission)],
        "csrf": user.csrf if user else getattr(request.state, "anonymous_csrf", ""),
        "flash": {"kind": kind, "text": text} if text else None,
        "path": request.url.path,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/ui")
    return response


def redirect(to: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
    """303 to ``to`` (a form post answered), with a message shown on the next page."""
    response = RedirectResponse(to, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE,
            quote(f"{kind}:{message}"[:1500]),
            path="/ui",
            httponly=True,
            samesite="lax",
        )
    return response
