"""Resolving the status maps an import's value maps reuse, into plain value tables.

A value map may name ``<provider>/<map>`` (a shipped default mapping's status map, such
as ``salesforce/lead_status``) or ``<integration id>/<map>`` (that integration's mapping
in effect). The map's ``inbound`` table (CRM value -> canonical value) becomes the value
map's entries, under the entries it lists itself. Jobs store the resolved tables, so a
later change to the integration does not change a job half-way.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.orm import Session

from crmsync.imports.errors import InvalidOptions
from crmsync.imports.valuemaps import ValueMap
from crmsync.integrations.service import get_integration
from crmsync.mapping.defaults import PROVIDERS, default_mapping
from crmsync.mapping.model import MappingSet
from crmsync.records.errors import RecordNotFound
from crmsync.sync.targets import mapping_for


def _mapping(session: Session, workspace_id: uuid.UUID, owner: str) -> MappingSet:
    if owner in PROVIDERS:
        return default_mapping(owner)
    try:
        integration_id = uuid.UUID(owner)
        return mapping_for(session, get_integration(session, workspace_id, integration_id))
    except (ValueError, RecordNotFound):
        raise InvalidOptions(
            f"value_maps: {owner!r} is neither a provider ({', '.join(PROVIDERS)}) "
            "nor an integration of this workspace"
        ) from None


def resolve_value_maps(
    session: Session, workspace_id: uuid.UUID, maps: Mapping[str, ValueMap]
) -> dict[str, ValueMap]:
    """``maps`` with each ``status_map`` reference replaced by the entries it stands for."""
    out: dict[str, ValueMap] = {}
    for column, value_map in maps.items():
        if value_map.status_map is None:
            out[column] = value_map
            continue
        owner, _, name = value_map.status_map.partition("/")
        status_maps = _mapping(session, workspace_id, owner).status_maps
        if name not in status_maps:
            known = ", ".join(sorted(status_maps)) or "none"
            raise InvalidOptions(f"value_maps: {owner} has no status map {name!r} ({known})")
        entries = {**status_maps[name].inbound, **value_map.values}
        out[column] = value_map.model_copy(update={"values": entries, "status_map": None})
    return out
