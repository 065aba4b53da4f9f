"""The HubSpot connector: batch writes, polling on the modified date (a keyset with a lag
window re-read, see `cursor`), webhooks.

Writes go through the batch endpoints (100 inputs each): ``update`` for payloads that
carry the HubSpot id, ``upsert`` by a unique property (contacts' email) when the payload
has a value for it, and ``create`` for the rest. HubSpot refuses a whole batch when one
input is invalid, so a refused batch is split in halves until the invalid inputs stand
alone; the valid ones are still written and each invalid one gets its own error.
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
    Journey,
    ObjectCapabilities,
    Payload,
    RemoteChange,
    RemoteDeletion,
    RemoteField,
    RemoteRecord,
    UpsertResult,
    WebhookKind,
    batches,
)
from crmsync.connectors.errors import ConfigError, ConnectorError, InvalidRecord, NotFound
from crmsync.connectors.http import RateLimiter, build_http
from crmsync.connectors.http.client import ConnectorHttp
from crmsync.connectors.http.profiles import profile
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.hubspot import associations, engagements, webhooks
from crmsync.connectors.hubspot.auth import build_auth
from crmsync.connectors.hubspot.client import SEARCH_PAGE, HubSpotClient
from crmsync.connectors.hubspot.cursor import DEFAULT_LAG_MS, ChangeCursor
from crmsync.connectors.hubspot.mappers import (
    to_batch_input,
    to_deletion,
    to_ms,
    to_remote_field,
    to_remote_record,
)
from crmsync.connectors.hubspot.spec import SPEC
from crmsync.connectors.hubspot.workflows import HubSpotWorkflows
from crmsync.connectors.journeys import EnrollTarget
from crmsync.connectors.registry import ConnectorContext

__all__ = ["CAPABILITIES", "HubSpotConnector"]

BATCH_LIMIT = 100
# HubSpot reads at most 50 records per batch call that asks for property history
HISTORY_BATCH = 50
# object types HubSpot's merge endpoint takes
MERGEABLE = frozenset({"contacts", "companies", "deals", "tickets"})
OWNER_PROPERTY = "hubspot_owner_id"
# Leads: HubSpot's own leads object needs a Sales Hub seat and a primary contact or
# company for every lead; what apps call a lead is, in most portals, a contact with
# ``hs_lead_status``. crmsync leads are written to and read from contacts; a read lists
# only contacts with a lead status, and deleting a lead clears that status instead of
# archiving a contact the app may also hold as a contact.
LEAD_OBJECT = "contacts"
LEAD_STATUS = "hs_lead_status"
# crmsync record types a HubSpot portal keeps in a custom object of its own making: the
# integration names its objectTypeId ("2-…") in ``config.custom_objects``
CUSTOM_TYPES = associations.CUSTOM
# object types whose new records need hs_timestamp (engagements)
TIMESTAMPED = frozenset({"notes", *engagements.KINDS})
_MODIFIED = "hs_lastmodifieddate"

CAPABILITIES = Capabilities(
    objects={
        "contacts": ObjectCapabilities(BATCH_LIMIT, ("email",), "lastmodifieddate"),
        # crmsync leads are HubSpot contacts that carry a lead status (see LEAD_OBJECT)
        "leads": ObjectCapabilities(BATCH_LIMIT, ("email",), "lastmodifieddate"),
        "companies": ObjectCapabilities(BATCH_LIMIT, (), _MODIFIED),
        "deals": ObjectCapabilities(BATCH_LIMIT, (), _MODIFIED),
        "notes": ObjectCapabilities(BATCH_LIMIT, (), _MODIFIED),
        # calls and tasks (connectors.hubspot.engagements)
        "activities": ObjectCapabilities(BATCH_LIMIT, (), _MODIFIED),
        "tickets": ObjectCapabilities(BATCH_LIMIT, (), _MODIFIED),
        # a custom object (CUSTOM_TYPES); custom objects cannot be merged
        "properties": ObjectCapabilities(BATCH_LIMIT, (), _MODIFIED),
    },
    webhook_kind=WebhookKind.HMAC_SIGNATURE,
    journeys=True,
)

# the engagement objects behind activities, addressed by the connector itself
_ENGAGEMENT = ObjectCapabilities(BATCH_LIMIT, (), _MODIFIED)

_ERROR_CLASSES: Mapping[str, type[ConnectorError]] = {"OBJECT_NOT_FOUND": NotFound}

Indexed = list[tuple[int, Payload]]


class HubSpotConnector(Connector):
    """One HubSpot account."""

    provider = "hubspot"
    capabilities = CAPABILITIES

    def __init__(
        self,
        client: HubSpotClient,
        *,
        webhook_secret: Secret | None = None,
        webhook_url: str | None = None,
        clock: Callable[[], float] = time.time,
        lag_ms: int = DEFAULT_LAG_MS,
        field_history: bool = True,
        custom_objects: Mapping[str, str] | None = None,
    ):
        self.client = client
        # crmsync type -> the portal's custom object type id (CUSTOM_TYPES)
        self._custom = {k: v for k, v in (custom_objects or {}).items() if k in CUSTOM_TYPES}
        # Polls read changed records again with propertiesWithHistory, so each property
        # carries the time it was written (not the record's, which any write moves).
        self._field_history = field_history
        self._writable: dict[str, list[str]] = {}
        self._lag_ms = lag_ms
        self._webhook_secret = webhook_secret
        self._webhook_url = webhook_url
        self._clock = clock
        self._property_names: dict[str, list[str]] = {}
        self._owner_ids: dict[str, str | None] = {}  # owner email -> owner id

    @classmethod
    def from_context(cls, context: ConnectorContext) -> HubSpotConnector:
        """The connector of one integration (the registry's factory)."""
        oauth = bool(context.credentials.get("refresh_token"))
        name = context.rate_profile or ("hubspot-oauth" if oauth else "hubspot-free")
        key = str(context.integration_id)

        def limiter(profile_name: str, suffix: str = "") -> RateLimiter:
            return RateLimiter(
                profile(profile_name),
                key + suffix,
                context.windows,
                clock=context.clock,
                sleep=context.sleep,
                max_wait=context.http.max_rate_wait,
            )

        http = build_http(
            base_url=context.base_url,
            provider="hubspot",
            auth=build_auth(context),
            integration_id=context.integration_id,
            limiter=limiter(name),
            hooks=SPEC.error_hooks,
            settings=context.http,
            transport=context.transport,
            verify=context.verify,
            sleep=context.sleep,
        )
        search = ConnectorHttp(
            http.client,
            limiter=limiter("hubspot-search", ":search"),
            hooks=SPEC.error_hooks,
            settings=context.http,
            sleep=context.sleep,
        )
        # private apps sign webhooks with their own client secret, OAuth apps with the app's
        secret = context.webhook_secret or context.secret("client_secret") or context.client_secret
        return cls(
            HubSpotClient(http, search),
            webhook_secret=secret,
            webhook_url=context.webhook_url,
            clock=context.clock,
            custom_objects=context.config.get("custom_objects"),
        )

    def _api(self, object_type: str) -> str:
        """The object type in HubSpot's paths: a custom object's type id for CUSTOM_TYPES."""
        if object_type not in CUSTOM_TYPES:
            return object_type
        found = self._custom.get(object_type)
        if not found:
            raise ConfigError(
                f"HubSpot keeps {object_type} in a custom object: name its objectTypeId "
                f"in config.custom_objects.{object_type}"
            )
        return found

    def _associations(self) -> associations.AssociationWriter:
        return associations.AssociationWriter(self.client.http, self._custom)

    # --- describe ----------------------------------------------------------------------

    def _of(self, object_type: str) -> ObjectCapabilities:
        if object_type in engagements.KINDS:
            return _ENGAGEMENT
        return self.capabilities.of(object_type)

    def describe(self, object_type: str) -> list[RemoteField]:
        self._of(object_type)
        if object_type == "activities":
            return list(engagements.FIELDS)
        if object_type == "leads":
            return self.describe(LEAD_OBJECT)
        fields = [to_remote_field(p) for p in self.client.properties(self._api(object_type))]
        self._property_names[object_type] = [f.name for f in fields]
        self._writable[object_type] = [f.name for f in fields if not f.read_only]
        return fields

    # --- upsert ------------------------------------------------------------------------

    def upsert(
        self, object_type: str, payloads: Sequence[Payload], match_key: str | None
    ) -> list[UpsertResult]:
        self._of(object_type)
        if object_type == "leads":
            return self.upsert(LEAD_OBJECT, payloads, match_key)
        if object_type == "activities":
            return engagements.upsert(lambda kind, items: self.upsert(kind, items, None), payloads)
        results: list[UpsertResult | None] = [None] * len(payloads)
        groups: dict[str, Indexed] = {"update": [], "upsert": [], "create": []}
        linked: dict[int, associations.Associations] = {}
        for index, full in enumerate(self._owners_resolved(payloads)):
            payload, found = associations.split(full)
            if found:
                linked[index] = found
            if object_type in TIMESTAMPED and not payload.get("id"):
                # HubSpot requires hs_timestamp of a new note: when it happened
                payload.setdefault("hs_timestamp", self._now_iso())
            if payload.get("id") or payload.get("hs_object_id"):
                groups["update"].append((index, payload))
            elif match_key and payload.get(match_key):
                groups["upsert"].append((index, payload))
            else:
                groups["create"].append((index, payload))
        for action, items in groups.items():
            key = {"update": _record_id, "upsert": lambda p: str(p.get(match_key, ""))}.get(action)
            for round_items in _rounds(items, key) if key else [items]:
                for start in range(0, len(round_items), BATCH_LIMIT):
                    chunk = round_items[start : start + BATCH_LIMIT]
                    self._write(object_type, action, chunk, match_key, results, linked)
        self._associate_existing(object_type, groups, results, linked)
        final = [
            r or UpsertResult.failed(InvalidRecord("HubSpot returned no result for this record"))
            for r in results
        ]
        UpsertResult.check(payloads, final)
        return final

    def _now_iso(self) -> str:
        return datetime.fromtimestamp(self._clock(), tz=UTC).isoformat().replace("+00:00", "Z")

    def _owners_resolved(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Payloads whose owner is given as an email get that owner's id: HubSpot takes
        only owner ids in ``hubspot_owner_id`` and refuses anything else."""
        resolved: list[Payload] = []
        for payload in payloads:
            owner = payload.get(OWNER_PROPERTY)
            if isinstance(owner, str) and "@" in owner:
                key = owner.strip().lower()
                if key not in self._owner_ids:
                    self._owner_ids[key] = self.client.owner_id_by_email(key)
                found = self._owner_ids[key]
                payload = {**payload, OWNER_PROPERTY: found} if found else payload
            resolved.append(payload)
        return resolved

    def _associate_existing(
        self,
        object_type: str,
        groups: dict[str, Indexed],
        results: list[UpsertResult | None],
        linked: dict[int, associations.Associations],
    ) -> None:
        """Associations of records written by update or upsert, and a created record's
        default (untyped) ones: create sends the HubSpot-defined ones itself."""
        wanted: dict[str, associations.Associations] = {}
        for action in ("update", "upsert", "create"):
            for index, _payload in groups[action]:
                result = results[index]
                if index in linked and result is not None and result.ok and result.remote_id:
                    found = linked[index]
                    if action == "create":
                        found = associations.untyped_only(object_type, found)
                    if found:
                        wanted[result.remote_id] = found
        if wanted:
            self._associations().replace(object_type, wanted)

    def _write(
        self,
        object_type: str,
        action: str,
        items: Indexed,
        match_key: str | None,
        results: list[UpsertResult | None],
        linked: dict[int, associations.Associations],
    ) -> None:
        inputs = []
        for i, p in items:
            item = {
                **to_batch_input(p, match_key if action == "upsert" else None),
                "objectWriteTraceId": str(i),
            }
            if action == "create" and i in linked:
                item["associations"] = associations.create_inputs(object_type, linked[i])
            inputs.append(item)
        try:
            body = self.client.batch(self._api(object_type), action, inputs)
        except InvalidRecord as error:
            if len(items) == 1:
                results[items[0][0]] = UpsertResult.failed(error)
                return
            # one bad input sinks the batch: find it by halves, writing the rest
            half = len(items) // 2
            self._write(object_type, action, items[:half], match_key, results, linked)
            self._write(object_type, action, items[half:], match_key, results, linked)
            return
        _read_batch(body or {}, action, items, match_key, results)

    # --- delete ------------------------------------------------------------------------

    def delete(self, object_type: str, remote_ids: Sequence[str]) -> None:
        self._of(object_type)
        if object_type == "activities":
            by_kind: dict[str, list[str]] = {}
            for remote_id in remote_ids:
                found = engagements.split_id(remote_id)
                if found is not None:  # another shape names no activity HubSpot holds
                    by_kind.setdefault(found[0], []).append(found[1])
            for kind, ids in by_kind.items():
                self.delete(kind, ids)
            return
        if object_type == "leads":
            cleared = [{"id": str(i), "properties": {LEAD_STATUS: ""}} for i in remote_ids]
            for chunk in batches(cleared, BATCH_LIMIT):
                try:
                    self.client.batch(LEAD_OBJECT, "update", chunk)
                except NotFound:
                    continue  # the contact is gone already
            return
        inputs = [{"id": str(i)} for i in remote_ids]
        for chunk in batches(inputs, BATCH_LIMIT):
            self.client.batch(self._api(object_type), "archive", chunk)

    # --- merge -------------------------------------------------------------------------

    def can_merge(self, object_type: str) -> bool:
        return object_type in MERGEABLE

    def merge_records(
        self, object_type: str, survivor_remote_id: str, merged_remote_id: str
    ) -> str:
        """Merge natively (``MergeConnector``); HubSpot may answer with a new id."""
        if object_type not in MERGEABLE:
            raise ConfigError(f"HubSpot cannot merge {object_type}")
        merged = self.client.merge(object_type, survivor_remote_id, merged_remote_id)
        return str(merged.get("id") or survivor_remote_id)

    # --- changes -----------------------------------------------------------------------

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        field = self._of(object_type).incremental_field or _MODIFIED
        if object_type == "activities":
            return engagements.changes(self.changes, cursor)
        if object_type == "leads":
            read = self.changes(LEAD_OBJECT, cursor)
            leads = [r for r in read.records if r.properties.get(LEAD_STATUS)]
            return ChangePage(leads, read.deletions, read.next_cursor, read.has_more)
        state = ChangeCursor.decode(cursor)
        names = self._property_names.get(object_type)
        if names is None:
            self.describe(object_type)
            names = self._property_names[object_type]
        since = state.query_since(self._lag_ms)
        page = self.client.search_modified(self._api(object_type), field, since, state.after, names)
        found = [to_remote_record(obj, field) for obj in page.get("results") or []]
        rows = [(r.remote_id, to_ms(r.modified_at) if r.modified_at else 0) for r in found]
        fresh_ids = {i for i, _ in state.fresh(rows)}
        records = [r for r in found if r.remote_id in fresh_ids]
        if self._field_history and records:
            records = self._with_history(object_type, records, field)
        records = self._with_associations(object_type, records)
        after = state.advance(rows, SEARCH_PAGE, self._lag_ms)
        has_more = after.floor is not None
        deletions: list[RemoteDeletion] = []
        if not has_more:
            deletions, newest = self._deletions(object_type, state.deleted_since)
            after = after.deleted_until(newest)
        return ChangePage(records, deletions, after.encode(), has_more)

    def read(self, object_type: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        """``ReadConnector``: the records by id, with per-property times."""
        self._of(object_type)
        if object_type == "leads":
            return self.read(LEAD_OBJECT, remote_ids)
        if object_type == "activities":
            return engagements.read(self.read, remote_ids)
        if object_type not in self._writable:
            self.describe(object_type)
        field = self._of(object_type).incremental_field or _MODIFIED
        names = [*self._writable.get(object_type, []), field]
        out: list[RemoteRecord] = []
        ids = list(remote_ids)
        for start in range(0, len(ids), HISTORY_BATCH):
            chunk = ids[start : start + HISTORY_BATCH]
            out += [
                to_remote_record(obj, field)
                for obj in self.client.read_with_history(self._api(object_type), chunk, names)
            ]
        return self._with_associations(object_type, out)

    def _with_associations(
        self, object_type: str, records: list[RemoteRecord]
    ) -> list[RemoteRecord]:
        if not associations.targets_of(object_type, self._custom):
            return records
        return self._associations().attach(object_type, records)

    def _with_history(
        self, object_type: str, records: list[RemoteRecord], field: str
    ) -> list[RemoteRecord]:
        """The records read again with per-property times. A record archived in between
        keeps its search copy (the deletion comes with the deletions)."""
        names = [*self._writable.get(object_type, []), field]
        fresh: dict[str, RemoteRecord] = {}
        ids = [r.remote_id for r in records]
        for start in range(0, len(ids), HISTORY_BATCH):
            for obj in self.client.read_with_history(
                self._api(object_type), ids[start : start + HISTORY_BATCH], names
            ):
                record = to_remote_record(obj, field)
                fresh[record.remote_id] = record
        return [fresh.get(r.remote_id, r) for r in records]

    def _deletions(self, object_type: str, since_ms: int) -> tuple[list[RemoteDeletion], int]:
        """Records archived after ``since_ms`` (search never shows archived records)."""
        found: list[RemoteDeletion] = []
        newest = since_ms
        token: str | None = None
        while True:
            page = self.client.archived_page(self._api(object_type), token)
            for obj in page.get("results") or []:
                deletion = to_deletion(obj)
                at = to_ms(deletion.deleted_at) if deletion.deleted_at else 0
                if at > since_ms:
                    found.append(deletion)
                    newest = max(newest, at)
            token = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not token:
                return found, newest

    # --- webhooks ----------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        if self._webhook_secret is None or not self._webhook_url:
            return False
        return webhooks.verify_v3(
            headers, body, secret=self._webhook_secret, uri=self._webhook_url, clock=self._clock
        )

    def parse_webhook(self, body: bytes) -> list[RemoteChange]:
        # generic events name a custom object by its objectTypeId (config.custom_objects)
        return webhooks.parse(body, {type_id: kind for kind, type_id in self._custom.items()})

    # --- workflows (EnrollmentConnector) -----------------------------------------------

    def journeys(self) -> list[Journey]:
        """The portal's contact workflows, steps included."""
        return HubSpotWorkflows(self.client.http).journeys()

    def enroll(self, journey_id: str, contact: EnrollTarget) -> str:
        return HubSpotWorkflows(self.client.http).enroll(journey_id, contact)

    def unenroll(self, journey_id: str, contact: EnrollTarget) -> None:
        HubSpotWorkflows(self.client.http).unenroll(journey_id, contact)

    def close(self) -> None:
        self.client.close()


def _read_batch(
    body: Mapping[str, Any],
    action: str,
    items: Indexed,
    match_key: str | None,
    results: list[UpsertResult | None],
) -> None:
    """Fill ``results`` from a batch answer (200/201, or 207 with per-input errors)."""
    by_trace = {str(i): i for i, _ in items}
    failed: set[int] = set()
    for problem in body.get("errors") or []:
        context = problem.get("context") or {}
        cls = _ERROR_CLASSES.get(str(problem.get("category")), InvalidRecord)
        error = cls(str(problem.get("message", "refused"))[:300], code=problem.get("category"))
        for trace in context.get("objectWriteTraceId") or []:
            if str(trace) in by_trace:
                failed.add(by_trace[str(trace)])
                results[by_trace[str(trace)]] = UpsertResult.failed(error)
        wanted = {str(i) for i in context.get("ids") or []}
        for own, payload in items:
            if str(payload.get("id") or payload.get("hs_object_id") or "") in wanted:
                failed.add(own)
                results[own] = UpsertResult.failed(error)
    answered = list(body.get("results") or [])
    if action == "create":
        waiting = [i for i, _ in items if i not in failed]
        for position, obj in enumerate(answered):
            trace = obj.get("objectWriteTraceId")
            index = by_trace.get(str(trace)) if trace is not None else None
            if index is None and position < len(waiting):
                index = waiting[position]
            if index is not None:
                results[index] = UpsertResult.created(str(obj["id"]))
        return
    if action == "update":
        by_id = {str(p.get("id") or p.get("hs_object_id")): i for i, p in items}
        for obj in answered:
            index = by_id.get(str(obj["id"]))
            if index is not None:
                results[index] = UpsertResult.updated(str(obj["id"]))
        return
    key = match_key or ""
    by_key = {str(p.get(key, "")).lower(): i for i, p in items}
    for obj in answered:
        value = str((obj.get("properties") or {}).get(key) or "").lower()
        index = by_key.get(value)
        if index is None:
            continue
        made = obj.get("new")
        outcome = UpsertResult.created if made else UpsertResult.updated
        results[index] = outcome(str(obj["id"]))


def _record_id(payload: Payload) -> str:
    return str(payload.get("id") or payload.get("hs_object_id") or "")


def _rounds(items: Indexed, key: Callable[[Payload], str]) -> list[Indexed]:
    """`items` split so that no round writes one record twice: HubSpot refuses a batch
    with a repeated id ("Duplicate IDs found in batch input"); later rounds see the
    earlier writes, so the last payload of a record wins, as in input order."""
    rounds: list[Indexed] = []
    seen: dict[str, int] = {}
    for index, payload in items:
        value = key(payload).strip().lower()
        position = seen.get(value, 0)
        seen[value] = position + 1
        if position == len(rounds):
            rounds.append([])
        rounds[position].append((index, payload))
    return rounds
