"""A workspace's import rules: the severity of each validation rule, in its settings.

Kept in ``Workspace.settings["imports"]["severity"]``; an import's own ``severity``
option is laid over it. Functions take the caller's session and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from crmsync.imports.errors import InvalidOptions, JobNotFound
from crmsync.quality.validation import Severity
from crmsync.quality.validation_defaults import default_rules
from crmsync.quality.validation_severity import workspace_overrides
from crmsync.store.models import Workspace

KEY = "imports"
_TABLE = TypeAdapter(dict[str, Severity])


def _workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise JobNotFound(f"no workspace with id {workspace_id}")
    return workspace


def defaults(object_type: str) -> dict[str, str]:
    """``field:rule`` -> severity of the default rules of ``object_type``."""
    rules = default_rules(object_type)
    out = {f"{r.field}:{r.rule.value}": r.severity.value for r in rules.fields}
    out.update({r.name: r.severity.value for r in rules.records})
    return out


def load(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    severity = workspace_overrides(_workspace(session, workspace_id).settings)
    return {
        "severity": {k: v.value for k, v in severity.items()},
        "defaults": {t: defaults(t) for t in ("contacts", "leads", "deals", "companies")},
    }


def save(session: Session, workspace_id: uuid.UUID, severity: Mapping[str, Any]) -> dict[str, Any]:
    """Replace the workspace's severity table; InvalidOptions names a bad entry."""
    try:
        table = _TABLE.validate_python(dict(severity))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidOptions(f"severity.{first['loc'][0]}: {first['msg']}") from None
    workspace = _workspace(session, workspace_id)
    settings = dict(workspace.settings or {})
    section = dict(settings.get(KEY) or {})
    section["severity"] = {k: v.value for k, v in table.items()}
    # a new dict, so the JSON column sees the change
    workspace.settings = {**settings, KEY: section}
    session.flush()
    return load(session, workspace_id)
