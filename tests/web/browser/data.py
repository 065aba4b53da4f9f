"""Rows the browser tests need that no page makes: integrations, journeys, conflicts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.alerts.service import raise_alert
from crmsync.automation.service import install_template
from crmsync.outbound.emit import emit
from crmsync.outbound.webhooks.endpoints import BY_A_USER
from crmsync.records.service import create_record
from crmsync.store.engine import session_scope
from crmsync.store.models import (
    ApiQuota,
    AutomationRule,
    AutomationRun,
    Conflict,
    Integration,
    Journey,
    OutboundEvent,
    SyncJob,
    SyncRun,
    Touchpoint,
    WebhookDelivery,
    WebhookEndpoint,
)


@dataclass(frozen=True)
class Seed:
    """Writes the rows into one workspace (a test's team's)."""

    sessions: sessionmaker[Session]
    workspace_id: uuid.UUID

    def contact(self, **fields: Any) -> uuid.UUID:
        with session_scope(self.sessions) as session:
            return create_record(session, self.workspace_id, "contacts", fields, "api").id

    def integration(self) -> uuid.UUID:
        """A Total Expert integration row (never called: the tests only read its journeys)."""
        with session_scope(self.sessions) as session:
            row = Integration(
                workspace_id=self.workspace_id,
                provider="totalexpert",
                name="Total Expert",
                status="connected",
                config={"objects": {"contacts": "both"}},
            )
            session.add(row)
            session.flush()
            return row.id

    def journey(self, integration_id: uuid.UUID, name: str) -> uuid.UUID:
        with session_scope(self.sessions) as session:
            row = Journey(
                workspace_id=self.workspace_id,
                integration_id=integration_id,
                remote_id=uuid.uuid4().hex[:10],
                name=name,
                category="purchase",
                trigger_type="manual",
                active=True,
                steps=[],
            )
            session.add(row)
            session.flush()
            return row.id

    def conflict(
        self, integration_id: uuid.UUID, contact_id: uuid.UUID, field: str, local: Any, remote: Any
    ) -> uuid.UUID:
        """An open conflict as inbound sync opens one under the ``manual`` policy."""
        now = datetime.now(UTC)
        with session_scope(self.sessions) as session:
            row = Conflict(
                workspace_id=self.workspace_id,
                integration_id=integration_id,
                record_type="contacts",
                record_id=contact_id,
                field=field,
                local_value=local,
                local_at=now - timedelta(minutes=5),
                remote_value=remote,
                remote_at=now - timedelta(minutes=2),
                status="open",
            )
            session.add(row)
            session.flush()
            return row.id

    def automation(self, contact_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
        """A rule that has run, an endpoint with a delivery, an open alert, and a won deal with
        touchpoints: what the automation, alert and attribution pages show. The rule's and the
        endpoint's ids."""
        now = datetime.now(UTC)
        with session_scope(self.sessions) as session:
            install_template(session, self.workspace_id, "health-deal-stages")
            rule = session.scalars(
                select(AutomationRule).where(AutomationRule.workspace_id == self.workspace_id)
            ).first()
            assert rule is not None
            endpoint = WebhookEndpoint(
                workspace_id=self.workspace_id,
                url="https://hooks.example/in",
                event_types=[],
                secret="x",  # not a vault ciphertext: off, so no deliverer sends to it
                enabled=False,
                disabled_reason=BY_A_USER,
            )
            session.add(endpoint)
            for hours, channel in ((5, "social"), (3, "email")):
                session.add(
                    Touchpoint(
                        workspace_id=self.workspace_id,
                        contact_id=contact_id,
                        occurred_at=now - timedelta(hours=hours),
                        channel=channel,
                        utm_campaign="spring",
                    )
                )
            deal = create_record(
                session,
                self.workspace_id,
                "deals",
                {
                    "name": "Elm St",
                    "stage": "CLOSED_WON",
                    "amount": "900",
                    "contact_id": str(contact_id),
                },
                "api",
            )
            session.flush()
            emit(session, self.workspace_id, "deal.won", str(deal.id), {"deal_id": str(deal.id)})
            event_id = session.scalar(select(func.max(OutboundEvent.id)))
            session.add(
                WebhookDelivery(
                    workspace_id=self.workspace_id,
                    endpoint_id=endpoint.id,
                    event_id=event_id,
                    event_type="deal.won",
                    key=str(deal.id),
                    status="dead",
                    attempts=8,
                    last_status_code=503,
                )
            )
            session.add(
                AutomationRun(
                    workspace_id=self.workspace_id,
                    rule_id=rule.id,
                    rule_version=rule.version,
                    cause="change:1",
                    record_type="deals",
                    record_id=deal.id,
                    status="done",
                    actions=[{"emit": "onboarding.requested"}],
                    at=now,
                )
            )
            raise_alert(
                session, self.workspace_id, "sync.dead_letters", "x", "warning", "12 dead", now
            )
            session.flush()
            return rule.id, endpoint.id

    def sync_figures(self, integration_id: uuid.UUID) -> None:
        """What the sync health page draws: a run with failures, a job waiting (the lag) and
        the API quota the CRM reported."""
        now, workspace_id = datetime.now(UTC), self.workspace_id
        with session_scope(self.sessions) as session:
            session.add(
                SyncRun(
                    workspace_id=workspace_id, integration_id=integration_id, kind="incremental",
                    direction="outbound", object_type="contacts", status="partial", processed=40,
                    succeeded=37, failed=3, started_at=now - timedelta(hours=1), finished_at=now,
                )
            )  # fmt: skip
            session.add(
                SyncJob(
                    workspace_id=workspace_id, integration_id=integration_id,
                    object_type="contacts", record_id=uuid.uuid4(), operation="upsert",
                    enqueued_at=now - timedelta(minutes=3),
                )
            )  # fmt: skip
            session.add(
                ApiQuota(
                    integration_id=integration_id,
                    name="daily",
                    used=920,
                    limit=1000,
                    observed_at=now,
                )
            )
