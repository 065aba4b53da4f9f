"""HubSpot's connector settings in an integration's ``config``: ``custom_objects`` names
the portal's custom object (its objectTypeId ``2-…`` or name ``p_…``) that holds each
crmsync type HubSpot has no standard object for (``properties``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crmsync.connectors.hubspot.associations import CUSTOM
from crmsync.connectors.spec import SettingRefused

__all__ = ["check"]

# a custom object's objectTypeId (2-123) or its fully qualified name (p_…)
_CUSTOM_OBJECT = re.compile(r"^(2-[0-9]{1,18}|p_[A-Za-z0-9_]{1,100})$")


def check(values: Mapping[str, Any], synced: frozenset[str] = frozenset()) -> None:
    """``SettingRefused`` for an unknown type, a malformed id, or a synced custom type
    without its object."""
    named = values.get("custom_objects") or {}
    for object_type, type_id in named.items():
        key = f"custom_objects.{object_type}"
        if object_type not in CUSTOM:
            raise SettingRefused(key, f"not a custom type (known: {', '.join(sorted(CUSTOM))})")
        if not _CUSTOM_OBJECT.match(type_id):
            raise SettingRefused(
                key, f"{type_id!r} is not a custom object's objectTypeId (2-…) or name (p_…)"
            )
    for object_type in sorted((CUSTOM & synced) - set(named)):
        raise SettingRefused(
            f"custom_objects.{object_type}",
            f"HubSpot keeps {object_type} in a custom object of the portal's own: "
            "name its objectTypeId",
        )
