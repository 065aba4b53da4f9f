"""Push a claimed group of jobs to its CRM in one batch call, and settle each job.

The record's *current* state is pushed, not the state when the job was enqueued; a
payload whose hash equals the last one pushed through the Link is skipped.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector, UpsertResult
from crmsync.connectors.errors import ConnectorError, InvalidRecord, NotFound
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.mapping.engine import map_outbound
from crmsync.mapping.model import MappingSet
from crmsync.metrics import SYNC_LATENCY
from crmsync.records.payloads import to_dict
from crmsync.store.models import RECORD_MODELS, Link, RecordBase, SyncJob
from crmsync.sync import jobs
from crmsync.sync.jobs import Claim
from crmsync.sync.policy import on_job_error


@dataclass
class Target:
    """Everything needed to push to one integration."""

    integration_id: uuid.UUID
    workspace_id: uuid.UUID
    connector: Connector
    mapping: MappingSet
    retry: RetryPolicy
    region: str = "US"


@dataclass
class PushCounts:
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, job: SyncJob, status: str, error: ConnectorError) -> None:
        if status in ("failed", "dead"):
            self.failed += 1
            self.errors.append(
                {"record_id": str(job.record_id), "class": error.kind, "message": error.message}
            )


def payload_hash(payload: Mapping[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if k != "id"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def _links(
    session: Session, target: Target, object_type: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Link]:
    rows = session.scalars(
        select(Link).where(
            Link.integration_id == target.integration_id,
            Link.object_type == object_type,
            Link.record_id.in_(ids),
        )
    )
    return {link.record_id: link for link in rows}


def push(session: Session, claim: Claim, target: Target, now: datetime) -> PushCounts:
    """Push every job of ``claim``; settles each one. Whole-call errors propagate."""
    counts = PushCounts(processed=len(claim.jobs))
    object_type = claim.object_type
    ids = [job.record_id for job in claim.jobs]
    model = RECORD_MODELS[object_type]
    records = {r.id: r for r in session.scalars(select(model).where(model.id.in_(ids)))}
    links = _links(session, target, object_type, ids)
    deletes = [j for j in claim.jobs if j.operation == "delete"]
    merges = [j for j in claim.jobs if j.operation == "merge"]
    upserts = sorted(  # the outbox's lock order, for any job this round reschedules
        (j for j in claim.jobs if j.operation not in ("delete", "merge")),
        key=lambda j: j.record_id,
    )
    if deletes:
        _push_deletes(session, target, object_type, deletes, links, counts)
    if merges:  # before upserts: a survivor pushed after its remote merge ends as ours
        from crmsync.sync.merge_effect import push_merges  # it imports this module

        push_merges(session, target, object_type, merges, links, counts, now)
    if upserts:
        _push_upserts(session, target, object_type, upserts, records, links, counts, now)
    return counts


def _push_deletes(
    session: Session,
    target: Target,
    object_type: str,
    deletes: list[SyncJob],
    links: dict[uuid.UUID, Link],
    counts: PushCounts,
) -> None:
    remote_ids = [links[j.record_id].remote_id for j in deletes if j.record_id in links]
    if remote_ids:
        target.connector.delete(object_type, remote_ids)
    for job in deletes:
        link = links.pop(job.record_id, None)
        if link is None:
            counts.skipped += 1
        else:
            session.delete(link)
            counts.succeeded += 1
        jobs.settle(job, "succeeded")


def _push_upserts(
    session: Session,
    target: Target,
    object_type: str,
    upserts: list[SyncJob],
    records: dict[uuid.UUID, RecordBase],
    links: dict[uuid.UUID, Link],
    counts: PushCounts,
    now: datetime,
) -> None:
    capabilities = target.connector.capabilities.of(object_type)
    match_key = capabilities.upsert_keys[0] if capabilities.upsert_keys else None
    sending: list[tuple[SyncJob, dict[str, Any], str]] = []
    for job in upserts:
        record = records.get(job.record_id)
        if record is None or record.deleted_at is not None:
            counts.skipped += 1  # deleted since: nothing to push
            jobs.settle(job, "succeeded")
            continue
        mapped = map_outbound(target.mapping, object_type, to_dict(record), target.region)
        if not mapped.ok:
            problems = "; ".join(f"{e.field}: {e.message}" for e in mapped.errors)
            counts.error(
                job,
                on_job_error(session, job, InvalidRecord(problems), target.retry, now),
                InvalidRecord(problems),
            )
            continue
        payload = mapped.values
        digest = payload_hash(payload)
        link = links.get(job.record_id)
        if link is not None:
            if link.last_pushed_hash == digest:
                counts.skipped += 1
                jobs.settle(job, "succeeded")
                continue
            payload = {**payload, "id": link.remote_id}
        sending.append((job, payload, digest))
    limit = capabilities.batch_limit
    for start in range(0, len(sending), limit):
        _upsert_batch(
            session,
            target,
            object_type,
            sending[start : start + limit],
            match_key,
            links,
            counts,
            now,
        )


def _upsert_batch(
    session: Session,
    target: Target,
    object_type: str,
    sending: list[tuple[SyncJob, dict[str, Any], str]],
    match_key: str | None,
    links: dict[uuid.UUID, Link],
    counts: PushCounts,
    now: datetime,
) -> None:
    payloads = [p for _j, p, _d in sending]
    results = target.connector.upsert(object_type, payloads, match_key)
    acked = datetime.now(UTC)
    UpsertResult.check(payloads, results)
    for (job, _payload, digest), result in zip(sending, results, strict=True):
        if result.ok and result.remote_id is not None:
            _record_link(
                session, target, object_type, job.record_id, links, result.remote_id, digest, now
            )
            jobs.settle(job, "succeeded")
            SYNC_LATENCY.labels(target.connector.provider).observe(
                (acked - job.enqueued_at).total_seconds()
            )
            counts.succeeded += 1
            continue
        error = result.error or InvalidRecord("the CRM gave no id for this record")
        if isinstance(error, NotFound) and job.record_id in links:
            session.delete(links.pop(job.record_id))  # stale Link: recreate next time
        counts.error(job, on_job_error(session, job, error, target.retry, now), error)


def _record_link(
    session: Session,
    target: Target,
    object_type: str,
    record_id: uuid.UUID,
    links: dict[uuid.UUID, Link],
    remote_id: str,
    digest: str,
    now: datetime,
) -> None:
    link = links.get(record_id)
    if link is None:
        link = Link(
            workspace_id=target.workspace_id,
            integration_id=target.integration_id,
            object_type=object_type,
            record_id=record_id,
            remote_id=remote_id,
        )
        session.add(link)
        links[record_id] = link
    link.remote_id = remote_id
    link.last_pushed_hash = digest
    link.last_synced_at = now
