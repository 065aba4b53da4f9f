"""The typed form of an integration's sync configuration (``Integration.config``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crmsync.sync.schedule import parse as parse_frequency


class Direction(StrEnum):
    OUTBOUND = "outbound"  # app -> CRM
    INBOUND = "inbound"  # CRM -> app
    BOTH = "both"
    NONE = "none"


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


class SyncConfig(BaseModel):
    """What an integration syncs, how often, and how it settles disagreements."""

    model_config = ConfigDict(extra="forbid")

    objects: dict[str, Direction] = Field(
        default_factory=dict, description="object type -> direction, e.g. {'contacts': 'both'}"
    )
    frequency: str = Field("1h", description="polling interval (30s, 15m, 1h) or a cron line")
    auto_sync: bool = True
    conflict_policy: ConflictPolicy = ConflictPolicy.LAST_WRITE_WINS
    delete_propagation: bool = Field(False, description="push record deletions to the CRM")
    retry: RetrySettings = Field(default_factory=RetrySettings)
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

    @field_validator("frequency")
    @classmethod
    def _valid_frequency(cls, value: str) -> str:
        parse_frequency(value)  # raises with what is accepted
        return value.strip()

    def pushes(self, object_type: str) -> bool:
        return self.auto_sync and self.objects.get(object_type) in (
            Direction.OUTBOUND,
            Direction.BOTH,
        )

    def pulls(self, object_type: str) -> bool:
        return self.objects.get(object_type) in (Direction.INBOUND, Direction.BOTH)
