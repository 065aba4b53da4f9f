"""The connector settings in an integration's ``config``, checked per provider.

``definition`` / ``definition_name`` pick a generic REST CRM's definition,
``external_ids`` names Salesforce's upsert key per object type, and ``custom_objects``
the HubSpot custom object that holds a crmsync type (``properties``). Each applies to one
provider; a key for another provider, or a value its connector would refuse, is a
``RecordInvalid`` (422) naming the key, so a bad setting fails when it is saved rather
than at the first sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.names import canonical
from crmsync.integrations.config import Direction, SyncConfig
from crmsync.records.errors import RecordInvalid

__all__ = ["KEYS", "check"]

# connector setting -> the provider whose connector reads it
KEYS: Mapping[str, str] = {
    "definition": "generic",
    "definition_name": "generic",
    "external_ids": "salesforce",
    "custom_objects": "hubspot",
}

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
# a custom object's objectTypeId (2-123) or its fully qualified name (p_…)
_CUSTOM_OBJECT = re.compile(r"^(2-[0-9]{1,18}|p_[A-Za-z0-9_]{1,100})$")


def _refuse(key: str, message: str) -> RecordInvalid:
    return RecordInvalid(f"config.{key}: {message}", {"field": f"config.{key}"})


def _check_generic(values: Mapping[str, Any]) -> None:
    # imported here: the REST connector loads only when a generic integration exists
    from crmsync.connectors.rest.definition import from_config

    if "definition" in values and "definition_name" in values:
        raise _refuse("definition", "give definition or definition_name, not both")
    key = "definition" if "definition" in values else "definition_name"
    try:
        from_config(values)
    except ConfigError as error:
        raise _refuse(key, error.message.removeprefix("definition: ")) from None


def _check_salesforce(values: Mapping[str, Any]) -> None:
    from crmsync.connectors.salesforce.mappers import SOBJECTS

    for object_type, field in (values.get("external_ids") or {}).items():
        if object_type not in SOBJECTS:
            known = ", ".join(sorted(SOBJECTS))
            raise _refuse(f"external_ids.{object_type}", f"not an object type (known: {known})")
        if not _API_NAME.match(field):
            raise _refuse(f"external_ids.{object_type}", f"{field!r} is not a field API name")


def _check_hubspot(values: Mapping[str, Any], config: SyncConfig) -> None:
    from crmsync.connectors.hubspot.connector import CUSTOM_TYPES

    named = values.get("custom_objects") or {}
    for object_type, type_id in named.items():
        if object_type not in CUSTOM_TYPES:
            known = ", ".join(sorted(CUSTOM_TYPES))
            raise _refuse(f"custom_objects.{object_type}", f"not a custom type (known: {known})")
        if not _CUSTOM_OBJECT.match(type_id):
            raise _refuse(
                f"custom_objects.{object_type}",
                f"{type_id!r} is not a custom object's objectTypeId (2-…) or name (p_…)",
            )
    for object_type in sorted(CUSTOM_TYPES - set(named)):
        if config.direction(object_type) != Direction.NONE:
            raise _refuse(
                f"custom_objects.{object_type}",
                f"HubSpot keeps {object_type} in a custom object of the portal's own: "
                "name its objectTypeId",
            )


def check(provider: str, config: SyncConfig) -> None:
    """``RecordInvalid`` naming the first connector setting ``provider`` cannot use."""
    name = canonical(provider)
    values = config.model_dump(include=set(KEYS), exclude_none=True)
    for key in values:
        if KEYS[key] != name:
            raise _refuse(key, f"applies to {KEYS[key]} integrations, not {name}")
    if name == "generic":
        _check_generic(values)
    elif name == "salesforce":
        _check_salesforce(values)
    elif name == "hubspot":
        _check_hubspot(values, config)
