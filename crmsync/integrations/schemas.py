"""The API's shapes of an integration: what comes in, and what goes out (masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crmsync.connectors.http.secret import SecretDict, mask
from crmsync.integrations.config import SyncConfig
from crmsync.integrations.objects import warnings
from crmsync.store.models import Integration

__all__ = ["IntegrationCreate", "IntegrationPatch", "integration_out"]

CredentialValue = str | int | float


class IntegrationCreate(BaseModel):
    """``POST /api/v1/integrations``."""

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(
        description="hubspot, salesforce, pipedrive, totalexpert or generic (a REST CRM; "
        "'rest' is accepted as an alias)"
    )
    name: str = Field(min_length=1, max_length=200)
    credentials: dict[str, CredentialValue] = Field(
        description="access_token | api_token | client_id + client_secret | api_key"
    )
    base_url: str | None = Field(None, description="defaults to the provider's real API URL")
    config: SyncConfig = Field(
        default_factory=SyncConfig,
        description="without objects: the provider's contacts, companies and deals, both ways",
    )
    rate_limit_profile: str | None = Field(None, description="e.g. hubspot-professional")


class IntegrationPatch(BaseModel):
    """``PATCH /api/v1/integrations/{id}``: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    credentials: dict[str, CredentialValue] | None = Field(
        None, description="replaces every stored credential"
    )
    base_url: str | None = None
    config: SyncConfig | None = None
    rate_limit_profile: str | None = None
    status: Literal["connected", "disabled"] | None = Field(
        None, description="disable an integration, or enable it again"
    )


_SHOWN_AS_IS = frozenset({"expires_at", "instance_url", "api_domain", "client_id"})


def masked(credentials: SecretDict) -> dict[str, Any]:
    """Credentials as the API shows them: secrets masked, harmless facts as they are."""
    return {k: (v if k in _SHOWN_AS_IS else mask(str(v))) for k, v in sorted(credentials.items())}


def integration_out(
    integration: Integration,
    credentials: SecretDict | None,
    health: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON answer for one integration (``credentials`` None: they do not decrypt).

    ``health`` (``sync.health.summaries``): the shown status (``degraded`` while an
    object type fails or dead letters arrive), the failing object types and the
    dead-letter count."""
    health = health or {}
    return {
        "id": str(integration.id),
        "provider": integration.provider,
        "name": integration.name,
        "status": health.get("status", integration.status),
        "failing_objects": health.get("failing_objects", []),
        "dead_letters": health.get("dead_letters", 0),
        "base_url": integration.base_url,
        "credentials": masked(credentials) if credentials is not None else None,
        "config": integration.config,
        "rate_limit_profile": integration.rate_limit_profile,
        "error_count": integration.error_count,
        "last_error": integration.last_error,
        "last_error_at": _iso(integration.last_error_at),
        "created_at": _iso(integration.created_at),
        "updated_at": _iso(integration.updated_at),
        "warnings": warnings(integration.config),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
