"""Resolve an integration into what the worker pushes and polls with: its connector,
mapping, retry policy and region. Connectors are cached per integration and rebuilt
when the integration row changes (new credentials, new base URL, status)."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.config import Settings
from crmsync.connectors import providers
from crmsync.connectors.base import Connector
from crmsync.integrations.config import SyncConfig
from crmsync.integrations.connection import Wiring, connector_for
from crmsync.integrations.keys import vault_for
from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.model import MappingSet, ObjectMapping
from crmsync.mapping.statusmap import StatusMap
from crmsync.owners import table as owner_table
from crmsync.store.models import Integration, IntegrationMapping, Workspace
from crmsync.sync.policy import retry_policy
from crmsync.sync.push_target import Target

# IntegrationMapping rows under this object type hold the integration's status maps.
STATUS_MAPS = "_status_maps"


def mapping_for(session: Session, integration: Integration) -> MappingSet:
    """The provider's default mapping with the integration's own overrides applied."""
    return _merged(integration.provider, _overrides(session, integration))


def _overrides(session: Session, integration: Integration) -> list[tuple[str, dict[str, Any]]]:
    # Whole rows, so a row edited in this session but not flushed yet counts as edited.
    rows = session.scalars(
        select(IntegrationMapping).where(IntegrationMapping.integration_id == integration.id)
    )
    return sorted(((row.object_type, row.definition) for row in rows), key=lambda r: r[0])


def _merged(provider: str, overrides: list[tuple[str, dict[str, Any]]]) -> MappingSet:
    base = default_mapping(providers.get(provider).default_mapping).model_dump()
    for object_type, definition in overrides:
        if object_type == STATUS_MAPS:
            base["status_maps"] = {
                name: StatusMap.model_validate(spec).model_dump()
                for name, spec in definition.items()
            }
        else:
            base["objects"][object_type] = ObjectMapping.model_validate(definition).model_dump()
    return MappingSet.model_validate(base)


def set_object_mapping(
    session: Session, integration: Integration, object_type: str, mapping: ObjectMapping
) -> None:
    """Store the integration's own mapping of one object type (replacing the default)."""
    row = session.scalar(
        select(IntegrationMapping).where(
            IntegrationMapping.integration_id == integration.id,
            IntegrationMapping.object_type == object_type,
        )
    )
    if row is None:
        row = IntegrationMapping(
            workspace_id=integration.workspace_id,
            integration_id=integration.id,
            object_type=object_type,
        )
        session.add(row)
    row.definition = mapping.model_dump(mode="json")
    mapping_for(session, integration)  # refuses a mapping that does not fit the rest


def save_mapping(session: Session, integration: Integration, mapping: MappingSet) -> MappingSet:
    """Store every object mapping (and the status maps) of ``mapping`` for the integration;
    returns the mapping now in effect."""
    for object_type, object_mapping in mapping.objects.items():
        set_object_mapping(session, integration, object_type.value, object_mapping)
    if mapping.status_maps:
        row = session.scalar(
            select(IntegrationMapping).where(
                IntegrationMapping.integration_id == integration.id,
                IntegrationMapping.object_type == STATUS_MAPS,
            )
        )
        if row is None:
            row = IntegrationMapping(
                workspace_id=integration.workspace_id,
                integration_id=integration.id,
                object_type=STATUS_MAPS,
            )
            session.add(row)
        row.definition = {k: v.model_dump(mode="json") for k, v in mapping.status_maps.items()}
    session.flush()
    return mapping_for(session, integration)


def region_of(session: Session, workspace_id: uuid.UUID) -> str:
    workspace = session.get(Workspace, workspace_id)
    return str((workspace.settings if workspace else {}).get("default_region", "US"))


class TargetResolver:
    """Builds Targets for the worker; thread-safe, with a connector and a mapping cache.

    Building a MappingSet (default plus overrides, validated) costs more than pushing a
    few records, so the resolver keeps the last one per integration and builds it again
    only when the integration's mapping rows read differently. Targets share it: nothing
    on the push or poll path edits a mapping.
    """

    def __init__(self, settings: Settings, wiring: Wiring | None = None) -> None:
        self.settings = settings
        self.wiring = wiring
        self.vault = vault_for(settings)
        self._lock = threading.Lock()
        self._cache: dict[uuid.UUID, tuple[datetime, Connector]] = {}
        self._retired: list[Connector] = []  # replaced, closed with the resolver
        self._mappings: dict[uuid.UUID, tuple[bytes, MappingSet]] = {}

    def mapping(self, session: Session, integration: Integration) -> MappingSet:
        overrides = _overrides(session, integration)
        key = orjson.dumps([integration.provider, overrides], option=orjson.OPT_SORT_KEYS)
        with self._lock:
            cached = self._mappings.get(integration.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        mapping = _merged(integration.provider, overrides)
        with self._lock:
            self._mappings[integration.id] = (key, mapping)
        return mapping

    def connector(self, integration: Integration) -> Connector:
        with self._lock:
            cached = self._cache.get(integration.id)
            # A reader holding an older copy of the integration gets the newer connector.
            if cached is not None and cached[0] >= integration.updated_at:
                return cached[1]
            if cached is not None:
                # Another thread (an API request, the worker) may be mid-call on it:
                # closed with the resolver, not now.
                self._retired.append(cached[1])
            connector = connector_for(integration, self.vault, self.settings, self.wiring)
            self._cache[integration.id] = (integration.updated_at, connector)
            return connector

    def __call__(self, session: Session, integration: Integration) -> Target:
        config = SyncConfig.model_validate(integration.config or {})
        connector = self.connector(integration)
        mapping = owner_table.attach(
            self.mapping(session, integration), session, integration, connector
        )
        return Target(
            integration_id=integration.id,
            workspace_id=integration.workspace_id,
            connector=connector,
            mapping=mapping,
            retry=retry_policy(config.retry),
            region=region_of(session, integration.workspace_id),
            delete_propagation=config.delete_propagation,
            pulled=frozenset(o for o in config.objects if config.pulls(o)),
        )

    def close(self) -> None:
        with self._lock:
            for _at, connector in self._cache.values():
                connector.close()
            for connector in self._retired:
                connector.close()
            self._cache.clear()
            self._retired.clear()
            self._mappings.clear()


def targets_of(app: Any) -> TargetResolver:
    """The app's resolver, made on first use (it reads the credentials key)."""
    state = app.state
    with _APP_LOCK:
        if getattr(state, "targets", None) is None:
            state.targets = TargetResolver(state.settings, getattr(state, "wiring", None))
        return state.targets


_APP_LOCK = threading.Lock()
