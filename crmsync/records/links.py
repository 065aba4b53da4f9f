"""A record's Links as the API shows them (``?include=links``): per integration, the
remote id, when it was last synced and the last error of its push, if it failed.

An integration that never linked the record still shows when its push of the record
failed (``remote_id`` null, ``last_error`` set): a record that cannot reach a CRM is
exactly the one whose links someone looks at.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.store.models import Integration, Link, SyncJob, SyncJobStatus

# the job states that still carry the error of the push that left them there
_ERRORED = (SyncJobStatus.PENDING, SyncJobStatus.FAILED, SyncJobStatus.DEAD)


def links_of(
    session: Session, workspace_id: uuid.UUID, record_type: str, record_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Record id -> its links, by integration name; every id of ``record_ids`` is a key."""
    out: dict[uuid.UUID, dict[uuid.UUID, dict[str, Any]]] = {rid: {} for rid in record_ids}
    if not record_ids:
        return {}
    integrations = {
        row.id: row
        for row in session.execute(
            select(Integration.id, Integration.name, Integration.provider).where(
                Integration.workspace_id == workspace_id
            )
        )
    }
    if not integrations:
        return {rid: [] for rid in out}
    ids = list(out)
    for link in session.execute(
        select(Link.record_id, Link.integration_id, Link.remote_id, Link.last_synced_at).where(
            Link.integration_id.in_(list(integrations)),
            Link.object_type == record_type,
            Link.record_id.in_(ids),
        )
    ):
        entry = _entry(integrations[link.integration_id])
        entry.update(remote_id=link.remote_id, last_synced_at=link.last_synced_at)
        out[link.record_id][link.integration_id] = entry
    errors = session.execute(
        select(SyncJob.record_id, SyncJob.integration_id, SyncJob.last_error, SyncJob.updated_at)
        .where(
            SyncJob.integration_id.in_(list(integrations)),
            SyncJob.object_type == record_type,
            SyncJob.record_id.in_(ids),
            SyncJob.status.in_(_ERRORED),
            SyncJob.last_error.is_not(None),
        )
        .order_by(SyncJob.updated_at)  # the latest error wins
    )
    for job in errors:
        entry = out[job.record_id].setdefault(
            job.integration_id, _entry(integrations[job.integration_id])
        )
        synced = entry["last_synced_at"]
        if synced is None or job.updated_at > synced:  # a later push succeeded: no error
            entry.update(last_error=job.last_error, last_error_at=job.updated_at)
    return {
        rid: sorted(found.values(), key=lambda e: (e["integration_name"], str(e["integration_id"])))
        for rid, found in out.items()
    }


def _entry(integration: Any) -> dict[str, Any]:
    none: datetime | None = None
    return {
        "integration_id": integration.id,
        "integration_name": integration.name,
        "provider": integration.provider,
        "remote_id": None,
        "last_synced_at": none,
        "last_error": None,
        "last_error_at": none,
    }
