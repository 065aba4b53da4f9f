"""The declarative REST connector: one class that any REST CRM definition drives.

Writes go one record per call (definitions describe no batch endpoint): ``update`` by
id when the payload carries one, ``upsert`` by the definition's key when the CRM has an
upsert endpoint, else ``find`` by the key then update or create. Polling pages through
records modified since the cursor; deleted records are reported when the definition
says they are listed with a flag. Webhooks are trusted by a shared-secret header.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson

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
from crmsync.connectors.http.client import ConnectorHttp
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.registry import ConnectorContext, Factory
from crmsync.connectors.rest import webhooks
from crmsync.connectors.rest.client import connect
from crmsync.connectors.rest.cursor import PollCursor
from crmsync.connectors.rest.definition import Definition, ObjectSpec, from_config, load
from crmsync.connectors.rest.paging import next_page, page_params
from crmsync.connectors.rest.wire import (
    dig,
    is_deleted,
    to_deletion,
    to_record,
    to_remote_fields,
    to_wire,
    wire_time,
)

__all__ = ["RestConnector", "capabilities", "for_definition"]


def capabilities(definition: Definition) -> Capabilities:
    """What a definition allows, per object type."""
    flagged = definition.deletions.visible == "flag"
    polled = definition.changes is not None
    objects = {}
    for name in definition.objects:
        spec = definition.object(name)
        objects[name] = ObjectCapabilities(
            batch_limit=spec.batch_limit,
            upsert_keys=(spec.upsert_key,) if spec.upsert_key else (),
            incremental_field=definition.record.modified if polled else None,
            reports_deletions=flagged and polled,
        )
    kind = WebhookKind.HEADER_SECRET if definition.webhooks else WebhookKind.NONE
    return Capabilities(objects=objects, webhook_kind=kind)


class RestConnector(Connector):
    """One account of a REST CRM described by ``definition``."""

    def __init__(
        self,
        definition: Definition,
        http: ConnectorHttp,
        *,
        webhook_secret: Secret | None = None,
    ):
        self.definition = definition
        self.provider = definition.name
        self.capabilities = capabilities(definition)
        self.http = http
        self._webhook_secret = webhook_secret
        self._specs = {name: definition.object(name) for name in definition.objects}

    @classmethod
    def from_context(
        cls, context: ConnectorContext, definition: Definition | None = None
    ) -> RestConnector:
        """The connector of one integration (the registry's factory for ``generic``)."""
        # the integration's config may carry its own definition or name a built-in one
        chosen = definition or from_config(context.config)
        secret = context.webhook_secret or context.secret("webhook_secret")
        return cls(chosen, connect(chosen, context), webhook_secret=secret)

    def _spec(self, object_type: str) -> ObjectSpec:
        self.capabilities.of(object_type)
        return self._specs[object_type]

    # --- describe ----------------------------------------------------------------------

    def describe(self, object_type: str) -> list[RemoteField]:
        spec = self._spec(object_type)
        changes = self.definition.changes
        # one page of records proves the credentials and shows undeclared fields
        params = page_params(changes.pagination, None)[0] if changes else {}
        body = self._call(spec, "list", params=params).json()
        found = dig(body, changes.records if changes else "")
        sample = [r for r in found or () if isinstance(r, Mapping)]
        return to_remote_fields(spec, sample, self.definition)

    # --- upsert ------------------------------------------------------------------------

    def upsert(
        self, object_type: str, payloads: Sequence[Payload], match_key: str | None
    ) -> list[UpsertResult]:
        spec = self._spec(object_type)
        if match_key and match_key != "id" and match_key != spec.upsert_key:
            keys = spec.upsert_key or "none"
            raise ConfigError(
                f"{match_key!r} is not an upsert key of {object_type} (upsert keys: {keys})"
            )
        results = []
        for payload in payloads:
            try:
                results.append(self._write(spec, payload, match_key))
            except (InvalidRecord, NotFound) as error:
                results.append(UpsertResult.failed(error))
        UpsertResult.check(payloads, results)
        return results

    def _write(self, spec: ObjectSpec, payload: Payload, match_key: str | None) -> UpsertResult:
        given_id = payload.get("id")
        if given_id:
            return UpsertResult.updated(self._update(spec, str(given_id), payload))
        key = payload.get(match_key) if match_key and match_key != "id" else None
        if key in (None, ""):
            answer = self._call(spec, "create", json=to_wire(payload, spec))
            return UpsertResult.created(self._id_of(answer))
        if "upsert" in spec.endpoints:
            answer = self._call(
                spec, "upsert", key=str(key), json=to_wire(payload, spec), idempotent=True
            )
            made = UpsertResult.created if answer.status_code == 201 else UpsertResult.updated
            return made(self._id_of(answer))
        existing = self._find(spec, str(key))
        if existing is None:
            answer = self._call(spec, "create", json=to_wire(payload, spec))
            return UpsertResult.created(self._id_of(answer))
        return UpsertResult.updated(self._update(spec, existing, payload))

    def _update(self, spec: ObjectSpec, remote_id: str, payload: Payload) -> str:
        answer = self._call(spec, "update", id=remote_id, json=to_wire(payload, spec))
        return self._id_of(answer) if answer.content else remote_id

    def _find(self, spec: ObjectSpec, key: str) -> str | None:
        """The id of the live record whose upsert key is ``key``, if any."""
        try:
            body = self._call(spec, "find", key=key).json()
        except NotFound:
            return None
        records = self.definition.changes.records if self.definition.changes else ""
        found = dig(body, records) if isinstance(body, Mapping) and records in body else body
        if isinstance(found, list):
            live = [
                r for r in found if isinstance(r, Mapping) and not is_deleted(r, self.definition)
            ]
            found = live[0] if live else None
        return str(dig(found, self.definition.record.id)) if found else None

    def _id_of(self, answer: httpx.Response) -> str:
        remote_id = dig(answer.json(), self.definition.record.id)
        if remote_id is None:
            raise InvalidRecord(f"the answer has no {self.definition.record.id!r}")
        return str(remote_id)

    # --- delete ------------------------------------------------------------------------

    def delete(self, object_type: str, remote_ids: Sequence[str]) -> None:
        spec = self._spec(object_type)
        for remote_id in remote_ids:
            try:
                self._call(spec, "delete", id=str(remote_id))
            except NotFound:
                continue  # already gone is what was asked

    # --- changes -----------------------------------------------------------------------

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        spec = self._spec(object_type)
        changes = self.definition.changes
        if changes is None:
            raise ConfigError(f"{self.provider}: the definition has no 'changes' to poll")
        state = PollCursor.decode(cursor)
        params = dict(changes.params)
        if state.since is not None:
            params[changes.since_param] = wire_time(_from_ms(state.since), changes.since_format)
        query, link = page_params(changes.pagination, state.page)
        if link is not None:
            body = self.http.get(link).json()
        else:
            body = self._call(spec, "list", params={**params, **query}).json()
        items = [r for r in dig(body, changes.records) or () if isinstance(r, Mapping)]
        rows = [
            (str(dig(r, self.definition.record.id)), _ms_of(self._record(r, spec))) for r in items
        ]
        fresh = set(state.fresh(rows))
        records: list[RemoteRecord] = []
        deletions: list[RemoteDeletion] = []
        for item, (remote_id, _) in zip(items, rows, strict=True):
            if remote_id not in fresh:
                continue
            if is_deleted(item, self.definition):
                deletions.append(to_deletion(item, self.definition))
            else:
                records.append(self._record(item, spec))
        following = next_page(changes.pagination, state.page, body, len(items))
        after = state.after_page(rows, following)
        return ChangePage(records, deletions, after.encode(), has_more=following is not None)

    def _record(self, body: Mapping[str, Any], spec: ObjectSpec) -> RemoteRecord:
        return to_record(body, spec, self.definition)

    # --- webhooks ----------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        spec = self.definition.webhooks
        if spec is None or self._webhook_secret is None:
            return False
        return webhooks.verify(spec, self._webhook_secret, headers, body)

    def parse_webhook(self, body: bytes) -> list[RemoteChange]:
        if self.definition.webhooks is None:
            return []
        return webhooks.parse(self.definition, self._specs, orjson.loads(body))

    def close(self) -> None:
        self.http.close()

    # --- calls -------------------------------------------------------------------------

    def _call(self, spec: ObjectSpec, kind: str, **kwargs: Any) -> httpx.Response:
        endpoint = spec.endpoints.get(kind)
        if endpoint is None:
            raise ConfigError(f"{self.provider}: no {kind!r} endpoint for {spec.resource}")
        values = {k: quote(str(kwargs.pop(k)), safe="") for k in ("id", "key") if k in kwargs}
        return self.http.request(endpoint.method, endpoint.url(**values), **kwargs)


def _from_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _ms_of(record: RemoteRecord) -> int:
    return round(record.modified_at.timestamp() * 1000) if record.modified_at else 0


def for_definition(source: Path | str | Mapping[str, Any]) -> Factory:
    """A registry factory for a custom definition (a file, YAML text or a mapping)."""
    definition = load(source)

    def factory(context: ConnectorContext) -> Connector:
        return RestConnector.from_context(context, definition)

    return factory
