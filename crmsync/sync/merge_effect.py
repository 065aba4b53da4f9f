"""The CRM side of a merge: what becomes of a merged-away record's remote copy.

A ``merge`` job names a merged-away record that still has a Link in the job's
integration (its survivor has a remote record of its own there). In order of preference:

1. the CRM merges natively (``MergeConnector``: HubSpot, Pipedrive): the remote
   duplicate is merged into the survivor's remote record, and the survivor is pushed
   again so the CRM ends with crmsync's merged values;
2. the integration propagates deletions: the remote duplicate is deleted;
3. otherwise the Link is dropped and the remote duplicate is left alone.

When the survivor has lost its own Link meanwhile, the duplicate's Link moves to it
instead (the survivor takes over that remote record). The dropped Link's remote record,
if read again by a poll, resolves to the survivor (``crmsync.records.merged``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import MergeConnector
from crmsync.connectors.errors import ConnectorError
from crmsync.integrations.config import SyncConfig
from crmsync.records import merged
from crmsync.store.models import Integration, Link
from crmsync.sync import fieldstate, outbox
from crmsync.sync.jobs import ClaimedJob
from crmsync.sync.policy import on_job_error
from crmsync.sync.push_target import PushCounts, Target
from crmsync.sync.settle import Settlement


def push_merges(
    session: Session,
    target: Target,
    object_type: str,
    merges: list[ClaimedJob],
    links: dict[uuid.UUID, Any],
    settlement: Settlement,
    counts: PushCounts,
    now: datetime,
) -> None:
    """Note the outcome of every merge job of a claim (each is one CRM call at most).

    Link changes go through the session, which the settlement commits with the group.
    """
    integration = session.get(Integration, target.integration_id)
    config = SyncConfig.model_validate(integration.config if integration else {})
    for job in merges:
        linked = links.pop(job.record_id, None)
        link = session.get(Link, linked.id) if linked is not None else None
        survivor_id = merged.survivor_of(session, target.workspace_id, object_type, job.record_id)
        if link is None or survivor_id is None:
            counts.skipped += 1  # nothing remote to resolve
            settlement.succeed(job)
            continue
        try:
            _resolve(session, target, object_type, link, survivor_id, config)
        except ConnectorError as error:
            links[job.record_id] = linked
            counts.error(job, on_job_error(settlement, job, error, target.retry, now), error)
            continue
        counts.succeeded += 1
        settlement.succeed(job)


def _resolve(
    session: Session,
    target: Target,
    object_type: str,
    link: Link,
    survivor_id: uuid.UUID,
    config: SyncConfig,
) -> str:
    """Apply the CRM effect for one remote duplicate; returns which one was applied."""
    survivor_link = session.scalar(
        select(Link).where(
            Link.integration_id == target.integration_id,
            Link.object_type == object_type,
            Link.record_id == survivor_id,
        )
    )
    connector = target.connector
    if survivor_link is None:
        link.record_id = survivor_id
        link.last_pushed_hash = None
        fieldstate.forget(session, target.integration_id, object_type, survivor_id)
        effect = "relinked"
    elif isinstance(connector, MergeConnector) and connector.can_merge(object_type):
        remote_id = connector.merge_records(object_type, survivor_link.remote_id, link.remote_id)
        session.delete(link)
        session.flush()  # the remote id may come back as the survivor's
        survivor_link.remote_id = remote_id
        survivor_link.last_pushed_hash = None
        fieldstate.forget(session, target.integration_id, object_type, survivor_id)
        effect = "merged"
    elif config.delete_propagation:
        connector.delete(object_type, [link.remote_id])
        session.delete(link)
        return "deleted"
    else:
        session.delete(link)
        return "unlinked"
    # The survivor's remote record changed under it: push crmsync's values again.
    outbox.enqueue(
        session,
        target.workspace_id,
        object_type,
        [survivor_id],
        source="merge",
        only=target.integration_id,
    )
    return effect
