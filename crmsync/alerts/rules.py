"""What is wrong now: each rule reads the store and returns findings.

Conditions that can clear (credentials fixed, failures back to normal) are **stateful**:
their alert resolves when a check no longer finds them. An import with failed rows, or one
that failed as a whole, is an event: its alert stays until someone acknowledges it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crmsync.outbound.webhooks.endpoints import BY_A_USER
from crmsync.store.models import (
    ImportJob,
    ImportStatus,
    Integration,
    IntegrationStatus,
    SyncJob,
    SyncJobStatus,
    SyncRun,
    WebhookEndpoint,
)

NEEDS_AUTH: Final = "integration.needs_auth"
FAILURE_RATE: Final = "sync.failure_rate"
DEAD_LETTERS: Final = "sync.dead_letters"
ENDPOINT_DISABLED: Final = "webhook_endpoint.disabled"
IMPORT_FAILED_ROWS: Final = "import.failed_rows"
IMPORT_FAILED: Final = "import.failed"
QUALITY_DROP: Final = "quality.rejection_rate"
STATEFUL: Final = frozenset(
    {NEEDS_AUTH, FAILURE_RATE, DEAD_LETTERS, ENDPOINT_DISABLED, QUALITY_DROP}
)


@dataclass(frozen=True)
class Thresholds:
    failure_window: timedelta = timedelta(minutes=15)
    failure_rate: float = 0.5  # share of a window's synced records that failed
    failure_min_records: int = 10  # below this a window says nothing
    dead_letters: int = 10  # dead jobs of one integration
    import_window: timedelta = timedelta(days=1)
    # data quality: the share of a workspace's imported rows rejected (failed validation
    # or parsing) across the imports finished within the window
    quality_window: timedelta = timedelta(days=1)
    quality_rejection_rate: float = 0.1
    quality_min_rows: int = 100  # below this a window says nothing
    quality_baseline: timedelta = timedelta(days=7)  # the window before, for comparison


@dataclass(frozen=True)
class Finding:
    workspace_id: uuid.UUID
    kind: str
    subject: str
    severity: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def detect(session: Session, now: datetime, limits: Thresholds = Thresholds()) -> list[Finding]:
    return [
        *_needs_auth(session),
        *_failure_rate(session, now, limits),
        *_dead_letters(session, limits),
        *_disabled_endpoints(session),
        *_imports(session, now, limits),
        *_quality(session, now, limits),
    ]


def _needs_auth(session: Session) -> list[Finding]:
    rows = session.execute(
        select(
            Integration.workspace_id, Integration.id, Integration.name, Integration.last_error
        ).where(Integration.status == IntegrationStatus.NEEDS_AUTH)
    )
    return [
        Finding(
            ws,
            NEEDS_AUTH,
            str(iid),
            "critical",
            f"{name}: the CRM refused crmsync's credentials; reconnect it "
            "(its sync jobs wait meanwhile)",
            {"integration_id": str(iid), "last_error": error},
        )
        for ws, iid, name, error in rows
    ]


def _failure_rate(session: Session, now: datetime, limits: Thresholds) -> list[Finding]:
    rows = session.execute(
        select(
            SyncRun.workspace_id,
            SyncRun.integration_id,
            func.sum(SyncRun.processed),
            func.sum(SyncRun.failed),
        )
        .where(SyncRun.started_at >= now - limits.failure_window)
        .group_by(SyncRun.workspace_id, SyncRun.integration_id)
    )
    out = []
    for ws, iid, processed, failed in rows:
        processed, failed = int(processed or 0), int(failed or 0)
        if processed >= limits.failure_min_records and failed / processed >= limits.failure_rate:
            minutes = int(limits.failure_window.total_seconds() // 60)
            out.append(
                Finding(
                    ws,
                    FAILURE_RATE,
                    str(iid),
                    "warning",
                    f"{failed} of {processed} records failed to sync in the last {minutes} "
                    "minutes; see the integration's sync logs and dead letters",
                    {"integration_id": str(iid), "processed": processed, "failed": failed},
                )
            )
    return out


def _dead_letters(session: Session, limits: Thresholds) -> list[Finding]:
    rows = session.execute(
        select(SyncJob.workspace_id, SyncJob.integration_id, func.count())
        .where(SyncJob.status == SyncJobStatus.DEAD)
        .group_by(SyncJob.workspace_id, SyncJob.integration_id)
        .having(func.count() >= limits.dead_letters)
    )
    return [
        Finding(
            ws,
            DEAD_LETTERS,
            str(iid),
            "warning",
            f"{count} sync jobs are dead letters; fix their cause, then replay them "
            "(crmsync dlq replay, or POST /api/v1/sync-jobs/replay)",
            {"integration_id": str(iid), "dead": int(count)},
        )
        for ws, iid, count in rows
    ]


def _disabled_endpoints(session: Session) -> list[Finding]:
    rows = session.execute(
        select(
            WebhookEndpoint.workspace_id,
            WebhookEndpoint.id,
            WebhookEndpoint.url,
            WebhookEndpoint.disabled_reason,
        ).where(
            WebhookEndpoint.enabled.is_(False),
            ~WebhookEndpoint.disabled_reason.startswith(BY_A_USER, autoescape=True),
        )
    )
    return [
        Finding(
            ws,
            ENDPOINT_DISABLED,
            str(eid),
            "warning",
            f"webhook endpoint {url} was disabled: {reason}; fix it, then enable it again",
            {"endpoint_id": str(eid), "url": url},
        )
        for ws, eid, url, reason in rows
    ]


def _imports(session: Session, now: datetime, limits: Thresholds) -> list[Finding]:
    """Imports finished in the window with failed rows (a warning), and imports that
    stopped as a whole (unreadable file, a limit, a lost database: critical)."""
    rows = session.execute(
        select(
            ImportJob.workspace_id,
            ImportJob.id,
            ImportJob.filename,
            ImportJob.status,
            ImportJob.error,
            ImportJob.failed,
            ImportJob.processed,
        ).where(
            ImportJob.finished_at >= now - limits.import_window,
            or_(ImportJob.failed > 0, ImportJob.status == ImportStatus.FAILED),
        )
    )
    out = []
    for ws, job_id, filename, status, error, failed, processed in rows:
        ids = {"import_id": str(job_id), "processed": processed}
        if status == ImportStatus.FAILED:
            reason = error or "no reason kept"
            message = (
                f"import of {filename} failed after {processed} rows: {reason}; fix the file "
                "or the limit, then start it again (it resumes where it stopped)"
            )
            out.append(Finding(ws, IMPORT_FAILED, str(job_id), "critical", message,
                               {**ids, "error": error}))  # fmt: skip
        if failed:
            message = (
                f"import of {filename}: {failed} of {processed} rows failed; download the "
                "error report, fix the rows and retry them"
            )
            out.append(Finding(ws, IMPORT_FAILED_ROWS, str(job_id), "warning", message,
                               {**ids, "failed": failed}))  # fmt: skip
    return out


def _rejections(
    session: Session, since: datetime, until: datetime
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per workspace: (rows read, rows rejected) of the imports finished in [since, until),
    undone imports left out."""
    rows = session.execute(
        select(ImportJob.workspace_id, func.sum(ImportJob.processed), func.sum(ImportJob.failed))
        .where(
            ImportJob.finished_at >= since,
            ImportJob.finished_at < until,
            ImportJob.undone_at.is_(None),
        )
        .group_by(ImportJob.workspace_id)
    )
    return {ws: (int(read or 0), int(failed or 0)) for ws, read, failed in rows}


def _quality(session: Session, now: datetime, limits: Thresholds) -> list[Finding]:
    start = now - limits.quality_window
    current = _rejections(session, start, now)
    before = _rejections(session, start - limits.quality_baseline, start)
    out = []
    for ws, (read, failed) in sorted(current.items()):
        if read < limits.quality_min_rows or failed / read < limits.quality_rejection_rate:
            continue
        rate = failed / read
        base_read, base_failed = before.get(ws, (0, 0))
        baseline = base_failed / base_read if base_read else None
        was = (
            f" (the {limits.quality_baseline.days} days before: {baseline:.0%})"
            if (baseline is not None)
            else ""
        )
        hours = int(limits.quality_window.total_seconds() // 3600)
        out.append(
            Finding(
                ws,
                QUALITY_DROP,
                str(ws),
                "warning",
                f"data quality dropped: {rate:.0%} of {read} imported rows were rejected in "
                f"the last {hours} hours{was}; see the imports' error reports",
                {
                    "rows": read,
                    "rejected": failed,
                    "rate": round(rate, 4),
                    "baseline_rate": None if baseline is None else round(baseline, 4),
                    "threshold": limits.quality_rejection_rate,
                },
            )
        )
    return out
