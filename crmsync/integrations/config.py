"""The typed form of an integration's sync configuration (``Integration.config``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crmsync.mapping.direction import SyncDirection
from crmsync.sync.schedule import REALTIME, Budget, parse_budget
from crmsync.sync.schedule import parse as parse_frequency


class ConflictPolicy(StrEnum):
    LAST_WRITE_WINS = "last_write_wins"  # field by field, by change time
    CRM_WINS = "crm_wins"
    APP_WINS = "app_wins"
    MANUAL = "manual"  # a Conflict row for a person to resolve


class RetrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attempts: int = Field(5, ge=1, le=50)
    base_seconds: float = Field(1.0, ge=0)
    cap_seconds: float = Field(16.0, ge=0)
    jitter: float = Field(0.2, ge=0, le=1)


class ObjectSync(BaseModel):
    """``config.objects.<type>`` in full: its direction, and its own schedule and batches.

    A bare direction (``"both"``) is the same as ``{"direction": "both"}``: real time, the
    provider's batches and the integration's retry attempts.
    """

    model_config = ConfigDict(extra="forbid")
    direction: SyncDirection = SyncDirection.BOTH
    frequency: str | None = Field(
        None,
        description="how often it syncs: realtime (default), an interval (15m, 1h), hourly, "
        "daily, or a cron line; pushes wait for their slot, polls run at this pace",
    )
    batch_size: int | None = Field(None, ge=1, le=1000, description="records per push at most")
    attempts: int | None = Field(None, ge=1, le=50, description="tries before a dead letter")

    @field_validator("frequency")
    @classmethod
    def _valid_frequency(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in REALTIME:
            return None
        parse_frequency(value)  # raises with what is accepted
        return value.strip()


class RateBudget(BaseModel):
    """An integration's own budget, spent with the provider's (e.g. 10,000 per hour)."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(ge=1, description="requests per window")
    per: str = Field(description="the window: 10s, 1m, 1h, 1d")

    @field_validator("per")
    @classmethod
    def _valid_window(cls, value: str) -> str:
        parse_budget(1, value)  # raises with what is accepted
        return value.strip()

    def budget(self) -> Budget:
        return parse_budget(self.limit, self.per)


class SyncConfig(BaseModel):
    """What an integration syncs, how often, and how it settles disagreements."""

    model_config = ConfigDict(extra="forbid")

    objects: dict[str, SyncDirection | ObjectSync] = Field(
        default_factory=dict,
        description="object type -> direction, e.g. {'contacts': 'both'}, or its full "
        "settings, e.g. {'activities': {'direction': 'outbound', 'frequency': '15m', "
        "'batch_size': 50, 'attempts': 3}}",
    )
    frequency: str = Field("1h", description="polling interval (30s, 15m, 1h) or a cron line")
    auto_sync: bool = True
    conflict_policy: ConflictPolicy = ConflictPolicy.LAST_WRITE_WINS
    delete_propagation: bool = Field(False, description="push record deletions to the CRM")
    retry: RetrySettings = Field(default_factory=RetrySettings)
    rate_budgets: list[RateBudget] = Field(
        default_factory=list,
        description="budgets of this integration's own, spent with the provider's, e.g. "
        "[{'limit': 10000, 'per': '1h'}]",
    )
    webhook_rate_limit: RateBudget | None = Field(
        None,
        description="webhook deliveries accepted per window, e.g. {'limit': 50, 'per': '10s'}; "
        "more are answered 429 with Retry-After",
    )
    # connector settings, read by the provider's connector (checked per provider by
    # integrations.connector_config); absent unless given
    definition: dict[str, Any] | str | None = Field(
        None,
        description="generic REST CRMs: the whole definition, as JSON shaped like its YAML "
        "or as the YAML text",
    )
    definition_name: str | None = Field(
        None, description="generic REST CRMs: a built-in definition (default 'generic')"
    )
    external_ids: dict[str, str] | None = Field(
        None,
        description="Salesforce: object type -> external-id field used as its upsert key",
    )
    custom_objects: dict[str, str] | None = Field(
        None,
        description="HubSpot: crmsync type -> the portal's custom object that holds it, "
        "by objectTypeId or name, e.g. {'properties': '2-7100001'}",
    )

    @field_validator("frequency")
    @classmethod
    def _valid_frequency(cls, value: str) -> str:
        parse_frequency(value)  # raises with what is accepted
        return value.strip()

    def sync_of(self, object_type: str) -> ObjectSync:
        """The full settings of ``object_type`` (direction ``none`` when not configured)."""
        found = self.objects.get(object_type, SyncDirection.NONE)
        return found if isinstance(found, ObjectSync) else ObjectSync(direction=found)

    def direction(self, object_type: str) -> SyncDirection:
        return self.sync_of(object_type).direction

    def pushes(self, object_type: str) -> bool:
        return self.auto_sync and self.direction(object_type) in (
            SyncDirection.OUTBOUND,
            SyncDirection.BOTH,
        )

    def pulls(self, object_type: str) -> bool:
        return self.direction(object_type) in (SyncDirection.INBOUND, SyncDirection.BOTH)

    def attempts(self, object_type: str) -> int:
        """Tries of one push of ``object_type`` before it is a dead letter."""
        return self.sync_of(object_type).attempts or self.retry.attempts
