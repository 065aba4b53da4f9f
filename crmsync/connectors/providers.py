"""The registry of providers: every ``crmsync.connectors.<package>.spec.SPEC``.

A provider is one package under ``crmsync/connectors/`` whose ``spec.py`` declares a
``ProviderSpec``; it is found here without being listed anywhere else. The provider
tables of crmsync (connector factories, credentials, OAuth apps, hosts, rate profiles,
error hooks, connector settings, default mappings, sandboxes) are views over ``specs``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

import crmsync.connectors
from crmsync.connectors.errors import ConfigError

if TYPE_CHECKING:
    # only for annotations: the HTTP layer looks providers up here, and the spec module
    # builds on the HTTP layer
    from crmsync.connectors.spec import ProviderSpec

__all__ = ["aliases", "canonical", "find", "get", "names", "specs"]


@cache
def specs() -> Mapping[str, ProviderSpec]:
    """Provider name -> spec, by name."""
    found: dict[str, ProviderSpec] = {}
    for module in sorted(pkgutil.iter_modules(crmsync.connectors.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        try:
            spec_module = importlib.import_module(f"crmsync.connectors.{module.name}.spec")
        except ModuleNotFoundError as exc:
            if exc.name == f"crmsync.connectors.{module.name}.spec":
                continue  # a package of shared code (http), not a provider
            raise
        spec: ProviderSpec = spec_module.SPEC
        if spec.name in found:
            raise RuntimeError(f"two provider packages declare {spec.name!r}")
        found[spec.name] = spec
    return dict(sorted(found.items()))


def names() -> list[str]:
    """Every provider's name, sorted."""
    return list(specs())


def aliases() -> Mapping[str, str]:
    """Former names -> the provider's own name."""
    return {alias: spec.name for spec in specs().values() for alias in spec.aliases}


def canonical(name: str) -> str:
    """``name`` with an alias resolved to the provider's own name."""
    return aliases().get(name, name)


def find(name: str) -> ProviderSpec | None:
    """The spec of ``name`` (or of the provider it is an alias of), if there is one."""
    return specs().get(canonical(name))


def get(name: str) -> ProviderSpec:
    """The spec of ``name``; ``ConfigError`` lists the known providers."""
    spec = find(name)
    if spec is None:
        known = ", ".join(names())
        raise ConfigError(f"no connector for provider {name!r} (available: {known})")
    return spec
