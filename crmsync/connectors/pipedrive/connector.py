"""The Pipedrive connector: search-then-write, keyset polling, Basic-auth webhooks.

Pipedrive has no upsert: a payload with an ``id`` is updated; one with a match-key value
is looked up by exact search first (persons by email) and updated when found, created
otherwise. Payloads of one batch that share a key value go to the same record, so a batch
never creates duplicates of itself. Records are polled through v2 ``updated_since``
(leads and notes through ``/v1/recents``); deletions always come from ``/v1/recents``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from crmsync.connectors.base import (
    Capabilities,
    ChangePage,
    Connector,
    ObjectCapabilities,
    Payload,
    RemoteChange,
    RemoteDeletion,
    RemoteField,
    RemoteRecord,
    UpsertResult,
    WebhookKind,
)
from crmsync.connectors.errors import ConfigError, InvalidRecord, NotFound
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.pipedrive import webhooks
from crmsync.connectors.pipedrive.auth import api_base, build_auth
from crmsync.connectors.pipedrive.client import PipedriveClient
from crmsync.connectors.pipedrive.cursor import ChangeCursor, Lane, Row, digest
from crmsync.connectors.pipedrive.limits import build_client
from crmsync.connectors.pipedrive.mappers import (
    ENTITIES,
    NOTE_FIELDS,
    Entity,
    FieldMap,
    from_v1_time,
    to_body,
    to_field_map,
    to_remote_field,
    to_remote_record,
)
from crmsync.connectors.pipedrive.spec import SPEC
from crmsync.connectors.registry import ConnectorContext

__all__ = ["CAPABILITIES", "PipedriveConnector"]

# deletions older than the first poll concern records crmsync never saw; this margin
# covers clock skew between crmsync and Pipedrive
DELETIONS_MARGIN = 60
# v2 lists take at most 100 ids
READ_IDS = 100
# entities Pipedrive's merge endpoint takes
MERGEABLE = frozenset({"persons", "organizations", "deals"})
# the user name crmsync registers its subscriptions with, unless credentials say otherwise
WEBHOOK_USER = "crmsync"

CAPABILITIES = Capabilities(
    objects={
        name: ObjectCapabilities(
            1,
            (entity.search_field,) if entity.search_field else (),
            "update_time",
        )
        for name, entity in ENTITIES.items()
    },
    webhook_kind=WebhookKind.BASIC_AUTH,
)


def _rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(record: RemoteRecord) -> Row:
    at = int(record.modified_at.timestamp()) if record.modified_at else 0
    return record.remote_id, at, digest(record.properties)


def _is_deleted(item: Mapping[str, Any]) -> bool:
    return (
        item.get("active_flag") is False
        or item.get("is_deleted") is True
        or item.get("status") == "deleted"
    )


class PipedriveConnector(Connector):
    """One Pipedrive company."""

    provider = "pipedrive"
    capabilities = CAPABILITIES

    def __init__(
        self,
        client: PipedriveClient,
        *,
        webhook_user: str | None = None,
        webhook_password: Secret | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self._webhook_user = webhook_user
        self._webhook_password = webhook_password
        self._clock = clock
        self._fields: dict[str, FieldMap] = {}

    @classmethod
    def from_context(cls, context: ConnectorContext) -> PipedriveConnector:
        """The connector of one integration (the registry's factory)."""
        http, search = build_client(
            context, build_auth(context), SPEC.error_hooks, api_base(context)
        )
        # the integration's webhook secret is the subscription's password
        password = context.webhook_secret or context.secret("webhook_password")
        return cls(
            PipedriveClient(http, search),
            webhook_user=str(context.credentials.get("webhook_user") or WEBHOOK_USER),
            webhook_password=password,
            clock=context.clock,
        )

    def _entity(self, object_type: str) -> Entity:
        self.capabilities.of(object_type)
        return ENTITIES[object_type]

    # --- describe ----------------------------------------------------------------------

    def describe(self, object_type: str) -> list[RemoteField]:
        entity = self._entity(object_type)
        if entity.fields_path is None:
            self._fields[object_type] = FieldMap()
            return list(NOTE_FIELDS)
        raw = self.client.fields(entity.fields_path)
        self._fields[object_type] = to_field_map(raw)
        return [to_remote_field(f) for f in raw]

    def _field_map(self, object_type: str) -> FieldMap:
        if object_type not in self._fields:
            self.describe(object_type)
        return self._fields[object_type]

    # --- upsert ------------------------------------------------------------------------

    def upsert(
        self, object_type: str, payloads: Sequence[Payload], match_key: str | None
    ) -> list[UpsertResult]:
        entity = self._entity(object_type)
        fields = self._field_map(object_type)
        claimed: dict[str, str] = {}  # key value (lowercase) -> remote id, this batch
        results: list[UpsertResult] = []
        for payload in payloads:
            try:
                results.append(self._write(entity, fields, payload, match_key, claimed))
            except (InvalidRecord, NotFound) as error:
                results.append(UpsertResult.failed(error))
        UpsertResult.check(payloads, results)
        return results

    def _write(
        self,
        entity: Entity,
        fields: FieldMap,
        payload: Payload,
        match_key: str | None,
        claimed: dict[str, str],
    ) -> UpsertResult:
        body = to_body(payload, entity, fields)
        remote_id = str(payload["id"]) if payload.get("id") else None
        value = str(payload.get(match_key) or "").strip().lower() if match_key else ""
        if remote_id is None and value:
            remote_id = claimed.get(value) or self._find(entity, str(match_key), value)
        if remote_id is not None:
            self.client.update(entity, remote_id, body)
            if value:
                claimed[value] = remote_id
            return UpsertResult.updated(remote_id)
        made = self.client.create(entity, body)
        if "id" not in made:
            raise InvalidRecord("Pipedrive answered a create without an id")
        if value:
            claimed[value] = str(made["id"])
        return UpsertResult.created(str(made["id"]))

    def _find(self, entity: Entity, match_key: str, value: str) -> str | None:
        """The oldest record whose ``match_key`` equals ``value``, if any."""
        hits = self.client.search(entity, match_key, value)
        exact = [h for h in hits if value in _values(h.get(match_key) or h.get(f"{match_key}s"))]
        chosen = sorted(exact or hits, key=lambda h: str(h.get("id")).zfill(20))
        return str(chosen[0]["id"]) if chosen else None

    # --- delete ------------------------------------------------------------------------

    def delete(self, object_type: str, remote_ids: Sequence[str]) -> None:
        entity = self._entity(object_type)
        ids = [str(i) for i in remote_ids]
        if entity.v2 and ids:
            try:
                self.client.delete_many(entity, ids)
                return
            except NotFound:
                pass  # one id is unknown and nothing was deleted: go one by one
        for remote_id in ids:
            try:
                self.client.delete_one(entity, remote_id)
            except NotFound:
                continue

    # --- merge -------------------------------------------------------------------------

    def can_merge(self, object_type: str) -> bool:
        return object_type in ENTITIES and ENTITIES[object_type].plural in MERGEABLE

    def merge_records(
        self, object_type: str, survivor_remote_id: str, merged_remote_id: str
    ) -> str:
        """Merge natively (``MergeConnector``): persons, organizations and deals."""
        entity = self._entity(object_type)
        if entity.plural not in MERGEABLE:
            raise ConfigError(f"Pipedrive cannot merge {object_type}")
        merged = self.client.merge(entity, merged_remote_id, survivor_remote_id)
        return str(merged.get("id") or survivor_remote_id)

    # --- read --------------------------------------------------------------------------

    def read(self, object_type: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        """``ReadConnector``: the v2 records by id (100 per call)."""
        entity = self._entity(object_type)
        if not entity.v2:
            return []  # v1-only objects have no read by ids: nothing is checked
        fields = self._field_map(object_type)
        out: list[RemoteRecord] = []
        ids = [i for i in remote_ids if str(i).isdigit()]
        for start in range(0, len(ids), READ_IDS):
            raw = self.client.by_ids(entity, ids[start : start + READ_IDS])
            out += [r for r in (to_remote_record(o, fields) for o in raw) if not r.archived]
        return out

    # --- changes -----------------------------------------------------------------------

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        entity = self._entity(object_type)
        fields = self._field_map(object_type)
        start = int(self._clock()) - DELETIONS_MARGIN
        state = ChangeCursor.decode(cursor, deletions_start=start)
        if entity.v2:
            raw, token = self.client.updated_since(
                entity, _rfc3339(state.records.since), state.records.page
            )
            found = [to_remote_record(obj, fields) for obj in raw]
            rows = [_row(r) for r in found]
            fresh = {r[0]: r for r in state.records.fresh(rows)}
            records = [r for r in found if r.remote_id in fresh]
            lane = state.records.advance(rows, token)
            has_more = token is not None
            deletions: list[Any] = []
            dead = state.deletions
            if not has_more:
                deletions, dead = self._recents(entity, fields, state.deletions, deleted=True)
            return ChangePage(records, deletions, ChangeCursor(lane, dead).encode(), has_more)
        changed, lane = self._recents(entity, fields, state.records, deleted=False)
        deletions, dead = self._recents(entity, fields, state.deletions, deleted=True)
        page = ChangePage(
            [c for c in changed if isinstance(c, RemoteRecord)],
            [d for d in deletions if isinstance(d, RemoteDeletion)],
            ChangeCursor(lane, dead).encode(),
        )
        return page

    def _recents(
        self, entity: Entity, fields: FieldMap, lane: Lane, *, deleted: bool
    ) -> tuple[list[Any], Lane]:
        """Records (or deletions) from ``/v1/recents`` since the lane's second."""
        since = from_v1_time(datetime.fromtimestamp(lane.since, tz=UTC))
        start: int | None = 0
        out: list[Any] = []
        while start is not None:
            items, start = self.client.recents(entity.singular, since, start)
            found = [
                to_remote_record(i["data"], fields)
                for i in items
                if isinstance(i.get("data"), Mapping) and _is_deleted(i["data"]) == deleted
            ]
            rows = [_row(r) for r in found]
            fresh = {r[0] for r in lane.fresh(rows)}
            for record in found:
                if record.remote_id in fresh:
                    out.append(
                        RemoteDeletion(record.remote_id, record.modified_at) if deleted else record
                    )
            lane = lane.advance(rows, None)
        return out, lane

    # --- webhooks ----------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        if not self._webhook_user or self._webhook_password is None:
            return False
        return webhooks.verify_basic(headers, self._webhook_user, self._webhook_password)

    def parse_webhook(self, body: bytes) -> list[RemoteChange]:
        return webhooks.parse(body)

    def close(self) -> None:
        self.client.close()


def _values(raw: Any) -> set[str]:
    """The lowercase texts of a search item's property (a string or an array)."""
    items = raw if isinstance(raw, list) else [raw]
    out = set()
    for item in items:
        value = item.get("value") if isinstance(item, Mapping) else item
        if value is not None:
            out.add(str(value).strip().lower())
    return out
