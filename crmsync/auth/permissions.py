"""Roles and what each may do. docs/permissions.md renders this table; a test keeps them equal."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    VIEWER = "viewer"


class Permission(StrEnum):
    RECORDS_READ = "records:read"
    RECORDS_WRITE = "records:write"
    RECORDS_DELETE = "records:delete"
    EVENTS_WRITE = "events:write"
    INTEGRATIONS_READ = "integrations:read"
    INTEGRATIONS_MANAGE = "integrations:manage"
    INTEGRATIONS_PROXY = "integrations:proxy"  # raw calls to a CRM's API: admins only
    IMPORTS_RUN = "imports:run"
    SYNC_OPERATE = "sync:operate"
    MARKETING_MANAGE = "marketing:manage"
    WORKSPACE_ADMIN = "workspace:admin"


_VIEWER = {Permission.RECORDS_READ, Permission.INTEGRATIONS_READ}
_AGENT = _VIEWER | {Permission.RECORDS_WRITE, Permission.EVENTS_WRITE}
_MANAGER = _AGENT | {
    Permission.RECORDS_DELETE,
    Permission.IMPORTS_RUN,
    Permission.INTEGRATIONS_MANAGE,
    Permission.SYNC_OPERATE,
    Permission.MARKETING_MANAGE,
}
_ADMIN = set(Permission)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(_VIEWER),
    Role.AGENT: frozenset(_AGENT),
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(_ADMIN),
}


def allows(role: str, permission: Permission) -> bool:
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:
        return False
