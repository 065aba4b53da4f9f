"""The providers an integration can be made for, as the integrations service sees them:
the specs of ``connectors.providers``, with unknown names and incomplete credentials
refused as ``RecordInvalid`` (422)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.connectors import providers
from crmsync.connectors.spec import ProviderSpec
from crmsync.records.errors import RecordInvalid

__all__ = ["check_credentials", "provider", "specs"]


def specs() -> Mapping[str, ProviderSpec]:
    """Every provider's spec, by name."""
    return providers.specs()


def provider(name: str) -> ProviderSpec:
    """The provider called ``name`` (or an alias of it); ``RecordInvalid`` lists the known
    ones."""
    found = providers.find(name)
    if found is None:
        raise RecordInvalid(f"unknown provider {name!r}", {"known": providers.names()})
    return found


def check_credentials(spec: ProviderSpec, values: Mapping[str, Any]) -> None:
    """``RecordInvalid`` naming what is missing or unknown."""
    unknown, missing = spec.missing_credentials(values)
    if unknown:
        raise RecordInvalid(
            f"unknown credentials for {spec.name}: {', '.join(unknown)}",
            {"allowed": sorted(spec.allowed)},
        )
    if missing is not None:
        raise RecordInvalid(f"{spec.name} credentials need {missing}")
