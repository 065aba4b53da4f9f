"""Sign in, sign out, and accept an invitation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from crmsync.auth import users
from crmsync.web import sessions, throttle
from crmsync.web.deps import Db
from crmsync.web.guard import User, WebRoute, secure_cookies
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=UI_PREFIX, include_in_schema=False)


def _safe_next(target: str) -> str:
    # only a path inside the app: never another site (open redirect)
    if target.startswith(f"{UI_PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{UI_PREFIX}/"


def _signed_in_response(request: Request, token: str, to: str) -> Response:
    response = redirect(to)
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=int(sessions.SESSION_TTL.total_seconds()),
        path=UI_PREFIX,  # the API never reads it
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "") -> Response:
    return page(request, "sign_in.html", {"next": _safe_next(next), "email": ""})


@router.post("/sign-in")
def sign_in(
    request: Request,
    db: Db,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    address = email.strip().lower()
    client = request.client.host if request.client else "unknown"
    context = {"next": _safe_next(next), "email": address}
    if throttle.throttled(db, address, client):
        message = "Too many refused sign-ins. Wait a few minutes and try again."
        return page(request, "sign_in.html", {**context, "error": message}, status=429)
    user = users.verify(db, address, password)
    if user is None:
        throttle.record_failure(db, address, client)
        db.commit()
        message = "That e-mail and password do not match an account."
        return page(request, "sign_in.html", {**context, "error": message}, status=401)
    throttle.forget(db, address)
    token = sessions.start(db, user)
    db.commit()
    return _signed_in_response(request, token, _safe_next(next))


@router.post("/sign-out")
def sign_out(user: User, db: Db) -> Response:
    sessions.end(db, user.session_id)
    db.commit()
    response = redirect(f"{UI_PREFIX}/sign-in", "You are signed out.")
    response.delete_cookie(sessions.SESSION_COOKIE, path=UI_PREFIX)
    return response


@router.get("/invitations/{token}")
def invitation_form(request: Request, db: Db, token: str) -> Response:
    invitation = users.open_invitation(db, token)
    if invitation is None:
        return page(request, "error.html", _expired(), status=404)
    return page(request, "accept.html", {"invitation": invitation, "token": token})


@router.post("/invitations/{token}")
def accept_invitation(
    request: Request,
    db: Db,
    token: str,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    invitation = users.open_invitation(db, token)
    if invitation is None:
        return page(request, "error.html", _expired(), status=404)
    try:
        user = users.accept(db, invitation, name, password)
    except users.AccountError as exc:
        context = {"invitation": invitation, "token": token, "error": str(exc)}
        return page(request, "accept.html", context, status=422)
    session_token = sessions.start(db, user)
    db.commit()
    return _signed_in_response(request, session_token, f"{UI_PREFIX}/")


def _expired() -> dict[str, object]:
    return {"status": 404, "message": "This invitation link is unknown, used or expired."}
