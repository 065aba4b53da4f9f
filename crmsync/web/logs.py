"""What the automation, webhook and alert pages list: a rule's run log, an endpoint's
deliveries, a workspace's alerts. Read-only, newest first, always within one workspace
(the caller has already found the rule or endpoint in the user's workspace)."""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.store.models import (
    Alert,
    AlertStatus,
    AutomationRule,
    AutomationRun,
    DeliveryStatus,
    WebhookDelivery,
)

PAGE: Final = 100
DELIVERY_STATUSES: Final = tuple(DeliveryStatus)
ALERT_STATUSES: Final = tuple(AlertStatus)


def rule_runs(session: Session, rule: AutomationRule, limit: int = PAGE) -> list[AutomationRun]:
    stmt = (
        select(AutomationRun)
        .where(AutomationRun.workspace_id == rule.workspace_id, AutomationRun.rule_id == rule.id)
        .order_by(AutomationRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def deliveries(
    session: Session,
    workspace_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    status: str | None = None,
    limit: int = PAGE,
) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.workspace_id == workspace_id, WebhookDelivery.endpoint_id == endpoint_id
    )
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))


def delivery(
    session: Session, workspace_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: int
) -> WebhookDelivery | None:
    found = session.get(WebhookDelivery, delivery_id)
    if found is None or (found.workspace_id, found.endpoint_id) != (workspace_id, endpoint_id):
        return None
    return found


def alerts(
    session: Session, workspace_id: uuid.UUID, status: str | None = None, limit: int = PAGE
) -> list[Alert]:
    """Open and acknowledged alerts unless ``status`` names one."""
    stmt = select(Alert).where(Alert.workspace_id == workspace_id)
    if status is None:
        stmt = stmt.where(Alert.status != AlertStatus.RESOLVED)
    else:
        stmt = stmt.where(Alert.status == status)
    return list(session.scalars(stmt.order_by(Alert.last_seen_at.desc(), Alert.id).limit(limit)))
