"""A workspace's duplicate-detection settings, kept in ``Workspace.settings["dedup"]``.

Only the values a caller set are stored, so a workspace follows
improved defaults unless it chose otherwise. The phone region defaults to the
workspace's ``default_region``, as imports do.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from crmsync.dedup.engine import DedupSettings
from crmsync.records.errors import RecordInvalid, RecordNotFound
from crmsync.records.payloads import describe_validation_error
from crmsync.store.models import Workspace

KEY = "dedup"


def _workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise RecordNotFound(f"no workspace with id {workspace_id}")
    return workspace


def load(session: Session, workspace_id: uuid.UUID, region: str | None = None) -> DedupSettings:
    """The settings in effect for the workspace. ``region`` (an import's own) stands in for
    the workspace's default region when the settings name none."""
    settings = dict(_workspace(session, workspace_id).settings or {})
    configured = dict(settings.get(KEY) or {})
    configured.setdefault("region", region or str(settings.get("default_region", "US")))
    return DedupSettings.model_validate(configured)


def save(session: Session, workspace_id: uuid.UUID, body: Any) -> DedupSettings:
    """Replace the workspace's settings with ``body`` (omitted values take the defaults).

    ``RecordInvalid`` names each refused field. Does not commit.
    """
    try:
        chosen = DedupSettings.model_validate(body if body is not None else {})
    except ValidationError as exc:
        errors = describe_validation_error(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise RecordInvalid(summary, errors) from None
    workspace = _workspace(session, workspace_id)
    # A new dict, so the JSON column sees the change.
    workspace.settings = {
        **(workspace.settings or {}),
        KEY: chosen.model_dump(mode="json", exclude_unset=True),
    }
    session.flush()
    return load(session, workspace_id)
