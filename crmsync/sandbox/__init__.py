"""Local emulators of the CRMs crmsync talks to (HubSpot, Salesforce, Pipedrive,
Total Expert and a generic REST CRM), for tests, benchmarks and trying crmsync
without a CRM account.

Each provider is a subpackage exposing a `ProviderSandbox` subclass named ``Sandbox``,
named after the provider (a provider's spec, ``ProviderSpec.sandbox``, names it too).
`PROVIDERS` maps each name to its package, found on disk and imported only when asked for;
the sandbox imports nothing else of crmsync, so it runs on its own.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from crmsync.sandbox.base import ProviderSandbox, SandboxOptions

PROVIDERS: dict[str, str] = {
    module.name: f"{__name__}.{module.name}"
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    if module.ispkg
}


class UnknownProvider(LookupError):
    """The provider name is not registered, or its package is not installed."""


def provider_class(name: str, registry: Mapping[str, str] = PROVIDERS) -> type[ProviderSandbox]:
    """The ``Sandbox`` class of provider `name` (looked up in `registry`)."""
    try:
        module_path = registry[name]
    except KeyError:
        known = ", ".join(registry)
        raise UnknownProvider(f"unknown sandbox provider {name!r}; known: {known}") from None
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_path.startswith(exc.name):
            raise UnknownProvider(
                f"sandbox provider {name!r} is registered but {module_path} is not available"
            ) from exc
        raise
    cls: type[ProviderSandbox] = module.Sandbox
    return cls


def create(name: str, options: SandboxOptions | None = None) -> ProviderSandbox:
    """A fresh sandbox of provider `name`."""
    return provider_class(name)(options)


def available() -> list[str]:
    """Registered providers whose packages import."""
    names = []
    for name in PROVIDERS:
        try:
            provider_class(name)
        except UnknownProvider:
            continue
        names.append(name)
    return names


__all__ = [
    "PROVIDERS",
    "ProviderSandbox",
    "SandboxOptions",
    "UnknownProvider",
    "available",
    "create",
    "provider_class",
]
