"""What an integration syncs when ``config.objects`` is not given, and the warning when
it syncs nothing.

A CRM connected without ``objects`` syncs the provider's core objects both ways
(contacts, companies and deals, as far as its connector and default mapping have them).
An explicit ``{}`` (or every object at ``none``) stays "nothing", and the API's answer
says so in ``warnings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.connectors import providers
from crmsync.connectors.providers import canonical
from crmsync.integrations.config import SyncConfig
from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.direction import SyncDirection
from crmsync.records.errors import RecordInvalid

__all__ = ["CORE_OBJECTS", "NOTHING_SYNCS", "check_supported", "default_objects", "warnings"]

CORE_OBJECTS = ("contacts", "companies", "deals")

NOTHING_SYNCS = (
    "config.objects names no object to sync: nothing will sync with this CRM. "
    'Set e.g. {"contacts": "both"}, or leave objects out for the provider\'s core objects.'
)


def _connector_objects(provider: str, config: SyncConfig) -> set[str]:
    spec = providers.get(provider)
    settings = config.model_dump(include=set(spec.config_keys), exclude_none=True)
    return set(spec.supported_objects(settings))


def default_objects(provider: str, config: SyncConfig) -> dict[str, SyncDirection]:
    """The core objects ``provider`` can sync, both ways."""
    name = canonical(provider)
    mapped = {str(o) for o in default_mapping(providers.get(name).default_mapping).objects}
    supported = _connector_objects(name, config) & mapped
    return {o: SyncDirection.BOTH for o in CORE_OBJECTS if o in supported}


def check_supported(provider: str, config: SyncConfig) -> None:
    """``RecordInvalid`` (422) naming the first object type in ``config.objects`` that the
    provider's connector cannot sync; ``none`` entries are not checked.

    Supported means declared in the connector's capabilities, so a type a connector learns
    is accepted as soon as it declares it.
    """
    name = canonical(provider)
    wanted = [o for o in config.objects if config.direction(o) != SyncDirection.NONE]
    if not wanted:
        return
    supported = _connector_objects(name, config)
    for object_type in wanted:
        if object_type not in supported:
            known = ", ".join(sorted(supported))
            raise RecordInvalid(
                f"config.objects.{object_type}: {name} integrations cannot sync "
                f"{object_type!r}; they sync {known} (remove it or set it to 'none')",
                {"field": f"config.objects.{object_type}", "supported": sorted(supported)},
            )


def warnings(config: Mapping[str, Any] | None) -> list[str]:
    """What the API's answer warns about in a stored configuration."""
    objects = SyncConfig.model_validate({"objects": (config or {}).get("objects") or {}})
    if all(objects.direction(o) == SyncDirection.NONE for o in objects.objects):
        return [NOTHING_SYNCS]
    return []
