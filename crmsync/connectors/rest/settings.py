"""The generic REST connector's settings in an integration's ``config``: ``definition``
(the definition itself) or ``definition_name`` (a built-in one), not both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.rest.definition import from_config
from crmsync.connectors.spec import SettingRefused

__all__ = ["check", "objects"]


def check(values: Mapping[str, Any], synced: frozenset[str] = frozenset()) -> None:
    """``SettingRefused`` when both are given or the definition does not load."""
    if "definition" in values and "definition_name" in values:
        raise SettingRefused("definition", "give definition or definition_name, not both")
    key = "definition" if "definition" in values else "definition_name"
    try:
        from_config(values)
    except ConfigError as error:
        raise SettingRefused(key, error.message.removeprefix("definition: ")) from None


def objects(values: Mapping[str, Any]) -> list[str]:
    """The object types the integration's definition describes."""
    return list(from_config(values).objects)
