"""The connector settings in an integration's ``config``, checked per provider.

Each provider's spec names the keys of ``config`` its connector reads and checks them
(``ProviderSpec.config_keys``, ``check_config``): ``definition`` / ``definition_name``
pick a generic REST CRM's definition and ``external_ids`` names Salesforce's upsert key
per object type, ``custom_objects`` the HubSpot custom object that holds a crmsync type
(``properties``). A key for another provider, or a value its connector would refuse, is a
``RecordInvalid`` (422) naming the key, so a bad setting fails when it is saved rather
than at the first sync.
"""

from __future__ import annotations

from collections.abc import Mapping

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.providers import canonical, specs
from crmsync.connectors.spec import SettingRefused
from crmsync.integrations.config import SyncConfig
from crmsync.mapping.direction import SyncDirection
from crmsync.records.errors import RecordInvalid

__all__ = ["check", "keys"]


def keys() -> Mapping[str, str]:
    """Connector setting -> the provider whose connector reads it."""
    return {key: name for name, spec in specs().items() for key in spec.config_keys}


def _refuse(key: str, message: str) -> RecordInvalid:
    return RecordInvalid(f"config.{key}: {message}", {"field": f"config.{key}"})


def check(provider: str, config: SyncConfig) -> None:
    """``RecordInvalid`` naming the first connector setting ``provider`` cannot use."""
    name = canonical(provider)
    owners = keys()
    values = config.model_dump(include=set(owners), exclude_none=True)
    for key in values:
        if owners[key] != name:
            raise _refuse(key, f"applies to {owners[key]} integrations, not {name}")
    spec = specs().get(name)
    if spec is None:
        return
    try:
        objects = spec.supported_objects(values)
    except ConfigError:  # a definition that does not load: the check below names it
        objects = frozenset()
    synced = frozenset(t for t in objects if config.direction(t) != SyncDirection.NONE)
    try:
        spec.check_settings(values, synced)
    except SettingRefused as refused:
        raise _refuse(refused.key, refused.message) from None
