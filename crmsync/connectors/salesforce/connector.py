"""The Salesforce connector: sObject Collections writes, SOQL polling, session refresh,
and timeline entries as Tasks.

Writes go through ``composite/sobjects`` (200 records per call, ``allOrNone`` false, one
SaveResult per record). A payload with an ``Id`` is an update; one with a value for an
external-id field (``crmsync_id__c``, configurable per object) is upserted by it; one
matched on a plain field such as ``Email`` is looked up with SOQL first and then updated
or created, in rounds so that two payloads with the same key never create two records.
Changes come from ``queryAll`` on ``SystemModstamp`` (deleted rows included, as
deletions), paged by ``nextRecordsUrl`` and re-read over a lag window.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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
    TimelineEntry,
    UpsertResult,
    WebhookKind,
    batches,
)
from crmsync.connectors.errors import InvalidRecord, NotFound
from crmsync.connectors.http import RateLimiter, build_http
from crmsync.connectors.http.profiles import profile
from crmsync.connectors.journeys import EnrollTarget
from crmsync.connectors.registry import ConnectorContext
from crmsync.connectors.salesforce import contact_roles, note_parents, soql, webhooks
from crmsync.connectors.salesforce.auth import build_auth, instance_url, transport
from crmsync.connectors.salesforce.campaigns import SalesforceCampaigns
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.cursor import ChangeCursor, digest
from crmsync.connectors.salesforce.instance import host_acceptable
from crmsync.connectors.salesforce.mappers import (
    SOBJECTS,
    parse_datetime,
    save_result,
    titled_note,
    to_deletion,
    to_remote_field,
    to_remote_record,
    with_type,
)
from crmsync.connectors.salesforce.spec import SPEC
from crmsync.connectors.salesforce.timeline import to_task

__all__ = ["BATCH_LIMIT", "DEFAULT_EXTERNAL_ID", "SalesforceConnector", "capabilities"]

BATCH_LIMIT = 200
MODIFIED = "SystemModstamp"
DEFAULT_EXTERNAL_ID = "crmsync_id__c"
DEFAULT_LAG = 120.0
# compound and binary fields cannot be selected alongside their components
_UNSELECTABLE = frozenset({"address", "location", "base64"})
# per-record delete errors that mean the record is already gone
_ALREADY_GONE = frozenset(
    {
        "ENTITY_IS_DELETED",
        "NOT_FOUND",
        "INVALID_CROSS_REFERENCE_KEY",
        "MALFORMED_ID",
        "INVALID_ID_FIELD",
    }
)
_EMAIL_OBJECTS = frozenset({"contacts", "leads"})

Indexed = list[tuple[int, Payload]]


def capabilities(external_ids: Mapping[str, str]) -> Capabilities:
    """Capabilities with each object's external-id field as its first upsert key."""
    objects = {}
    for object_type in SOBJECTS:
        keys = [external_ids.get(object_type, DEFAULT_EXTERNAL_ID)]
        if object_type in _EMAIL_OBJECTS:
            keys.append("Email")
        objects[object_type] = ObjectCapabilities(BATCH_LIMIT, tuple(keys), MODIFIED)
    return Capabilities(
        objects=objects, webhook_kind=WebhookKind.NONE, timeline=True, journeys=True
    )


def _value(payload: Payload, key: str) -> Any:
    """The payload's value for ``key`` (Salesforce field names ignore case)."""
    lowered = key.lower()
    return next((v for k, v in payload.items() if k.lower() == lowered), None)


def _norm(value: Any) -> str:
    # SOQL text comparisons ignore case
    return str(value).strip().lower()


class SalesforceConnector(Connector):
    """One Salesforce org."""

    provider = "salesforce"

    def __init__(
        self,
        client: SalesforceClient,
        *,
        external_ids: Mapping[str, str] | None = None,
        lag: float = DEFAULT_LAG,
        org_id: str | None = None,
    ):
        self.client = client
        self.org_id = org_id
        self.capabilities = capabilities(external_ids or {})
        self._lag = lag
        self._describes: dict[str, Mapping[str, Any]] = {}
        self._user_ids: dict[str, str | None] = {}  # user email -> user id

    @classmethod
    def from_context(
        cls,
        context: ConnectorContext,
        *,
        external_ids: Mapping[str, str] | None = None,
        lag: float = DEFAULT_LAG,
    ) -> SalesforceConnector:
        """The connector of one integration (the registry's factory).

        ``external_ids`` defaults to the integration's ``config.external_ids``.
        """
        if external_ids is None:
            external_ids = context.config.get("external_ids") or {}
        limiter = RateLimiter(
            profile(context.rate_profile or "salesforce-enterprise"),
            str(context.integration_id),
            context.windows,
            clock=context.clock,
            sleep=context.sleep,
            max_wait=context.http.max_rate_wait,
        )
        http = build_http(
            base_url=instance_url(context),
            provider="salesforce",
            auth=build_auth(context),
            integration_id=context.integration_id,
            limiter=limiter,
            hooks=SPEC.error_hooks,
            settings=context.http,
            transport=transport(context),
            host_check=lambda host: host_acceptable(host, context.base_url),
            sleep=context.sleep,
        )
        org_id = context.credentials.get("org_id")
        return cls(
            SalesforceClient(http),
            external_ids=external_ids,
            lag=lag,
            org_id=str(org_id) if org_id else None,
        )

    def _sobject(self, object_type: str) -> str:
        self.capabilities.of(object_type)
        return SOBJECTS[object_type]

    def _describe(self, sobject: str) -> Mapping[str, Any]:
        if sobject not in self._describes:
            self._describes[sobject] = self.client.describe(sobject)
        return self._describes[sobject]

    def _fields(self, sobject: str) -> list[Mapping[str, Any]]:
        return list(self._describe(sobject).get("fields") or [])

    # --- describe ----------------------------------------------------------------------

    def describe(self, object_type: str) -> list[RemoteField]:
        sobject = self._sobject(object_type)
        self._describes.pop(sobject, None)  # an explicit describe always asks again
        return [to_remote_field(f) for f in self._fields(sobject)]

    # --- upsert ------------------------------------------------------------------------

    def upsert(
        self, object_type: str, payloads: Sequence[Payload], match_key: str | None
    ) -> list[UpsertResult]:
        sobject = self._sobject(object_type)
        key = match_key or self.capabilities.of(object_type).upsert_keys[0]
        payloads = self._owners_resolved(payloads)
        if sobject == "Note":  # its one parent: the contact, else the deal, else the lead
            payloads = [titled_note(note_parents.fold(p)) for p in payloads]
        roles: dict[int, str] = {}
        if sobject == "Opportunity":
            plain = []
            for index, payload in enumerate(payloads):
                without, contact = contact_roles.split(payload)
                plain.append(without)
                if contact:
                    roles[index] = contact
            payloads = plain
        results: list[UpsertResult | None] = [None] * len(payloads)
        by_id: Indexed = []
        by_key: Indexed = []
        fresh: Indexed = []
        for index, payload in enumerate(payloads):
            if _value(payload, "Id"):
                by_id.append((index, payload))
            elif key.lower() != "id" and _value(payload, key) not in (None, ""):
                by_key.append((index, payload))
            else:
                fresh.append((index, payload))
        self._update(sobject, by_id, results)
        if by_key and self._is_external_id(sobject, key):
            self._upsert_by_external_id(sobject, key, by_key, results)
        else:
            self._search_then_write(sobject, key, by_key, results)
        self._create(sobject, fresh, results)
        final = _settled(results)
        if roles:
            wanted = {
                str(final[i].remote_id): contact
                for i, contact in roles.items()
                if final[i].ok and final[i].remote_id
            }
            contact_roles.ContactRoles(self.client, self._query_all).replace(wanted)
        UpsertResult.check(payloads, final)
        return final

    def _owners_resolved(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Payloads whose ``OwnerId`` is an email get that user's id: Salesforce takes
        only a user id there (MALFORMED_ID otherwise)."""
        resolved: list[Payload] = []
        for payload in payloads:
            owner = payload.get("OwnerId")
            if isinstance(owner, str) and "@" in owner:
                email = owner.strip().lower()
                if email not in self._user_ids:
                    rows = list(self._query_all(soql.active_user_by_email(email)))
                    self._user_ids[email] = str(rows[0]["Id"]) if rows else None
                found = self._user_ids[email]
                payload = {**payload, "OwnerId": found} if found else payload
            resolved.append(payload)
        return resolved

    def _is_external_id(self, sobject: str, key: str) -> bool:
        lowered = key.lower()
        return any(
            str(f.get("name", "")).lower() == lowered and f.get("externalId")
            for f in self._fields(sobject)
        )

    def _update(self, sobject: str, items: Indexed, results: list[UpsertResult | None]) -> None:
        for chunk in _chunks(items):
            records = [
                {**with_type(sobject, p, drop=["Id"]), "id": str(_value(p, "Id"))} for _, p in chunk
            ]
            _fill(results, chunk, self.client.update(records), created=False)

    def _create(self, sobject: str, items: Indexed, results: list[UpsertResult | None]) -> None:
        for chunk in _chunks(items):
            records = [with_type(sobject, p, drop=["Id"]) for _, p in chunk]
            _fill(results, chunk, self.client.create(records), created=True)

    def _upsert_by_external_id(
        self, sobject: str, key: str, items: Indexed, results: list[UpsertResult | None]
    ) -> None:
        """Upsert on an external id field.

        Salesforce fails every record of a call whose external id occurs twice in it
        (DUPLICATE_VALUE), so a value repeated in the batch goes to a later round, which
        then updates the record the earlier round wrote.
        """
        for round_items in _rounds(items, key):
            for chunk in _chunks(round_items):
                records = [with_type(sobject, p, drop=["Id"]) for _, p in chunk]
                _fill(results, chunk, self.client.upsert(sobject, key, records), created=None)

    def _search_then_write(
        self, sobject: str, key: str, items: Indexed, results: list[UpsertResult | None]
    ) -> None:
        """Match on a plain field: look the values up, update matches, create the rest.

        A value repeated in the batch goes to a later round, which sees the record the
        earlier round created, so the batch never makes duplicates.
        """
        for round_items in _rounds(items, key):
            for chunk in _chunks(round_items):
                values = {_norm(_value(p, key)): _value(p, key) for _, p in chunk}
                found: dict[str, list[str]] = {}
                for row in self._query_all(soql.matching(sobject, key, values.values())):
                    found.setdefault(_norm(_value(row, key)), []).append(str(row["Id"]))
                updates: Indexed = []
                creates: Indexed = []
                for index, payload in chunk:
                    ids = found.get(_norm(_value(payload, key)), [])
                    if len(ids) > 1:
                        message = f"{len(ids)} {sobject} records have this {key}; merge them first"
                        results[index] = UpsertResult.failed(
                            InvalidRecord(message, code="MULTIPLE_MATCHES")
                        )
                    elif ids:
                        updates.append((index, {**payload, "Id": ids[0]}))
                    else:
                        creates.append((index, payload))
                self._update(sobject, updates, results)
                self._create(sobject, creates, results)

    def _query_all(self, query: str) -> Iterator[Mapping[str, Any]]:
        page = self.client.query(query)
        while True:
            yield from page.get("records") or []
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self.client.more(str(next_url))

    # --- delete ------------------------------------------------------------------------

    def delete(self, object_type: str, remote_ids: Sequence[str]) -> None:
        self._sobject(object_type)
        for chunk in batches([{"id": str(i)} for i in remote_ids], BATCH_LIMIT):
            answers = self.client.delete([str(item["id"]) for item in chunk])
            for answer in answers:
                if answer.get("success"):
                    continue
                outcome = save_result(answer, created=False)
                error = outcome.error
                if error is not None and error.code not in _ALREADY_GONE:
                    raise error

    # --- changes -----------------------------------------------------------------------

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        sobject = self._sobject(object_type)
        field = self.capabilities.of(object_type).incremental_field or MODIFIED
        state = ChangeCursor.decode(cursor)
        page = self._resume(state)
        if page is None:
            state = state.restarted()
            names = [
                str(f["name"]) for f in self._fields(sobject) if f.get("type") not in _UNSELECTABLE
            ]
            query = soql.changed_since(sobject, names, field, state.query_since(self._lag))
            page = self.client.query(query, include_deleted=True)
        records: list[RemoteRecord] = []
        deletions: list[RemoteDeletion] = []
        read: list[tuple[str, Any, str]] = []
        for row in page.get("records") or []:
            remote_id = str(row["Id"])
            row_digest = digest({k: v for k, v in row.items() if k != "attributes"})
            read.append((remote_id, parse_datetime(row.get(field)), row_digest))
            if not state.is_fresh(remote_id, row_digest):
                continue
            if row.get("IsDeleted"):
                deletions.append(to_deletion(row, field))
            else:
                records.append(to_remote_record(row, field))
        if sobject == "Opportunity" and records:
            records = contact_roles.ContactRoles(self.client, self._query_all).attach(records)
        if sobject == "Note":
            records = note_parents.unfold(records)
        next_url = None if page.get("done", True) else page.get("nextRecordsUrl")
        after = state.advance(read, self._lag, str(next_url) if next_url else None)
        return ChangePage(records, deletions, after.encode(), has_more=next_url is not None)

    def _resume(self, state: ChangeCursor) -> Mapping[str, Any] | None:
        """The next page of a query in progress; ``None`` when there is none (or it expired)."""
        if not state.next_url or not state.next_url.startswith("/services/data/"):
            return None
        try:
            return self.client.more(state.next_url)
        except (InvalidRecord, NotFound) as error:
            if error.code != "INVALID_QUERY_LOCATOR" and not isinstance(error, NotFound):
                raise
            return None  # the locator timed out: run the query again from the watermark

    # --- timeline ----------------------------------------------------------------------

    def push_timeline(self, entries: Sequence[TimelineEntry]) -> list[UpsertResult]:
        """Each entry as a completed Task on its record (connectors.salesforce.timeline)."""
        results: list[UpsertResult | None] = [None] * len(entries)
        tasks: Indexed = []
        for index, entry in enumerate(entries):
            try:
                tasks.append((index, to_task(entry)))
            except InvalidRecord as error:
                results[index] = UpsertResult.failed(error)
        for chunk in _chunks(tasks):
            _fill(results, chunk, self.client.create([t for _, t in chunk]), created=True)
        return _settled(results)

    # --- webhooks ----------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        # outbound messages carry no proof of origin but the org they come from; see
        # connectors.salesforce.webhooks
        if not self.org_id:
            return False
        return webhooks.same_org(webhooks.organization_id(body), self.org_id)

    def parse_webhook(self, body: bytes) -> list[RemoteChange]:
        return webhooks.parse(body)

    # --- campaigns (EnrollmentConnector) -----------------------------------------------

    def journeys(self) -> list[Journey]:
        """The org's campaigns."""
        return SalesforceCampaigns(self.client).journeys()

    def enroll(self, journey_id: str, contact: EnrollTarget) -> str:
        """Make the contact a member of the campaign; the CampaignMember's id."""
        return SalesforceCampaigns(self.client).enroll(journey_id, contact)

    def unenroll(self, journey_id: str, contact: EnrollTarget) -> None:
        SalesforceCampaigns(self.client).unenroll(journey_id, contact)

    def close(self) -> None:
        self.client.close()


def _chunks(items: Indexed) -> Iterator[Indexed]:
    for start in range(0, len(items), BATCH_LIMIT):
        yield items[start : start + BATCH_LIMIT]


def _rounds(items: Indexed, key: str) -> list[Indexed]:
    """``items`` split so that no round holds the same key value twice."""
    rounds: list[Indexed] = []
    seen: dict[str, int] = {}
    for index, payload in items:
        value = _norm(_value(payload, key))
        position = seen.get(value, 0)
        seen[value] = position + 1
        if position == len(rounds):
            rounds.append([])
        rounds[position].append((index, payload))
    return rounds


def _settled(results: list[UpsertResult | None]) -> list[UpsertResult]:
    """Every slot filled: one Salesforce left without an answer is a failure."""
    missing = "Salesforce returned no result for this record"
    return [r or UpsertResult.failed(InvalidRecord(missing)) for r in results]


def _fill(
    results: list[UpsertResult | None],
    chunk: Indexed,
    answers: Sequence[Mapping[str, Any]],
    *,
    created: bool | None,
) -> None:
    """Results of one collections call, matched to the chunk by position."""
    for (index, _), answer in zip(chunk, answers, strict=False):
        results[index] = save_result(answer, created=created)
