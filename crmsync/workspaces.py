"""Workspaces: the tenants every row belongs to."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from crmsync.store.models import Workspace


def create_workspace(session: Session, name: str) -> Workspace:
    if not name.strip():
        raise ValueError("a workspace needs a non-empty name")
    workspace = Workspace(name=name.strip(), settings={})
    session.add(workspace)
    session.flush()
    return workspace


def get_workspace(session: Session, workspace_id: uuid.UUID) -> Workspace | None:
    return session.get(Workspace, workspace_id)
