"""Keep alerts in step with the findings; acknowledge them. Never commits.

A finding matching an alert that is not resolved bumps it; a new one opens an alert and
emits ``alert.raised``; a stateful alert no longer found resolves and emits
``alert.resolved``. The outbound events reach the host app's webhooks and the bus.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.alerts.rules import NEEDS_AUTH, STATEFUL, Finding
from crmsync.outbound.emit import emit
from crmsync.store.models import Alert, AlertStatus

RAISED = "alert.raised"
RESOLVED = "alert.resolved"
# alert kinds that go out under their own event type too when they open
OWN_EVENTS = frozenset({NEEDS_AUTH})


class AlertNotFound(LookupError):
    pass


def _event(alert: Alert) -> dict[str, object]:
    return {
        "alert_id": str(alert.id),
        "kind": alert.kind,
        "subject": alert.subject,
        "severity": alert.severity,
        "message": alert.message,
        "details": alert.details,
    }


def _key(alert: Alert) -> str:
    return f"alert:{alert.kind}:{alert.subject}"[:100]


def reconcile(session: Session, findings: Iterable[Finding], now: datetime) -> list[Alert]:
    """Apply one check's findings; returns the alerts it opened."""
    live = {
        (a.workspace_id, a.kind, a.subject): a
        for a in session.scalars(select(Alert).where(Alert.status != AlertStatus.RESOLVED))
    }
    seen: set[tuple[uuid.UUID, str, str]] = set()
    opened: list[Alert] = []
    for finding in findings:
        key = (finding.workspace_id, finding.kind, finding.subject)
        if key in seen:
            continue
        seen.add(key)
        alert = live.get(key)
        if alert is not None:
            alert.count += 1
            alert.last_seen_at = now
            alert.message, alert.details = finding.message, finding.details
            continue
        alert = Alert(
            id=uuid.uuid4(),
            workspace_id=finding.workspace_id,
            kind=finding.kind,
            subject=finding.subject,
            severity=finding.severity,
            message=finding.message,
            details=finding.details,
            first_seen_at=now,
            last_seen_at=now,
        )
        session.add(alert)
        opened.append(alert)
        emit(
            session,
            alert.workspace_id,
            RAISED,
            f"alert:{alert.kind}:{alert.subject}",
            _event(alert),
        )
        if alert.kind in OWN_EVENTS:  # also under its own type, as the host app expects it
            emit(session, alert.workspace_id, alert.kind, _key(alert), _event(alert))
    for key, alert in live.items():
        if alert.kind in STATEFUL and key not in seen:
            alert.status = AlertStatus.RESOLVED
            alert.resolved_at = now
            emit(session, alert.workspace_id, RESOLVED, _key(alert), _event(alert))
    session.flush()
    return opened


def acknowledge(
    session: Session, workspace_id: uuid.UUID, alert_id: uuid.UUID, by: str, now: datetime
) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or alert.workspace_id != workspace_id:
        raise AlertNotFound(f"no alert with id {alert_id}")
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = by
    return alert


def raise_alert(
    session: Session,
    workspace_id: uuid.UUID,
    kind: str,
    subject: str,
    severity: str,
    message: str,
    now: datetime,
) -> Alert:
    """Open an alert, or bump the live one of the same kind and subject (a rule's alert)."""
    alert = session.scalar(
        select(Alert).where(
            Alert.workspace_id == workspace_id,
            Alert.kind == kind[:60],
            Alert.subject == subject[:100],
            Alert.status != AlertStatus.RESOLVED,
        )
    )
    if alert is not None:
        alert.count += 1
        alert.last_seen_at = now
        alert.message = message
        return alert
    alert = Alert(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        kind=kind[:60],
        subject=subject[:100],
        severity=severity,
        message=message,
        details={},
        first_seen_at=now,
        last_seen_at=now,
    )
    session.add(alert)
    session.flush()
    emit(session, workspace_id, RAISED, _key(alert), _event(alert))
    return alert
