"""``/api/v1/conflicts``: fields changed on both sides, waiting for a person."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, model_validator

from crmsync.api.deps import CanOperateSync, CanReadIntegrations, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.store.models import Conflict, ConflictStatus
from crmsync.sync.conflicts import Resolution, list_conflicts, resolve

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/conflicts", tags=["sync"])


class ConflictOut(BaseModel):
    id: uuid.UUID
    integration_id: uuid.UUID
    record_type: str
    record_id: uuid.UUID
    field: str
    local_value: Any
    local_at: datetime | None
    remote_value: Any
    remote_at: datetime | None
    status: ConflictStatus
    resolution: Resolution | None  # `agreed`: the two sides came to the same value
    created_at: datetime
    resolved_at: datetime | None


class ConflictPage(BaseModel):
    items: list[ConflictOut]
    next_cursor: str | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # what a person picks (crmsync.sync.conflicts.CHOICES); `agreed` only happens
    resolution: Literal["local", "remote", "custom"]
    value: Any = None

    @model_validator(mode="after")
    def _value_only_for_custom(self) -> ResolveIn:
        if self.resolution != Resolution.CUSTOM and self.value is not None:
            raise ValueError("value is only given with resolution 'custom'")
        return self


def _out(conflict: Conflict) -> dict[str, Any]:
    return {name: getattr(conflict, name) for name in ConflictOut.model_fields}


def _cursor(conflict: Conflict) -> str:
    raw = f"{conflict.created_at.isoformat()}|{conflict.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        after = datetime.fromisoformat(at)
        after.astimezone(UTC)  # a crafted time outside UTC's range is refused here
        return after, uuid.UUID(ident)
    except (ValueError, OverflowError):
        raise ApiError(422, "validation_error", "cursor is not one this API returned") from None


@router.get("", response_model=ConflictPage, summary="List conflicts (open by default)")
def get_conflicts(
    principal: CanReadIntegrations,
    db: Db,
    status: ConflictStatus | None = ConflictStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> JSON:
    items = list_conflicts(
        db,
        principal.workspace_id,
        status=status,
        limit=limit + 1,
        after=_after(cursor) if cursor else None,
    )
    more = len(items) > limit
    items = items[:limit]
    next_cursor = _cursor(items[-1]) if more and items else None
    return JSON({"items": [_out(c) for c in items], "next_cursor": next_cursor})


@router.post("/{conflict_id}/resolve", response_model=ConflictOut, summary="Resolve a conflict")
def resolve_conflict(
    principal: CanOperateSync, db: Db, conflict_id: uuid.UUID, body: ResolveIn
) -> JSON:
    """`local` keeps the app's value (and pushes it), `remote` takes the CRM's, `custom`
    sets `value` everywhere. (`agreed` is not a choice: a read closes a conflict with it
    when the two sides come to hold the same value.)"""
    choice = Resolution(body.resolution)
    conflict = resolve(db, principal.workspace_id, conflict_id, choice, body.value)
    db.commit()
    return JSON(_out(conflict))
