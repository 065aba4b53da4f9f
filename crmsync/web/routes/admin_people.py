"""People (admins only): users and their roles, invitations by link, and API keys.

An invitation link and a new API key are shown once, on the page that answers the form;
only their hashes are kept.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from crmsync.auth import users
from crmsync.auth.keys import create_api_key, revoke_api_key
from crmsync.auth.permissions import PERMISSIONS, Role
from crmsync.web import queries, sessions
from crmsync.web.deps import Db
from crmsync.web.guard import Admin, WebProblem, WebRoute
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/people", include_in_schema=False)


def _people(request: Request, user: Admin, db: Db, **extra: object) -> Response:
    return page(
        request,
        "people.html",
        {
            "users": users.list_users(db, user.workspace_id),
            "invitations": users.pending_invitations(db, user.workspace_id),
            "keys": queries.api_keys(db, user.workspace_id),
            "roles": [r.value for r in Role],
            "permissions": {r.value: sorted(p.value for p in PERMISSIONS[r]) for r in Role},
            **extra,
        },
    )


@router.get("")
def people(request: Request, user: Admin, db: Db) -> Response:
    return _people(request, user, db)


@router.post("/invitations")
def invite(
    request: Request,
    user: Admin,
    db: Db,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    made = users.invite(db, user.workspace_id, email, name, role, user.user_id)
    db.commit()
    base = str(request.base_url).rstrip("/")
    link = f"{base}{UI_PREFIX}/invitations/{made.token}"
    return _people(request, user, db, invitation_link=link, invited=made.row.email)


@router.post("/users/{user_id}/role")
def change_role(
    user: Admin, db: Db, user_id: uuid.UUID, role: Annotated[str, Form(max_length=20)]
) -> Response:
    target = users.get_user(db, user.workspace_id, user_id)
    users.change_role(db, target, role)
    sessions.end_all(db, target.id)  # the new role applies from the next sign-in
    db.commit()
    return redirect(f"{UI_PREFIX}/people", f"{target.email} is now {target.role}.")


@router.post("/users/{user_id}/disable")
def disable_user(user: Admin, db: Db, user_id: uuid.UUID) -> Response:
    target = users.get_user(db, user.workspace_id, user_id)
    users.disable(db, target)
    sessions.end_all(db, target.id)
    db.commit()
    return redirect(f"{UI_PREFIX}/people", f"{target.email} can no longer sign in.")


@router.post("/keys")
def create_key(
    request: Request,
    user: Admin,
    db: Db,
    role: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        chosen = Role(role)
    except ValueError:
        raise WebProblem(422, f"role: one of {', '.join(r.value for r in Role)}") from None
    key, plaintext = create_api_key(db, user.workspace_id, chosen, name.strip())
    db.commit()
    return _people(request, user, db, new_key=plaintext, new_key_name=key.name or key.prefix)


@router.post("/keys/{key_id}/revoke")
def revoke_key(user: Admin, db: Db, key_id: uuid.UUID) -> Response:
    if not revoke_api_key(db, user.workspace_id, key_id):
        raise WebProblem(404, f"No active API key {key_id}.")
    db.commit()
    return redirect(f"{UI_PREFIX}/people", "The key is revoked.")
