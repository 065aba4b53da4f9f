"""The Total Expert connector: contacts, timeline notes, journeys, secret-checked webhooks.

Total Expert de-duplicates contacts itself: a POST that matches an existing contact
answers ``duplicate`` and updates that contact, which the connector reports as updated.
With a match key (``email`` or ``external_id``) the contact is looked up first, so a
payload whose names changed still updates the contact it belongs to. Deleting archives
the contact: deleted contacts are visible only through webhooks, archived ones can be
polled, so deletions made through crmsync show up in ``changes`` too.
"""

from __future__ import annotations

import contextlib
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
    TimelineEntry,
    UpsertResult,
    WebhookKind,
)
from crmsync.connectors.engagement import RemoteInteraction
from crmsync.connectors.errors import AuthError, ConfigError, InvalidRecord, NotFound
from crmsync.connectors.http import RateLimiter, build_http
from crmsync.connectors.http.profiles import profile
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.journeys import EnrollTarget
from crmsync.connectors.pipedrive.cursor import ChangeCursor, Lane, Row, digest
from crmsync.connectors.registry import ConnectorContext
from crmsync.connectors.totalexpert import webhooks
from crmsync.connectors.totalexpert.auth import build_auth
from crmsync.connectors.totalexpert.client import TotalExpertClient
from crmsync.connectors.totalexpert.lending import LENDING, LENDING_FIELDS, Lending
from crmsync.connectors.totalexpert.mappers import (
    te_time,
    to_contact_body,
    to_interaction,
    to_journey,
    to_note_body,
    to_remote_fields,
    to_remote_record,
)
from crmsync.connectors.totalexpert.notes import NOTE_FIELDS, TotalExpertNotes
from crmsync.connectors.totalexpert.spec import SPEC

__all__ = ["CAPABILITIES", "TotalExpertConnector"]

MATCH_KEYS = ("email", "external_id")
# the `source` of contacts crmsync creates without one (Total Expert requires it)
DEFAULT_SOURCE = "crmsync"
# archived contacts older than the first poll concern records crmsync never saw
DELETIONS_MARGIN = 60
_SORT = "internal_updated_at"

CAPABILITIES = Capabilities(
    objects={
        "contacts": ObjectCapabilities(1, MATCH_KEYS, _SORT),
        # loans and lead opportunities (connectors.totalexpert.lending); Total Expert
        # reports neither one's deletions, and lead opportunities cannot be deleted
        "deals": ObjectCapabilities(1, (), "internal_updated_at", reports_deletions=False),
        "leads": ObjectCapabilities(1, (), "updated_at", can_delete=False, reports_deletions=False),
        # contact notes (connectors.totalexpert.notes)
        "notes": ObjectCapabilities(1, (), "created_on", reports_deletions=False),
    },
    webhook_kind=WebhookKind.BODY_SECRET,
    timeline=True,
    journeys=True,
)


def _row(record: RemoteRecord) -> Row:
    at = int(record.modified_at.timestamp()) if record.modified_at else 0
    return record.remote_id, at, digest(record.properties)


class TotalExpertConnector(Connector):
    """One Total Expert account."""

    provider = "totalexpert"
    capabilities = CAPABILITIES

    def __init__(
        self,
        client: TotalExpertClient,
        *,
        webhook_secret: Secret | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self._webhook_secret = webhook_secret
        self._clock = clock

    @classmethod
    def from_context(cls, context: ConnectorContext) -> TotalExpertConnector:
        """The connector of one integration (the registry's factory)."""
        limiter = RateLimiter(
            profile(context.rate_profile or "totalexpert"),
            str(context.integration_id),
            context.windows,
            clock=context.clock,
            sleep=context.sleep,
            max_wait=context.http.max_rate_wait,
        )
        http = build_http(
            base_url=context.base_url,
            provider="totalexpert",
            auth=build_auth(context),
            integration_id=context.integration_id,
            limiter=limiter,
            hooks=SPEC.error_hooks,
            settings=context.http,
            transport=context.transport,
            verify=context.verify,
            sleep=context.sleep,
        )
        secret = context.webhook_secret or context.secret("webhook_secret")
        return cls(TotalExpertClient(http), webhook_secret=secret, clock=context.clock)

    # --- describe ----------------------------------------------------------------------

    def describe(self, object_type: str) -> list[RemoteField]:
        """Standard contact fields plus the contact custom-field definitions (Total
        Expert refuses values of undefined custom fields). Reading definitions needs the
        describeSchema scope; without it, the custom fields the latest contacts carry."""
        self.capabilities.of(object_type)
        if object_type in LENDING:
            return list(LENDING_FIELDS[object_type])
        if object_type == "notes":
            return list(NOTE_FIELDS)
        try:
            return to_remote_fields(self.client.contact_custom_fields())
        except (AuthError, NotFound):
            pass
        recent, _ = self.client.contacts({}, f"-{_SORT}", 1)
        names = [
            str(c["field_name"])
            for contact in recent
            for c in contact.get("custom") or []
            if isinstance(c, Mapping) and c.get("field_name")
        ]
        return to_remote_fields(names)

    # --- upsert ------------------------------------------------------------------------

    def upsert(
        self, object_type: str, payloads: Sequence[Payload], match_key: str | None
    ) -> list[UpsertResult]:
        self.capabilities.of(object_type)
        if object_type in LENDING or object_type == "notes":
            return self._upsert_lending(object_type, payloads)
        if match_key and match_key not in MATCH_KEYS:
            raise ConfigError(f"Total Expert contacts match on {' or '.join(MATCH_KEYS)}")
        results: list[UpsertResult] = []
        for payload in payloads:
            try:
                results.append(self._write(payload, match_key))
            except (InvalidRecord, NotFound) as error:
                results.append(UpsertResult.failed(error))
        UpsertResult.check(payloads, results)
        return results

    def _upsert_lending(self, object_type: str, payloads: Sequence[Payload]) -> list[UpsertResult]:
        lending = Lending(self.client.http)
        notes = TotalExpertNotes(self.client.http)
        results: list[UpsertResult] = []
        for payload in payloads:
            try:
                if object_type == "notes":
                    results.append(notes.upsert(payload))
                else:
                    results.append(lending.upsert(object_type, payload))
            except (InvalidRecord, NotFound) as error:
                results.append(UpsertResult.failed(error))
        return results

    def read(self, object_type: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        """Loans and lead opportunities by id (``ReadConnector``); contacts are not read
        this way."""
        if object_type not in LENDING:
            return []
        out = []
        for remote_id in remote_ids:
            try:
                out += Lending(self.client.http).read(object_type, [remote_id])
            except NotFound:
                continue
        return out

    def _write(self, payload: Payload, match_key: str | None) -> UpsertResult:
        body = to_contact_body(payload)
        remote_id = str(payload["id"]) if payload.get("id") else None
        value = str(payload.get(match_key) or "") if match_key else ""
        if remote_id is None and match_key and value:
            found, _ = self.client.contacts({match_key: value}, "id", 1, size=1)
            remote_id = str(found[0]["id"]) if found else None
        if remote_id is not None:
            self.client.patch_contact(remote_id, body)
            return UpsertResult.updated(remote_id)
        if not body.get("source"):
            # Total Expert refuses a contact created without a source.
            body["source"] = DEFAULT_SOURCE
        created, new_id = self.client.create_contact(body)
        return UpsertResult.created(new_id) if created else UpsertResult.updated(new_id)

    # --- delete ------------------------------------------------------------------------

    def delete(self, object_type: str, remote_ids: Sequence[str]) -> None:
        self.capabilities.of(object_type)
        if object_type == "leads":
            raise ConfigError("Total Expert lead opportunities cannot be deleted")
        if object_type == "notes":
            for remote_id in remote_ids:
                with contextlib.suppress(NotFound):  # already gone
                    self.client.http.delete(f"/v1/contact-notes/{remote_id}")
            return
        for remote_id in remote_ids:
            if object_type == "deals":
                with contextlib.suppress(NotFound):  # already gone
                    self.client.http.delete(f"/v1/loans/{remote_id}")
                continue
            try:
                self.client.patch_contact(str(remote_id), {"archived": True})
            except NotFound:
                continue

    # --- changes -----------------------------------------------------------------------

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        self.capabilities.of(object_type)
        if object_type in LENDING:
            return Lending(self.client.http).changes(object_type, cursor)
        if object_type == "notes":
            return TotalExpertNotes(self.client.http).changes(cursor)
        state = ChangeCursor.decode(cursor, deletions_start=int(self._clock()) - DELETIONS_MARGIN)
        found, lane = self._scan(state.records, archived=False)
        deletions: list[RemoteDeletion] = []
        dead = state.deletions
        if lane.page is None:
            gone, dead = self._scan(state.deletions, archived=True)
            deletions = [RemoteDeletion(r.remote_id, r.modified_at) for r in gone]
        return ChangePage(
            found, deletions, ChangeCursor(lane, dead).encode(), lane.page is not None
        )

    def _scan(self, lane: Lane, *, archived: bool) -> tuple[list[RemoteRecord], Lane]:
        """One page of contacts updated at or after the lane's second."""
        since = te_time(datetime.fromtimestamp(lane.since, tz=UTC))
        filters = {"internal_updated_at_start": since, "archieved": "1" if archived else "0"}
        page = int(lane.page) if lane.page else 1
        raw, following = self.client.contacts(filters, _SORT, page)
        found = [to_remote_record(c) for c in raw]
        rows = [_row(r) for r in found]
        fresh = {r[0] for r in lane.fresh(rows)}
        full = len(raw) == self.client.page_size and following is not None
        moved = lane.advance(rows, str(following) if full else None)
        if full and moved.page is None:
            # a full page that reached a newer second: query again from that second
            moved = Lane(moved.since, moved.seen, "1")
        return [r for r in found if r.remote_id in fresh], moved

    # --- timeline and journeys ---------------------------------------------------------

    def push_timeline(self, entries: Sequence[TimelineEntry]) -> list[UpsertResult]:
        """Each entry as a contact note (Total Expert's timeline is notes and activity)."""
        results: list[UpsertResult] = []
        owners: dict[str, Mapping[str, Any]] = {}
        for entry in entries:
            if entry.object_type != "contacts":
                error = InvalidRecord(f"timeline entries hang on contacts, not {entry.object_type}")
                results.append(UpsertResult.failed(error))
                continue
            try:
                owner = self._note_owner(entry, owners)
                note = self.client.create_note(to_note_body(entry, owner))
                results.append(UpsertResult.created(note))
            except (InvalidRecord, NotFound) as error:
                results.append(UpsertResult.failed(error))
        return results

    def _note_owner(
        self, entry: TimelineEntry, known: dict[str, Mapping[str, Any]]
    ) -> Mapping[str, Any]:
        """Who owns the note: the entry's own `owner`, else the contact's owner.

        Our client-credentials token acts as an admin, for whom Total Expert requires the
        note's owner, and that user must own the contact.
        """
        given = entry.data.get("owner")
        if isinstance(given, Mapping) and given:
            return given
        if entry.remote_id not in known:
            owner = self.client.contact(entry.remote_id).get("owner") or {}
            if not isinstance(owner, Mapping) or owner.get("id") is None:
                raise InvalidRecord(f"contact {entry.remote_id} has no owner to own its notes")
            known[entry.remote_id] = {"id": owner["id"]}
        return known[entry.remote_id]

    def journeys(self) -> list[Journey]:
        """The account's journeys."""
        return [to_journey(j) for j in self.client.journeys()]

    def trigger_journey(self, journey_id: str, remote_contact_id: str) -> None:
        """Enrol a contact in a journey; an inactive journey is ``InvalidRecord``."""
        self.client.enroll(journey_id, remote_contact_id)

    def enroll(self, journey_id: str, contact: EnrollTarget) -> str:
        """Enrol a contact (``EnrollmentConnector``); it must exist in Total Expert."""
        if not contact.remote_id:
            raise InvalidRecord("the contact is not in Total Expert yet")
        return self.client.enroll(journey_id, contact.remote_id)

    def unenroll(self, journey_id: str, contact: EnrollTarget) -> None:
        """End a contact's enrolment; one that is not enrolled is left as it is."""
        if not contact.remote_id:
            return
        try:
            self.client.unenroll(journey_id, contact.remote_id)
        except NotFound:
            return

    def interactions(self, remote_contact_id: str) -> list[RemoteInteraction]:
        """The contact's engagement from Total Expert's activity feed (``EngagementConnector``):
        e-mails opened and clicked, texts replied to."""
        found = (to_interaction(a) for a in self.client.activity(remote_contact_id))
        return [i for i in found if i is not None]

    # --- webhooks ----------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        if self._webhook_secret is None:
            return False
        return webhooks.verify_secret(body, self._webhook_secret)

    def parse_webhook(self, body: bytes) -> list[RemoteChange]:
        return webhooks.parse(body)

    def close(self) -> None:
        self.client.close()
