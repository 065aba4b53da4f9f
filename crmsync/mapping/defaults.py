"""The default mapping of each provider, shipped as YAML files in the package."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from crmsync.connectors.names import canonical
from crmsync.mapping.errors import MappingError
from crmsync.mapping.model import MappingSet
from crmsync.mapping.yaml_io import mapping_from_yaml

PROVIDERS: Final = ("hubspot", "salesforce", "pipedrive", "totalexpert", "generic")


@cache
def _load(provider: str) -> MappingSet:
    text = resources.files("crmsync.mapping.providers").joinpath(f"{provider}.yaml").read_text()
    return mapping_from_yaml(text)


def default_mapping(provider: str) -> MappingSet:
    """A fresh copy of ``provider``'s default mapping, safe to edit (aliases resolved)."""
    provider = canonical(provider)
    if provider not in PROVIDERS:
        raise MappingError(f"no default mapping for provider {provider!r}; known: {PROVIDERS}")
    return _load(provider).model_copy(deep=True)
