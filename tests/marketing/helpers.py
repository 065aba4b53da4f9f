"""Rows the marketing tests need without a CRM: an integration and its journeys."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmsync.store.engine import session_scope
from crmsync.store.models import Integration, Journey


def add_journeys(
    sessions: sessionmaker[Session],
    workspace_id: uuid.UUID,
    specs: list[dict[str, Any]],
    *,
    provider: str = "totalexpert",
    status: str = "disabled",
) -> dict[str, uuid.UUID]:
    """An integration (disabled by default: nothing is pushed) with these journeys;
    name -> journey id."""
    with session_scope(sessions) as session:
        integration = Integration(
            workspace_id=workspace_id, provider=provider, name=provider, status=status
        )
        session.add(integration)
        session.flush()
        made = {}
        for n, spec in enumerate(specs):
            journey = Journey(
                workspace_id=workspace_id,
                integration_id=integration.id,
                remote_id=str(spec.get("remote_id", 100 + n)),
                name=spec["name"],
                category=spec.get("category"),
                trigger_type=spec.get("trigger_type", "manual"),
                active=spec.get("active", True),
                steps=[],
            )
            session.add(journey)
            session.flush()
            made[spec["name"]] = journey.id
    return made
