"""Salesforce's connector settings in an integration's ``config``: ``external_ids`` names
the upsert key of each object type (a field API name)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crmsync.connectors.salesforce.mappers import SOBJECTS
from crmsync.connectors.spec import SettingRefused

__all__ = ["check"]

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


def check(values: Mapping[str, Any], synced: frozenset[str] = frozenset()) -> None:
    """``SettingRefused`` for an unknown object type or a field that is no API name."""
    for object_type, field in (values.get("external_ids") or {}).items():
        key = f"external_ids.{object_type}"
        if object_type not in SOBJECTS:
            known = ", ".join(sorted(SOBJECTS))
            raise SettingRefused(key, f"not an object type (known: {known})")
        if not _API_NAME.match(field):
            raise SettingRefused(key, f"{field!r} is not a field API name")
