"""How an integration is doing, per object type, and what the admin should do next.

One report feeds three readers: ``GET /api/v1/integrations/{id}/health``, the
integration's own answer (its shown status turns ``degraded``), and the Prometheus
gauges (``sync.metrics.HealthCollector``). Everything is read from the store: the sync
log (last successful push and pull, error rate), the outbox (lag, dead letters), the
object-type states (failing types, back-off) and the quotas the CRM reported.

An integration whose stored status is ``connected`` shows ``degraded`` while an object
type is failing or dead letters arrived in the last day.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crmsync.connectors.http.quota import BOOK, QuotaBook
from crmsync.integrations.config import SyncConfig
from crmsync.mapping.direction import Direction
from crmsync.store.base import new_id
from crmsync.store.models import (
    ApiQuota,
    Integration,
    IntegrationStatus,
    ObjectSyncStatus,
    SyncJob,
    SyncJobStatus,
    SyncObjectState,
    SyncRun,
    SyncRunStatus,
)
from crmsync.sync.dlq import REPLAYABLE

__all__ = ["Health", "ObjectHealth", "flush_quotas", "report", "reports", "summaries"]

WINDOW = timedelta(hours=24)  # error rate and "recent" dead letters
# A real-time type whose oldest unpushed change is older than this shows "lagging": no
# worker is running, the workers cannot keep up, or the CRM's quota is spent.
LAGGING_AFTER = timedelta(minutes=15)
LAGGING = "lagging"
_OPEN = (SyncJobStatus.PENDING, SyncJobStatus.RUNNING)
# errors that mean the CRM lacks a field or property the mapping writes
_MISSING_FIELD = re.compile(
    r"PROPERTY_DOESNT_EXIST|INVALID_FIELD|does not exist|No such column|no such field|"
    r"Unknown (?:field|property)|custom field",
    re.IGNORECASE,
)


@dataclass
class ObjectHealth:
    """One object type of one integration."""

    object_type: str
    direction: str
    # an ObjectSyncStatus, "scheduled" (healthy, waiting for its slot) or "lagging"
    # (ok, but its oldest change has waited longer than LAGGING_AFTER)
    status: str = ObjectSyncStatus.OK
    last_push_at: datetime | None = None
    last_pull_at: datetime | None = None
    lag_seconds: float = 0.0  # age of the oldest change not pushed yet
    pending: int = 0
    dead_letters: int = 0
    processed_24h: int = 0
    failed_24h: int = 0
    error_rate: float = 0.0  # failed / processed over the last 24 h
    last_error: str | None = None
    backoff_until: datetime | None = None
    next_push_at: datetime | None = None


@dataclass
class Health:
    """The report of one integration."""

    integration_id: uuid.UUID
    provider: str
    status: str  # the stored status, or degraded
    last_error: str | None
    failing_objects: list[str]
    dead_letters: int
    recent_dead_letters: int
    objects: list[ObjectHealth] = field(default_factory=list)
    quota: list[dict[str, Any]] = field(default_factory=list)
    next_steps: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["integration_id"] = str(self.integration_id)
        return dict(_iso(out))


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def shown_status(stored: str, failing: Iterable[str], recent_dead: int) -> str:
    """What the API shows: ``degraded`` for a connected integration with trouble."""
    if stored == IntegrationStatus.CONNECTED and (list(failing) or recent_dead):
        return "degraded"
    return stored


def summaries(
    session: Session, integrations: list[Integration], now: datetime | None = None
) -> dict[uuid.UUID, dict[str, Any]]:
    """Cheap figures for integration answers: shown status, failing types, dead letters."""
    now = now or datetime.now(UTC)
    ids = [i.id for i in integrations]
    if not ids:
        return {}
    failing: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    for integration_id, object_type in session.execute(
        select(SyncObjectState.integration_id, SyncObjectState.object_type)
        .where(
            SyncObjectState.integration_id.in_(ids),
            SyncObjectState.status == ObjectSyncStatus.FAILING,
        )
        .order_by(SyncObjectState.object_type)
    ):
        failing[integration_id].append(object_type)
    dead: dict[uuid.UUID, tuple[int, int]] = {}
    recent = case((SyncJob.updated_at >= now - WINDOW, 1), else_=0)
    for integration_id, total, fresh in session.execute(
        select(SyncJob.integration_id, func.count(), func.sum(recent))
        .where(SyncJob.integration_id.in_(ids), SyncJob.status.in_(REPLAYABLE))
        .group_by(SyncJob.integration_id)
    ):
        dead[integration_id] = (int(total), int(fresh or 0))
    out = {}
    for integration in integrations:
        total, fresh = dead.get(integration.id, (0, 0))
        out[integration.id] = {
            "status": shown_status(integration.status, failing[integration.id], fresh),
            "failing_objects": failing[integration.id],
            "dead_letters": total,
        }
    return out


def report(session: Session, integration: Integration, now: datetime | None = None) -> Health:
    """The whole health report of ``integration``."""
    return reports(session, [integration], now)[0]


def reports(
    session: Session,
    integrations: list[Integration],
    now: datetime | None = None,
    *,
    steps: bool = True,
) -> list[Health]:
    """The health reports of ``integrations``, in their order: a fixed number of queries
    however many there are (each groups by integration), plus one per integration for
    its next steps when ``steps``."""
    now = now or datetime.now(UTC)
    ids = [i.id for i in integrations]
    configs = {i.id: SyncConfig.model_validate(i.config or {}) for i in integrations}
    objects: dict[uuid.UUID, dict[str, ObjectHealth]] = {
        i: {o: ObjectHealth(o, str(c.direction(o))) for o in c.objects} for i, c in configs.items()
    }

    def of(integration_id: uuid.UUID, object_type: str | None) -> ObjectHealth:
        name = object_type or "?"
        own = objects[integration_id]
        if name not in own:
            own[name] = ObjectHealth(name, str(configs[integration_id].direction(name)))
        return own[name]

    if ids:
        _runs(session, ids, now, of)
        _jobs(session, ids, now, of)
        for state in session.scalars(
            select(SyncObjectState).where(SyncObjectState.integration_id.in_(ids))
        ):
            item = of(state.integration_id, state.object_type)
            item.status = state.status
            item.backoff_until = _future(state.backoff_until, now)
            item.next_push_at = _future(state.next_push_at, now)
            if state.status == ObjectSyncStatus.FAILING:
                item.last_error = f"{state.last_error_class}: {state.last_error}"
            elif item.next_push_at is not None:
                item.status = "scheduled"
        for kinds in objects.values():
            for item in kinds.values():
                late = item.lag_seconds > LAGGING_AFTER.total_seconds()
                if item.status == ObjectSyncStatus.OK and late:
                    item.status = LAGGING
    recent = _recent_dead(session, ids, now)
    quota = quotas_of(session, ids)
    out = []
    for integration in integrations:
        own = objects[integration.id].values()
        failing = sorted(o.object_type for o in own if o.status == ObjectSyncStatus.FAILING)
        health = Health(
            integration_id=integration.id,
            provider=integration.provider,
            status=shown_status(integration.status, failing, recent.get(integration.id, 0)),
            last_error=integration.last_error,
            failing_objects=failing,
            dead_letters=sum(o.dead_letters for o in own),
            recent_dead_letters=recent.get(integration.id, 0),
            objects=sorted(own, key=lambda o: o.object_type),
            quota=quota.get(integration.id, []),
        )
        if steps:
            health.next_steps = next_steps(session, integration, health)
        out.append(health)
    return out


def _future(moment: datetime | None, now: datetime) -> datetime | None:
    moment = _aware(moment)
    return moment if moment is not None and moment > now else None


def _runs(session: Session, ids: list[uuid.UUID], now: datetime, of: Any) -> None:
    ok = SyncRun.status.in_((SyncRunStatus.SUCCEEDED, SyncRunStatus.PARTIAL))
    rows = session.execute(
        select(
            SyncRun.integration_id,
            SyncRun.object_type,
            SyncRun.direction,
            func.max(SyncRun.finished_at),
        )
        .where(SyncRun.integration_id.in_(ids), ok)
        .group_by(SyncRun.integration_id, SyncRun.object_type, SyncRun.direction)
    )
    for integration_id, object_type, direction, last in rows:
        item = of(integration_id, object_type)
        if direction == Direction.OUTBOUND:
            item.last_push_at = _aware(last)
        else:
            item.last_pull_at = _aware(last)
    # a run that failed as a whole failed all it processed (its jobs went back to wait)
    failed_records = case(
        (SyncRun.status == SyncRunStatus.FAILED, SyncRun.processed), else_=SyncRun.failed
    )
    totals = session.execute(
        select(
            SyncRun.integration_id,
            SyncRun.object_type,
            func.sum(SyncRun.processed),
            func.sum(failed_records),
        )
        .where(SyncRun.integration_id.in_(ids), SyncRun.started_at >= now - WINDOW)
        .group_by(SyncRun.integration_id, SyncRun.object_type)
    )
    for integration_id, object_type, processed, failed in totals:
        item = of(integration_id, object_type)
        item.processed_24h, item.failed_24h = int(processed or 0), int(failed or 0)
        item.error_rate = round(item.failed_24h / item.processed_24h, 4) if processed else 0.0


def _jobs(session: Session, ids: list[uuid.UUID], now: datetime, of: Any) -> None:
    rows = session.execute(
        select(
            SyncJob.integration_id,
            SyncJob.object_type,
            SyncJob.status,
            func.count(),
            func.min(SyncJob.enqueued_at),
        )
        .where(SyncJob.integration_id.in_(ids), SyncJob.status.in_(_OPEN + REPLAYABLE))
        .group_by(SyncJob.integration_id, SyncJob.object_type, SyncJob.status)
    )
    for integration_id, object_type, status, count, oldest in rows:
        item = of(integration_id, object_type)
        if status in REPLAYABLE:
            item.dead_letters += int(count)
            continue
        item.pending += int(count)
        first = _aware(oldest)
        if first is not None:
            item.lag_seconds = max(item.lag_seconds, round((now - first).total_seconds(), 3))


def _recent_dead(session: Session, ids: list[uuid.UUID], now: datetime) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(SyncJob.integration_id, func.count())
        .where(
            SyncJob.integration_id.in_(ids),
            SyncJob.status.in_(REPLAYABLE),
            SyncJob.updated_at >= now - WINDOW,
        )
        .group_by(SyncJob.integration_id)
    )
    return {integration_id: int(n) for integration_id, n in rows}


def quotas(session: Session, integration_id: uuid.UUID) -> list[dict[str, Any]]:
    """The quotas the CRM last reported (used, limit, left, when)."""
    return quotas_of(session, [integration_id]).get(integration_id, [])


def quotas_of(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """``quotas`` of several integrations in one query."""
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if not ids:
        return out
    rows = session.scalars(
        select(ApiQuota)
        .where(ApiQuota.integration_id.in_(ids))
        .order_by(ApiQuota.integration_id, ApiQuota.name)
    )
    for row in rows:
        out.setdefault(row.integration_id, []).append(
            {
                "name": row.name,
                "used": row.used,
                "limit": row.limit,
                "remaining": max(0, row.limit - row.used),
                "observed_at": _aware(row.observed_at),
            }
        )
    return out


def next_steps(session: Session, integration: Integration, health: Health) -> list[dict[str, str]]:
    """What the admin should do, most urgent first: ``reauthorize``, ``run setup``,
    ``fix mapping``, ``fix config``, ``check workers``, ``replay``."""
    base = f"/api/v1/integrations/{integration.id}"
    steps: list[dict[str, str]] = []
    if integration.status == IntegrationStatus.NEEDS_AUTH:
        steps.append(
            {
                "action": "reauthorize",
                "why": integration.last_error or "the CRM refused the credentials",
                "how": f"GET /api/v1/oauth/{integration.provider}/authorize"
                f"?integration_id={integration.id}, or PATCH {base} with new credentials",
            }
        )
    errors = _recent_errors(session, integration.id)
    failing = [o for o in health.objects if o.status == ObjectSyncStatus.FAILING]
    errors += [(None, o.last_error or "") for o in failing]
    missing = sorted({m for _c, m in errors if _MISSING_FIELD.search(m)})
    if missing:
        steps.append(
            {
                "action": "run setup",
                "why": f"the CRM lacks a field the mapping writes: {missing[0]}",
                "how": f"GET {base}/setup, then POST {base}/setup",
            }
        )
    invalid = [m for c, m in errors if c == "InvalidRecord" and not _MISSING_FIELD.search(m)]
    if invalid:
        steps.append(
            {
                "action": "fix mapping",
                "why": f"the CRM refused records: {invalid[0]}",
                "how": f"GET {base}/mappings, fix the field, PUT {base}/mappings, then "
                "POST /api/v1/sync-jobs/replay-all",
            }
        )
    config = [o for o in failing if (o.last_error or "").startswith("ConfigError")]
    if config and not missing:
        steps.append(
            {
                "action": "fix config",
                "why": f"{config[0].object_type}: {config[0].last_error}",
                "how": f"PATCH {base} with config.objects",
            }
        )
    lagging = [o for o in health.objects if o.status == LAGGING]
    if lagging and integration.status == IntegrationStatus.CONNECTED:
        oldest = max(lagging, key=lambda o: o.lag_seconds)
        steps.append(
            {
                "action": "check workers",
                "why": f"{oldest.object_type}: the oldest change not pushed has waited "
                f"{round(oldest.lag_seconds / 60)} min ({oldest.pending} waiting)",
                "how": "make sure a sync worker runs (`crmsync worker`, or `crmsync serve`, "
                "which runs one unless --no-worker) and keeps up (start more); if the CRM's "
                "quota is spent (quota[]), the changes wait for it",
            }
        )
    if health.dead_letters and not invalid:
        steps.append(
            {
                "action": "replay",
                "why": f"{health.dead_letters} dead letter(s)",
                "how": "POST /api/v1/sync-jobs/replay-all",
            }
        )
    return steps


def _recent_errors(session: Session, integration_id: uuid.UUID) -> list[tuple[str | None, str]]:
    rows = session.execute(
        select(SyncJob.error_class, SyncJob.last_error)
        .where(SyncJob.integration_id == integration_id, SyncJob.status.in_(REPLAYABLE))
        .order_by(SyncJob.id.desc())
        .limit(100)
    )
    return [(c, m or "") for c, m in rows]


def flush_quotas(session: Session, book: QuotaBook = BOOK) -> int:
    """Write the quotas CRMs reported since the last flush (the caller commits)."""
    written = 0
    for integration_id, quota, at in book.take_dirty():
        if session.get(Integration, integration_id) is None:
            continue  # deleted meanwhile
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(ApiQuota).values(
            id=new_id(),
            integration_id=integration_id,
            name=quota.name,
            used=quota.used,
            limit=quota.limit,
            observed_at=at,
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["integration_id", "name"],
                set_={"used": quota.used, "limit": quota.limit, "observed_at": at},
            )
        )
        written += 1
    return written
