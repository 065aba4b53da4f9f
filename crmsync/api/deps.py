"""Typed, reusable dependencies: the database session and the authorised caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from crmsync.api.errors import ApiError
from crmsync.auth.keys import Principal, authenticate
from crmsync.auth.permissions import Permission, allows


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; routers commit their own unit of work."""
    with request.app.state.sessionmaker() as session:
        yield session


Db = Annotated[Session, Depends(get_db)]


def _authenticate(request: Request, db: Session) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'")
    principal = authenticate(db, token.strip())
    if principal is None:
        raise ApiError(401, "unauthorized", "the API key is unknown or revoked")
    if db.dirty:  # last_used_at moved on
        db.commit()
    request.state.principal = principal
    return principal


def authenticate_request(request: Request) -> Principal:
    """Authenticate before the body is read (``routing.GuardedRoute``), in a session of its own."""
    with request.app.state.sessionmaker() as session:
        return _authenticate(request, session)


def get_principal(request: Request, db: Db) -> Principal:
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:  # authenticated by the route before its body was parsed
        return known
    return _authenticate(request, db)


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that admits callers whose role has ``permission``."""

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not allows(principal.role, permission):
            raise ApiError(
                403,
                "forbidden",
                f"role '{principal.role}' may not {permission.value}",
                {"required": permission.value},
            )
        return principal

    return check


CanReadRecords = Annotated[Principal, Depends(require(Permission.RECORDS_READ))]
CanWriteRecords = Annotated[Principal, Depends(require(Permission.RECORDS_WRITE))]
CanDeleteRecords = Annotated[Principal, Depends(require(Permission.RECORDS_DELETE))]
CanWriteEvents = Annotated[Principal, Depends(require(Permission.EVENTS_WRITE))]
CanReadIntegrations = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_READ))]
CanOperateSync = Annotated[Principal, Depends(require(Permission.SYNC_OPERATE))]
CanManageMarketing = Annotated[Principal, Depends(require(Permission.MARKETING_MANAGE))]
