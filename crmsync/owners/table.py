"""The owner table that ``owner`` field mappings translate through, both ways.

Outbound, a crmsync owner (an e-mail) becomes the CRM user's id; a value that already is
an active user's id, or one of its aliases, is taken as that user. An owner the CRM
does not have (or has deactivated) is the record's error, naming the e-mail, rather
than a value the CRM would refuse. Inbound, a CRM user id becomes the user's e-mail;
an id not in the table is kept as it came (nothing is lost).

The table loads on first use: a group of records none of which has an owner never
lists the CRM's users. It reads the cache, refreshed when older than the TTL
(``cache.current``), in the caller's session (the worker's, whose transaction is the
one that may write: a second connection would wait on SQLite's write lock), inside a
savepoint: a refresh that collides with another worker's is dropped for that one's.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector
from crmsync.mapping.model import MappingSet
from crmsync.mapping.transforms import OWNERS, TransformKind
from crmsync.owners import cache
from crmsync.owners.listing import supports_owners
from crmsync.owners.users import match_key
from crmsync.store.models import CrmOwner, Integration

log = structlog.get_logger("crmsync.owners")


class OwnerTable:
    """E-mail ↔ CRM user id for one integration (``mapping.transforms.OwnerLookup``)."""

    def __init__(self, owners: list[CrmOwner]) -> None:
        self.to_id: dict[str, str] = {}
        self.to_email: dict[str, str] = {}
        for owner in owners:
            if owner.email:
                self.to_email[owner.remote_id] = owner.email
            if not owner.active:
                continue
            for handle in (owner.remote_id, *(str(a) for a in owner.aliases or ())):
                self.to_id.setdefault(handle.strip().lower(), owner.remote_id)
            if owner.email_key:
                self.to_id[owner.email_key] = owner.remote_id

    def to_remote(self, value: Any) -> Any:
        key = str(value).strip().lower()
        found = self.to_id.get(key)
        if found is not None:
            return found
        what = "e-mail" if match_key(value) else "id or e-mail"
        raise ValueError(
            f"no active user of the CRM has the {what} {value!r}; list them with "
            "GET /api/v1/integrations/{id}/owners"
        )

    def to_canonical(self, value: Any) -> Any:
        return self.to_email.get(str(value), value)


class LazyOwnerTable:
    """An ``OwnerTable`` loaded from the cache the first time a value is looked up."""

    def __init__(
        self, session: Session, integration_id: uuid.UUID, connector: Connector | None
    ) -> None:
        self._session = session
        self._integration_id = integration_id
        self._connector = connector
        self._table: OwnerTable | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> OwnerTable:
        with self._lock:
            if self._table is None:
                self._table = OwnerTable(self._load())
            return self._table

    def _load(self) -> list[CrmOwner]:
        session = self._session
        integration = session.get(Integration, self._integration_id)
        if integration is None:
            return []
        try:
            with session.begin_nested():
                return cache.current(session, integration, self._connector).owners
        except IntegrityError:  # another worker refreshed the same list at the same time
            log.info("owner list refreshed elsewhere", integration=str(integration.id))
            return cache.current(session, integration, None).owners

    def to_remote(self, value: Any) -> Any:
        return self._loaded().to_remote(value)

    def to_canonical(self, value: Any) -> Any:
        return self._loaded().to_canonical(value)


def uses_owners(mapping: MappingSet) -> bool:
    return any(
        t.kind is TransformKind.OWNER
        for object_mapping in mapping.objects.values()
        for fm in object_mapping.fields
        for t in fm.transforms
    )


def attach(
    mapping: MappingSet,
    session: Session,
    integration: Integration,
    connector: Connector | None,
) -> MappingSet:
    """``mapping`` with the integration's owner table, where its fields map owners."""
    if not supports_owners(integration.provider) or not uses_owners(mapping):
        return mapping
    table = LazyOwnerTable(session, integration.id, connector)
    # a copy: the resolver's cached mapping is shared by every target of the integration
    return mapping.model_copy(update={"status_maps": {**mapping.status_maps, OWNERS: table}})
