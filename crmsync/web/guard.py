"""Who may do what in the web app: the signed-in user, role checks, CSRF, error pages.

Every route under ``/ui`` uses ``WebRoute``. For a method other than GET/HEAD/OPTIONS it
refuses the request (403) unless the form field ``csrf_token`` or the header
``X-CSRF-Token`` carries the session's CSRF token (before sign-in: the value of the
``crmsync_csrf`` cookie, which the sign-in and invitation forms repeat). It also turns
"not signed in" into a redirect to the sign-in page and domain errors into HTML pages,
with another workspace's ids answering 404 like missing ones.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from crmsync.auth.permissions import Permission, allows
from crmsync.connectors.errors import ConnectorError
from crmsync.errors import CrmsyncError, http_status
from crmsync.web import render, sessions
from crmsync.web.sessions import SignedIn

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANONYMOUS_CSRF_COOKIE = "crmsync_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    pass


class WebProblem(Exception):
    """An answer other than the page: status and a sentence for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def secure_cookies(request: Request) -> bool:
    """``Secure`` cookies everywhere but a developer's plain-HTTP machine."""
    return request.app.state.settings.mode not in ("dev", "demo", "test")


def _signed_in(request: Request) -> SignedIn | None:
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if not token:
        return None
    with request.app.state.sessionmaker() as db:
        return sessions.resolve(db, token)


async def _csrf_ok(request: Request, user: SignedIn | None) -> bool:
    expected = user.csrf if user else request.cookies.get(ANONYMOUS_CSRF_COOKIE, "")
    if not expected:
        return False
    presented = request.headers.get(CSRF_HEADER, "")
    if not presented:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            field = (await request.form()).get(CSRF_FIELD)
            presented = field if isinstance(field, str) else ""
    return bool(presented) and hmac.compare_digest(presented.encode(), expected.encode())


def _problem(request: Request, status: int, message: str) -> Response:
    return render.page(request, "error.html", {"status": status, "message": message}, status=status)


class WebRoute(APIRoute):
    """The route class of every ``/ui`` route (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            user = await run_in_threadpool(_signed_in, request)
            request.state.web_user = user
            anonymous = request.cookies.get(ANONYMOUS_CSRF_COOKIE)
            request.state.anonymous_csrf = anonymous or secrets.token_urlsafe(32)
            if request.method not in SAFE_METHODS and not await _csrf_ok(request, user):
                response = _problem(
                    request,
                    403,
                    "The form was refused: its security token is missing or "
                    "out of date. Reload the page and send it again.",
                )
            else:
                response = await self._answer(original, request)
            if user is None and not anonymous:
                response.set_cookie(
                    ANONYMOUS_CSRF_COOKIE,
                    request.state.anonymous_csrf,
                    path="/ui",
                    httponly=True,
                    samesite="lax",
                    secure=secure_cookies(request),
                )
            return response

        return handler

    @staticmethod
    async def _answer(
        original: Callable[[Request], Coroutine[Any, Any, Response]], request: Request
    ) -> Response:
        try:
            return await original(request)
        except SignInRequired:
            return RedirectResponse(f"/ui/sign-in?next={quote(request.url.path)}", status_code=303)
        except WebProblem as exc:
            return _problem(request, exc.status, exc.message)
        except CrmsyncError as exc:  # records, imports, accounts, ...: by its kind
            return _problem(request, http_status(exc), exc.message)
        except LookupError as exc:  # a user of another workspace
            return _problem(request, 404, str(exc))
        except ValidationError as exc:  # a form value a model refused
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            return _problem(request, 422, f"{where}: {first.get('msg')}")
        except ConnectorError as exc:
            return _problem(request, 502, f"The CRM failed: {exc.message}")


def signed_in(request: Request) -> SignedIn:
    user: SignedIn | None = getattr(request.state, "web_user", None)
    if user is None:
        raise SignInRequired
    return user


User = Annotated[SignedIn, Depends(signed_in)]


def needs(permission: Permission) -> Callable[..., SignedIn]:
    """A dependency admitting signed-in users whose role has ``permission``."""

    def check(user: User) -> SignedIn:
        if not allows(user.role, permission):
            raise WebProblem(
                403, f"Your role ({user.role}) may not do this: it needs {permission.value}."
            )
        return user

    return check


def may(user: SignedIn, permission: Permission) -> bool:
    return allows(user.role, permission)


Reader = Annotated[SignedIn, Depends(needs(Permission.RECORDS_READ))]
Writer = Annotated[SignedIn, Depends(needs(Permission.RECORDS_WRITE))]
# merging soft-deletes a contact: the API asks records:delete for it too
Merger = Annotated[SignedIn, Depends(needs(Permission.RECORDS_DELETE))]
IntegrationReader = Annotated[SignedIn, Depends(needs(Permission.INTEGRATIONS_READ))]
IntegrationManager = Annotated[SignedIn, Depends(needs(Permission.INTEGRATIONS_MANAGE))]
SyncOperator = Annotated[SignedIn, Depends(needs(Permission.SYNC_OPERATE))]
ImportRunner = Annotated[SignedIn, Depends(needs(Permission.IMPORTS_RUN))]
Admin = Annotated[SignedIn, Depends(needs(Permission.WORKSPACE_ADMIN))]


def form_text(form: Any, name: str, default: str = "") -> str:
    value = form.get(name, default)
    return value if isinstance(value, str) else default
