"""The object types the sync worker pushes with marketing's handlers instead of the
record push: enrolments and timeline entries. They ride the same outbox (SyncJob), so
claims, leases, retries, dead letters and replay are the engine's own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from crmsync.marketing import enrollment_push, enrollments, timeline
from crmsync.sync.jobs import Claim
from crmsync.sync.push_target import PushCounts, Target
from crmsync.sync.settle import Settlement

__all__ = ["PUSHERS", "Pusher"]


@dataclass(frozen=True)
class Pusher:
    claim_limit: int  # jobs per claim (one batch call's worth)
    push: Callable[[Session, Claim, Target, Settlement, datetime], PushCounts]


PUSHERS: dict[str, Pusher] = {
    enrollments.OBJECT_TYPE: Pusher(enrollment_push.CLAIM_LIMIT, enrollment_push.push),
    timeline.OBJECT_TYPE: Pusher(timeline.CLAIM_LIMIT, timeline.push),
}
