"""Tell admins by e-mail: one digest per workspace of the alerts not yet sent.

At most one message per workspace every ``alert_email_minutes``, so a storm of alerts
is one e-mail. Plain SMTP through the standard library (STARTTLS when asked). Never
commits.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.config import Settings
from crmsync.store.models import Alert, AlertStatus, Workspace

log = logging.getLogger("crmsync.alerts")


def recipients(settings: Settings) -> list[str]:
    return [a.strip() for a in settings.smtp_to.split(",") if a.strip()]


def compose(settings: Settings, workspace: str, alerts: list[Alert]) -> EmailMessage:
    message = EmailMessage()
    count = len(alerts)
    worst = "critical" if any(a.severity == "critical" for a in alerts) else "warning"
    message["Subject"] = f"[crmsync] {workspace}: {count} alert{'s' * (count != 1)} ({worst})"
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(recipients(settings))
    lines = [f"crmsync found {count} thing{'s' * (count != 1)} to act on in {workspace}:", ""]
    for alert in alerts:
        lines.append(f"- [{alert.severity}] {alert.kind}: {alert.message}")
    lines += ["", "Acknowledge them with POST /api/v1/alerts/{id}/acknowledge."]
    message.set_content("\n".join(lines))
    return message


def send_digests(session: Session, settings: Settings, now: datetime) -> int:
    """Send what is due; returns how many messages went out."""
    to = recipients(settings)
    if not settings.smtp_host or not to:
        return 0
    interval = timedelta(minutes=settings.alert_email_minutes)
    waiting: dict[uuid.UUID, list[Alert]] = defaultdict(list)
    for alert in session.scalars(
        select(Alert)
        .where(Alert.status == AlertStatus.OPEN, Alert.emailed_at.is_(None))
        .order_by(Alert.first_seen_at)
    ):
        waiting[alert.workspace_id].append(alert)
    sent = 0
    for workspace_id, alerts in waiting.items():
        last = session.scalar(
            select(func.max(Alert.emailed_at)).where(Alert.workspace_id == workspace_id)
        )
        if last is not None and now - last < interval:
            continue  # this workspace had its digest recently; the rest waits
        name = session.scalar(select(Workspace.name).where(Workspace.id == workspace_id))
        message = compose(settings, name or str(workspace_id), alerts)
        try:
            _deliver(settings, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("alert e-mail not sent: %s", exc)
            return sent
        for alert in alerts:
            alert.emailed_at = now
        sent += 1
    return sent


def _deliver(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)
