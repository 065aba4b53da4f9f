"""The default mapping of each provider, shipped as YAML files in the package.

A file is named after the provider (``crmsync/mapping/providers/<name>.yaml``) and a
provider's spec names its file (``ProviderSpec.default_mapping``); callers resolve a
provider's aliases through its spec before asking here.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from crmsync.mapping.errors import MappingError
from crmsync.mapping.model import MappingSet
from crmsync.mapping.yaml_io import mapping_from_yaml

_FILES = resources.files("crmsync.mapping.providers")

PROVIDERS: Final = tuple(
    sorted(p.name.removesuffix(".yaml") for p in _FILES.iterdir() if p.name.endswith(".yaml"))
)


@cache
def _load(provider: str) -> MappingSet:
    return mapping_from_yaml(_FILES.joinpath(f"{provider}.yaml").read_text())


def default_mapping(provider: str) -> MappingSet:
    """A fresh copy of the default mapping called ``provider``, safe to edit."""
    if provider not in PROVIDERS:
        raise MappingError(f"no default mapping for provider {provider!r}; known: {PROVIDERS}")
    return _load(provider).model_copy(deep=True)
