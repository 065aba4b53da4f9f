"""Push a claimed group of jobs to its CRM in one batch call, and note each job's outcome.

Just before a group goes out, its linked records are read from the CRM (where the
connector can, ``ReadConnector``, and the integration pulls the type): a record the
CRM changed since crmsync last knew it is merged at once (``inbound.apply_remote``)
instead of pushed, so a push never overwrites a CRM edit crmsync has not read yet, and
the edit is dated by the record's modified time before this push moves it.

The record's *current* state is pushed, not the state when the job was enqueued, and
only the properties whose value differs from what the CRM is known to hold
(``fieldstate``): a push of one changed field never overwrites the CRM's other fields
with values crmsync may not have read yet. A record with nothing to send is skipped.
Properties of a field with an open ``manual`` conflict wait until it is resolved.
Outcomes go to a ``Settlement``, which the worker writes when the group is done.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from crmsync.connectors.base import ReadConnector, RemoteRecord, UpsertResult
from crmsync.connectors.errors import ConnectorError, InvalidRecord, NotFound
from crmsync.fingerprint import fingerprint
from crmsync.integrations.config import SyncConfig
from crmsync.mapping.engine import CompiledMapping, compile_inbound, compile_outbound
from crmsync.mapping.schema import relations_of
from crmsync.metrics import SYNC_LATENCY
from crmsync.records.payloads import INTERNAL_FIELDS
from crmsync.store.models import RECORD_MODELS, Conflict, ConflictStatus, Integration, Link
from crmsync.sync import fieldstate, references
from crmsync.sync.inbound import apply_remote
from crmsync.sync.jobs import Claim, ClaimedJob
from crmsync.sync.merge_effect import push_merges
from crmsync.sync.policy import on_job_error
from crmsync.sync.push_target import PushCounts, Target
from crmsync.sync.settle import Settlement


class _Linked(NamedTuple):
    id: uuid.UUID
    remote_id: str
    last_pushed_hash: str | None


def payload_hash(payload: Mapping[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if k != "id"}
    return fingerprint(body)


@cache
def _public_columns(object_type: str) -> tuple[str, ...]:
    """The columns ``records.payloads.to_dict`` shows."""
    model = RECORD_MODELS[object_type]
    return tuple(
        attr.key
        for attr in inspect(model).column_attrs
        if attr.key not in INTERNAL_FIELDS | {"workspace_id"}
    )


def _records(
    session: Session, object_type: str, ids: list[uuid.UUID], reads: frozenset[str]
) -> dict[Any, dict[str, Any]]:
    """The records as ``to_dict`` shows them, narrowed to the columns the mapping reads
    (and ``id``, ``deleted_at``): it maps the same, without decoding columns it skips."""
    model = RECORD_MODELS[object_type]
    keys = ("id", "deleted_at", *(k for k in _public_columns(object_type) if k in reads))
    columns = [getattr(model, key) for key in dict.fromkeys(keys)]
    rows = session.execute(select(*columns).where(model.id.in_(ids))).mappings()
    return {row["id"]: dict(row) for row in rows}


def _links(
    session: Session, target: Target, object_type: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, _Linked]:
    rows = session.execute(
        select(Link.record_id, Link.id, Link.remote_id, Link.last_pushed_hash).where(
            Link.integration_id == target.integration_id,
            Link.object_type == object_type,
            Link.record_id.in_(ids),
        )
    )
    return {
        record_id: _Linked(link_id, remote, digest) for record_id, link_id, remote, digest in rows
    }


def push(
    session: Session, claim: Claim, target: Target, settlement: Settlement, now: datetime
) -> PushCounts:
    """Push every job of ``claim``, noting each outcome. Whole-call errors propagate."""
    counts = PushCounts(processed=len(claim.jobs))
    object_type = claim.object_type
    ids = [job.record_id for job in claim.jobs]
    links = _links(session, target, object_type, ids)
    deletes = [j for j in claim.jobs if j.operation == "delete"]
    merges = [j for j in claim.jobs if j.operation == "merge"]
    upserts = sorted(  # the outbox's order, for the jobs this round puts back
        (j for j in claim.jobs if j.operation not in ("delete", "merge")),
        key=lambda j: j.record_id,
    )
    if deletes:
        _push_deletes(target, object_type, deletes, links, settlement, counts)
    if merges:  # before upserts: a survivor pushed after its remote merge ends as ours
        push_merges(session, target, object_type, merges, links, settlement, counts, now)
    if upserts:
        mapping = compile_outbound(target.mapping, object_type)
        records = _records(session, object_type, [j.record_id for j in upserts], mapping.reads())
        upserts, plan = _references(session, target, object_type, upserts, records, settlement, now)
        held = _held_properties(session, target, mapping, [j.record_id for j in upserts])
        known = fieldstate.load(session, target.integration_id, object_type, list(links))
        _push_upserts(
            session,
            target,
            object_type,
            mapping,
            upserts,
            records,
            links,
            (known, held),
            settlement,
            counts,
            now,
        )
        # writes after the CRM calls: a SQLite write lock is not held across them
        references.pull_forward(session, target.workspace_id, target.integration_id, plan)
        fresh = [r for r in settlement.linked if r not in links]
        references.requeue_dependents(
            session,
            target.workspace_id,
            target.integration_id,
            object_type,
            fresh,
            _pushes(session, target),
        )
    return counts


def _pushes(session: Session, target: Target) -> Callable[[str], bool]:
    integration = session.get(Integration, target.integration_id)
    config = SyncConfig.model_validate((integration.config if integration else None) or {})
    return config.pushes


def _references(
    session: Session,
    target: Target,
    object_type: str,
    upserts: list[ClaimedJob],
    records: dict[Any, dict[str, Any]],
    settlement: Settlement,
    now: datetime,
) -> tuple[list[ClaimedJob], references.OutboundPlan]:
    """Each reference as the CRM's id (``references``); the jobs of records that wait
    for a parent's push go back without an attempt spent (the caller pulls the parents'
    pushes forward once the CRM calls are made)."""
    if not relations_of(object_type):
        return upserts, references.OutboundPlan()
    plan = references.plan_outbound(
        session, target.integration_id, object_type, records, _pushes(session, target), now
    )
    for job in upserts:
        if job.record_id in plan.waiting:
            why, at = plan.waiting[job.record_id]
            settlement.requeue(job, at, error=why, error_class=None, count_attempt=False)
    return [j for j in upserts if j.record_id not in plan.waiting], plan


def _push_deletes(
    target: Target,
    object_type: str,
    deletes: list[ClaimedJob],
    links: dict[uuid.UUID, _Linked],
    settlement: Settlement,
    counts: PushCounts,
) -> None:
    remote_ids = [links[j.record_id].remote_id for j in deletes if j.record_id in links]
    if remote_ids:
        target.connector.delete(object_type, remote_ids)
    for job in deletes:
        # The Link stays as the tombstone: a late read of the remote record finds the
        # deleted record through it and changes nothing (it is never created again).
        if links.pop(job.record_id, None) is None:
            counts.skipped += 1
        else:
            counts.succeeded += 1
        settlement.succeed(job)


def _held_properties(
    session: Session, target: Target, mapping: CompiledMapping, ids: list[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    """Record id -> remote properties of its fields with an open conflict (not pushed)."""
    rows = session.execute(
        select(Conflict.record_id, Conflict.field).where(
            Conflict.integration_id == target.integration_id,
            Conflict.record_id.in_(ids),
            Conflict.status == ConflictStatus.OPEN,
        )
    ).all()
    if not rows:
        return {}
    targets: dict[str, set[str]] = {}
    for step in mapping.steps:
        targets.setdefault(step.read.split(".", 1)[0], set()).add(step.write.split(".", 1)[0])
    held: dict[uuid.UUID, set[str]] = {}
    for record_id, name in rows:
        held.setdefault(record_id, set()).update(targets.get(name, ()))
    return held


def _push_upserts(
    session: Session,
    target: Target,
    object_type: str,
    mapping: CompiledMapping,
    upserts: list[ClaimedJob],
    records: dict[Any, dict[str, Any]],
    links: dict[uuid.UUID, _Linked],
    state: tuple[dict[uuid.UUID, fieldstate.KnownProps], dict[uuid.UUID, set[str]]],
    settlement: Settlement,
    counts: PushCounts,
    now: datetime,
) -> None:
    capabilities = target.connector.capabilities.of(object_type)
    known, held = state
    types = fieldstate.wire_types(mapping)
    match_key = capabilities.upsert_keys[0] if capabilities.upsert_keys else None
    sending: list[tuple[ClaimedJob, dict[str, Any], str]] = []
    for job in upserts:
        record = records.get(job.record_id)
        if record is None or record["deleted_at"] is not None:
            counts.skipped += 1  # deleted since: nothing to push
            settlement.succeed(job)
            continue
        mapped = mapping.apply(record, target.region)
        if not mapped.ok:
            problems = "; ".join(f"{e.field}: {e.message}" for e in mapped.errors)
            invalid = InvalidRecord(problems)
            counts.error(job, on_job_error(settlement, job, invalid, target.retry, now), invalid)
            continue
        payload = mapped.values
        digest = payload_hash(payload)
        link = links.get(job.record_id)
        if link is not None:
            payload = _to_send(
                payload, known.get(job.record_id), held.get(job.record_id), types, target.region
            )
            if not payload or (job.record_id not in known and link.last_pushed_hash == digest):
                counts.skipped += 1
                settlement.succeed(job)
                continue
            payload = {**payload, "id": link.remote_id}
        sending.append((job, payload, digest))
    if object_type in target.pulled and isinstance(target.connector, ReadConnector):
        sending = _merge_unread_edits(
            session, target, object_type, sending, known, types, settlement, counts
        )
    limit = capabilities.batch_limit
    for start in range(0, len(sending), limit):
        chunk = sending[start : start + limit]
        try:
            _upsert_isolating(target, object_type, chunk, match_key, links, settlement, counts, now)
        except ConnectorError:
            # The calls after this one were never made: their jobs go back as they were,
            # without an attempt spent; the caller applies the error to this call's jobs.
            for job, _payload, _digest in sending[start + limit :]:
                settlement.requeue(job, now, error=None, error_class=None, count_attempt=False)
            raise


Sending = list[tuple[ClaimedJob, dict[str, Any], str]]


def _merge_unread_edits(
    session: Session,
    target: Target,
    object_type: str,
    sending: Sending,
    known: dict[uuid.UUID, fieldstate.KnownProps],
    types: dict[str, Any],
    settlement: Settlement,
    counts: PushCounts,
) -> Sending:
    """``sending`` less the records the CRM changed since crmsync last knew them (read
    now). Those are merged at once, as a poll would merge them, dated by the record's
    modified time *before* this push moves it; the merge queues a push again where the
    app's values win, and this job ends."""
    linked = {p["id"]: job for job, p, _d in sending if "id" in p and job.record_id in known}
    if not linked:
        return sending
    assert isinstance(target.connector, ReadConnector)
    read_at = datetime.now(UTC)
    current = {r.remote_id: r for r in target.connector.read(object_type, list(linked))}
    integration = session.get(Integration, target.integration_id)
    assert integration is not None
    # only properties a read brings in can be merged (and so become known again)
    readable = set(fieldstate.wire_types(compile_inbound(target.mapping, object_type)))
    out: Sending = []
    for job, payload, digest in sending:
        remote = current.get(str(payload.get("id")))
        mine = known.get(job.record_id)
        if mine is not None:
            mine = {p: k for p, k in mine.items() if p in readable}
        if remote is None or not mine or not _unread(remote, mine, types, target.region):
            out.append((job, payload, digest))
            continue
        apply_remote(
            session,
            integration,
            object_type,
            remote,
            target.mapping,
            read_at,
            target.region,
            read_at,
        )
        counts.skipped += 1
        settlement.succeed(job)
    return out


def _unread(
    remote: RemoteRecord, mine: fieldstate.KnownProps, types: dict[str, Any], region: str
) -> bool:
    """Whether the CRM holds a value crmsync does not know of in some property."""
    return any(
        prop in remote.properties
        and not fieldstate.same(remote.properties[prop], seen.value, types.get(prop), region)
        for prop, seen in mine.items()
    )


def _to_send(
    payload: dict[str, Any],
    known: fieldstate.KnownProps | None,
    held: set[str] | None,
    types: dict[str, Any],
    region: str,
) -> dict[str, Any]:
    """The properties of a linked record to push: those whose value differs from what
    the CRM is known to hold (all of them when nothing is known), less held ones."""
    out = {}
    for prop, value in payload.items():
        if held and prop in held:
            continue
        seen = known.get(prop) if known else None
        if (
            known
            and seen is not None
            and fieldstate.same(value, seen.value, types.get(prop), region)
        ):
            continue
        out[prop] = value
    return out


def _upsert_isolating(
    target: Target,
    object_type: str,
    sending: Sending,
    match_key: str | None,
    links: dict[uuid.UUID, _Linked],
    settlement: Settlement,
    counts: PushCounts,
    now: datetime,
) -> None:
    """``_upsert_batch``; when the CRM refuses a whole batch as invalid, each record is
    sent alone, so one bad record fails alone instead of taking its batch with it."""
    try:
        _upsert_batch(target, object_type, sending, match_key, links, settlement, counts, now)
    except InvalidRecord:
        if len(sending) == 1:
            raise
        for one in sending:
            try:
                _upsert_batch(target, object_type, [one], match_key, links, settlement, counts, now)
            except InvalidRecord as error:
                job = one[0]
                status = on_job_error(settlement, job, error, target.retry, datetime.now(UTC))
                counts.error(job, status, error)


def _upsert_batch(
    target: Target,
    object_type: str,
    sending: list[tuple[ClaimedJob, dict[str, Any], str]],
    match_key: str | None,
    links: dict[uuid.UUID, _Linked],
    settlement: Settlement,
    counts: PushCounts,
    now: datetime,
) -> None:
    payloads = [p for _j, p, _d in sending]
    results = target.connector.upsert(object_type, payloads, match_key)
    acked = datetime.now(UTC)
    UpsertResult.check(payloads, results)
    latency = SYNC_LATENCY.labels(target.connector.provider)
    for (job, payload, digest), result in zip(sending, results, strict=True):
        if result.ok and result.remote_id is not None:
            settlement.link(job.record_id, result.remote_id, digest, now)
            sent = {k: v for k, v in payload.items() if k != "id"}
            settlement.known(job.record_id, sent, acked)
            settlement.succeed(job)
            latency.observe((acked - job.enqueued_at).total_seconds())
            counts.succeeded += 1
            continue
        error = result.error or InvalidRecord("the CRM gave no id for this record")
        if isinstance(error, NotFound) and job.record_id in links:
            if target.delete_propagation:
                # Deleted in the CRM: the delete wins over this edit. The Link stays, and
                # the poll that reads the deletion deletes the record here too.
                counts.skipped += 1
                settlement.succeed(job)
                continue
            settlement.unlink(links.pop(job.record_id).id)  # stale Link: recreate next time
        counts.error(job, on_job_error(settlement, job, error, target.retry, acked), error)
