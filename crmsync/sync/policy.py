"""What the worker does about a failed push: one table from error class to action.

| error class    | action                                                          |
|----------------|-----------------------------------------------------------------|
| AuthError      | integration -> needs_auth; its jobs wait, no attempt spent       |
| ConfigError    | the object type backs off alone; its jobs wait, no attempt spent |
| InvalidRecord  | the job fails, no retry; the error is kept and shown             |
| NotFound       | the Link is dropped and the job runs again at once (recreate)    |
| RateLimited    | the job waits ``retry_after``; no attempt spent                  |
| Transient      | backoff 1, 2, 4, 8, 16 s with jitter; after the last attempt: dead |
| Unexpected     | (any other exception once a group is claimed) as Transient       |

Only credentials concern the whole integration. Anything else that fails a whole push
is the object type's (``sync.object_state``): that type backs off, the others go on,
and the integration shows ``degraded`` until the type pushes again.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from crmsync.connectors.errors import Action, AuthError, ConnectorError, RateLimited, Transient
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.integrations.config import RetrySettings
from crmsync.store.models import Integration, IntegrationStatus, SyncJobStatus
from crmsync.sync.jobs import ClaimedJob
from crmsync.sync.settle import Settlement

# Paused jobs are looked at again after this long; they are only claimed once the
# integration is connected again, so this is just how often the claim query sees them.
PAUSED_RECHECK = timedelta(minutes=1)
_INTEGRATION_STATUS: dict[type[ConnectorError], IntegrationStatus] = {
    AuthError: IntegrationStatus.NEEDS_AUTH
}
_WHAT_TO_DO = {
    IntegrationStatus.NEEDS_AUTH: "reconnect the integration (its credentials were refused)"
}


class Unexpected(Transient):
    """An exception that is no CRM's answer (a bug, a constraint a settle broke, a lost
    database connection) raised while a claimed group was pushed, settled or pulled. It
    is retried like a 5xx and ends a dead letter, so it can never loop."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}"[:300])


def as_connector_error(error: Exception) -> ConnectorError:
    """The error as the worker's policy sees it: a connector's own, else ``Unexpected``."""
    return error if isinstance(error, ConnectorError) else Unexpected(error)


def retry_policy(settings: RetrySettings) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.attempts,
        base=settings.base_seconds,
        cap=settings.cap_seconds,
        jitter=settings.jitter,
    )


def on_job_error(
    settlement: Settlement,
    job: ClaimedJob,
    error: ConnectorError,
    policy: RetryPolicy,
    now: datetime,
    held: datetime | None = None,
    rng: random.Random | None = None,
) -> SyncJobStatus:
    """Note what becomes of one job after ``error``; returns the job's new status.

    ``held``: until when the job's object type backs off (a job paused for it waits
    that long rather than the usual recheck)."""
    message, kind = error.message, error.kind
    if error.action is Action.SKIP_RECORD:
        settlement.finish(job, SyncJobStatus.FAILED, error=message, error_class=kind)
        return SyncJobStatus.FAILED
    if error.action is Action.RELINK:
        settlement.requeue(job, now, error=message, error_class=kind, count_attempt=False)
        return SyncJobStatus.PENDING
    if error.action is Action.WAIT:
        wait = error.retry_after if isinstance(error, RateLimited) else 1.0
        at = now + timedelta(seconds=wait)
        settlement.requeue(job, at, error=message, error_class=kind, count_attempt=False)
        return SyncJobStatus.PENDING
    if error.action is Action.RETRY:
        if not policy.allows(job.attempts + 2):  # this try was attempt n+1; is there an n+2?
            settlement.finish(job, SyncJobStatus.DEAD, error=message, error_class=kind)
            return SyncJobStatus.DEAD
        at = now + timedelta(seconds=policy.delay(job.attempts, rng))
        settlement.requeue(job, at, error=message, error_class=kind)
        return SyncJobStatus.PENDING
    # GIVE_UP: a person must act; the jobs wait without spending attempts.
    at = max(now + PAUSED_RECHECK, held or now)
    settlement.requeue(job, at, error=message, error_class=kind, count_attempt=False)
    return SyncJobStatus.PENDING


def on_integration_error(
    integration: Integration,
    error: ConnectorError,
    now: datetime,
    *,
    object_type: str | None = None,
) -> None:
    """Record a failed call as the integration's last error, and pause the integration
    if the error concerns all of it (refused credentials)."""
    integration.error_count += 1
    integration.last_error_at = now
    status = next((v for k, v in _INTEGRATION_STATUS.items() if isinstance(error, k)), None)
    if status is not None:
        integration.status = status
        integration.last_error = f"{error.message} — {_WHAT_TO_DO[status]}"
    elif object_type is not None:
        integration.last_error = f"{object_type}: {error.kind}: {error.message}"
    else:
        integration.last_error = error.message
