"""``ProviderSpec``: everything crmsync knows about one CRM, declared once.

Each provider package holds a ``spec.py`` with one ``SPEC``; ``connectors.providers``
collects them, and every table about providers (connector factories, credential sets,
OAuth apps, allowed hosts, rate profiles, error hooks, connector settings, default
mappings, sandboxes) is a view over that registry. A spec is plain data: its module
imports no connector code, and names the connector, the object list and the sandbox by
import path so that a provider's code loads only when an integration of it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crmsync.connectors.base import Capabilities
from crmsync.connectors.errors import ClassifierHook, ConfigError
from crmsync.connectors.http.ratelimit import RateProfile
from crmsync.connectors.oauth_app import OAuthApp
from crmsync.fields.views import RELATIONS, Relation
from crmsync.mapping.defaults import default_mapping

__all__ = ["ConfigCheck", "ProviderSpec", "SettingRefused", "load"]


class SettingRefused(ConfigError):
    """A connector setting in an integration's ``config`` that the connector would refuse;
    ``key`` names it (``external_ids.contacts``)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


ConfigCheck = Callable[[Mapping[str, Any], frozenset[str]], None]
"""Checks a provider's own settings of ``Integration.config``; raises ``SettingRefused``."""


def load(target: str) -> Any:
    """The object at ``"package.module:attribute.path"``, imported on first use."""
    module_name, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One CRM provider.

    ``connector``, ``objects`` and ``check_config`` are ``"module:attribute"`` paths:
    the connector factory (``ConnectorContext -> Connector``); what the connector can
    sync (its ``Capabilities``, a mapping keyed by object type, or a function of the
    connector settings); and a ``ConfigCheck`` of those settings. ``sandbox`` names the emulator's
    package (``crmsync.sandbox`` imports nothing from crmsync, so it is referred to by
    name). ``default_mapping`` names a YAML file of ``crmsync.mapping.providers``.
    """

    name: str
    label: str
    connector: str
    objects: str
    # None: the user must give the API's URL (generic REST CRMs)
    api_url: str | None
    # one of these sets must be complete; ``optional`` names the others accepted
    credential_sets: tuple[frozenset[str], ...]
    optional: frozenset[str] = frozenset()
    # the authorization-code app (consent page); None: no consent flow
    oauth: OAuthApp | None = None
    # "*.example.com" matches any subdomain (not example.com itself); "*" any public host
    hosts: tuple[str, ...] = ()
    rate_profiles: tuple[RateProfile, ...] = ()
    error_hooks: tuple[ClassifierHook, ...] = ()
    # keys of Integration.config only this provider's connector reads, and their check
    config_keys: frozenset[str] = frozenset()
    check_config: str | None = None
    default_mapping: str = ""
    sandbox: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def allowed(self) -> frozenset[str]:
        """Every credential name this provider accepts."""
        return frozenset().union(*self.credential_sets, self.optional)

    def check_settings(
        self, values: Mapping[str, Any], synced: frozenset[str] = frozenset()
    ) -> None:
        """``SettingRefused`` naming the first connector setting the connector would refuse
        (or needs: ``synced`` names the object types the integration syncs)."""
        if self.check_config is not None:
            check: ConfigCheck = load(self.check_config)
            check(values, synced)

    def missing_credentials(self, values: Mapping[str, Any]) -> tuple[list[str], str | None]:
        """The unknown credential names, and what is missing (``None``: complete)."""
        unknown = sorted(set(values) - self.allowed)
        given = {k for k, v in values.items() if v not in (None, "")}
        if any(needed <= given for needed in self.credential_sets):
            return unknown, None
        return unknown, " or ".join(" + ".join(sorted(s)) for s in self.credential_sets)

    def relations(self, config: Mapping[str, Any]) -> dict[Relation, str]:
        """How the object types it syncs relate: each canonical reference (``fields``)
        between two of them that its default mapping carries, with the remote property
        that carries it (a HubSpot deal's contact: ``associations:contacts``)."""
        objects = self.supported_objects(config)
        mapped = {str(k): v for k, v in default_mapping(self.default_mapping).objects.items()}
        found: dict[Relation, str] = {}
        for relation in RELATIONS:
            if relation.source not in objects or relation.target not in objects:
                continue
            fields = mapped[relation.source].fields if relation.source in mapped else []
            carried = [f.target for f in fields if f.source == relation.field]
            if carried:
                found[relation] = carried[0]
        return found

    def supported_objects(self, config: Mapping[str, Any]) -> frozenset[str]:
        """The object types this provider's connector can sync under ``config`` (its
        connector settings)."""
        found = load(self.objects)
        if isinstance(found, Capabilities):
            return frozenset(found.objects)
        if callable(found):
            return frozenset(found(config))
        return frozenset(found)
