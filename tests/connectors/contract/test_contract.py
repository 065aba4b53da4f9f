"""Every connector, against its sandbox over a socket: writes, polling, webhooks, errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from crmsync.connectors.base import (
    ChangeKind,
    ChangePage,
    Connector,
    Outcome,
    TimelineConnector,
    TimelineEntry,
    WebhookKind,
)
from crmsync.connectors.errors import AuthError, InvalidRecord, NotFound, RateLimited, Transient
from crmsync.connectors.http import HttpSettings, RetryPolicy, TokenSet
from tests.connectors.conftest import FakeClock
from tests.connectors.contract.targets import Target, payloads
from tests.sandbox.conftest import Receiver


def poll(connector: Connector, object_type: str, cursor: str | None) -> ChangePage:
    """Every page until none is ready, merged into one."""
    records, deletions = [], []
    while True:
        page = connector.changes(object_type, cursor)
        records += page.records
        deletions += page.deletions
        cursor = page.next_cursor
        if not page.has_more:
            return ChangePage(records, deletions, cursor)


def test_create_returns_one_created_result_per_payload(target: Target) -> None:
    connector = target.connector()
    results = connector.upsert(target.object_type, payloads(target, range(3)), target.match_key)
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3
    for n, result in enumerate(results):
        assert result.remote_id is not None
        remote = target.remote(result.remote_id)
        key = target.match_key
        assert remote is not None and remote[key] == target.payload(n)[key]


def test_batch_with_invalid_records_writes_the_valid_ones(target: Target) -> None:
    connector = target.connector()
    batch = payloads(target, range(10))
    for n in (2, 5, 9):
        batch[n] = target.invalid_payload(100 + n)
    results = connector.upsert(target.object_type, batch, target.match_key)
    assert len(results) == 10
    for n, result in enumerate(results):
        if n in (2, 5, 9):
            assert not result.ok and isinstance(result.error, InvalidRecord), result
        else:
            assert result.outcome is Outcome.CREATED and result.remote_id
            assert target.remote(result.remote_id) is not None
    assert target.sandbox.counts()[target.object_type] == 7


def test_upsert_by_key_updates_the_same_record(target: Target) -> None:
    connector = target.connector()
    first = connector.upsert(target.object_type, [target.payload(1)], target.match_key)[0]
    changed = {**target.payload(1), "firstname": "Renamed"}
    again = connector.upsert(target.object_type, [changed], target.match_key)[0]
    assert again.outcome is Outcome.UPDATED and again.remote_id == first.remote_id
    by_id = {"id": first.remote_id, "lastname": "ById"}
    third = connector.upsert(target.object_type, [by_id], target.match_key)[0]
    assert third.outcome is Outcome.UPDATED and third.remote_id == first.remote_id
    remote = target.remote(str(first.remote_id))
    assert remote is not None
    assert (remote["firstname"], remote["lastname"]) == ("Renamed", "ById")


def test_delete_removes_and_tolerates_missing_records(target: Target) -> None:
    connector = target.connector()
    made = connector.upsert(target.object_type, payloads(target, range(2)), target.match_key)
    ids = [str(r.remote_id) for r in made]
    connector.delete(target.object_type, [ids[0], "999999999"])
    assert target.remote(ids[0]) is None
    assert target.remote(ids[1]) is not None


def test_changes_are_incremental_and_include_deletions(target: Target) -> None:
    connector = target.connector()
    made = connector.upsert(target.object_type, payloads(target, range(3)), target.match_key)
    ids = [str(r.remote_id) for r in made]
    first = poll(connector, target.object_type, None)
    assert {r.remote_id for r in first.records} >= set(ids)
    time.sleep(0.01)  # a later millisecond than the cursor's
    target.change(ids[1], {"lastname": "Changed"})
    connector.delete(target.object_type, [ids[2]])
    second = poll(connector, target.object_type, first.next_cursor)
    assert [r.remote_id for r in second.records] == [ids[1]]
    properties = {k.lower(): v for k, v in second.records[0].properties.items()}
    assert properties["lastname"] == "Changed"  # Salesforce spells it LastName
    assert [d.remote_id for d in second.deletions] == [ids[2]]
    quiet = poll(connector, target.object_type, second.next_cursor)
    assert quiet.records == [] and quiet.deletions == []


def test_a_change_after_quiet_polls_is_read(target: Target) -> None:
    """A webhook asks for a poll moments after the last one found nothing: whatever the
    quiet polls left in the cursor must not hide the change."""
    connector = target.connector()
    made = connector.upsert(target.object_type, payloads(target, range(3)), target.match_key)
    ids = [str(r.remote_id) for r in made]
    cursor = poll(connector, target.object_type, None).next_cursor
    for quiet_polls in (1, 2):  # after an odd and an even number of them
        for _ in range(quiet_polls):
            quiet = poll(connector, target.object_type, cursor)
            assert quiet.records == [] and quiet.deletions == []
            cursor = quiet.next_cursor
        target.offset += 1.0  # the sandbox's clock: a later time than the cursor's
        target.change(ids[0], {"lastname": f"Changed{quiet_polls}"})
        changed = poll(connector, target.object_type, cursor)
        assert [r.remote_id for r in changed.records] == [ids[0]]
        cursor = changed.next_cursor


def test_webhooks_verify_genuine_deliveries_and_refuse_forged_ones(
    target: Target, receiver: Receiver
) -> None:
    if target.connector().capabilities.webhook_kind is WebhookKind.NONE:
        pytest.skip(f"{target.provider} sends no verifiable webhooks; it is polled")
    target.subscribe(receiver.url)
    record = target.change(None, target.payload(7))
    headers, body = receiver.wait(1)[0]
    connector = target.connector(webhook_url=receiver.url)
    assert connector.verify_webhook(headers, body)
    changes = connector.parse_webhook(body)
    assert any(
        c.remote_id == str(record["id"]) and c.kind is ChangeKind.CREATED and c.event_id
        for c in changes
    )
    if target.signs_body:
        assert not connector.verify_webhook(headers, body.replace(b"}", b',"x":1}', 1))
        assert not connector.verify_webhook({}, body)
    else:
        forged = body.replace(target.webhook_secret.encode(), b"guessed-secret")
        forged_headers = {**headers, "authorization": "Basic Y3Jtc3luYzpndWVzc2Vk"}
        assert not connector.verify_webhook(forged_headers, forged)
        assert not connector.verify_webhook({}, body.replace(target.webhook_secret.encode(), b""))
    wrong = target.connector(webhook_url=receiver.url, webhook_secret=None, client_secret=None)
    assert not wrong.verify_webhook(headers, body + b" ")


def test_timeline_entries_land_on_their_record(target: Target) -> None:
    connector = target.connector()
    if not connector.capabilities.timeline:
        pytest.skip(f"{target.provider} has no activities/notes timeline in crmsync")
    assert isinstance(connector, TimelineConnector)
    made = connector.upsert(target.object_type, [target.payload(1)], target.match_key)[0]
    record = str(made.remote_id)
    now = datetime.now(UTC)
    results = connector.push_timeline(
        [
            TimelineEntry(target.object_type, record, "note", now, "Call back", "Asked for rates"),
            TimelineEntry(target.object_type, record, "email_sent", now, body="Rate sheet"),
            TimelineEntry("tickets", record, "note", now, "Nowhere to hang"),
            TimelineEntry(target.object_type, target.missing_id, "note", now, "Nobody"),
        ]
    )
    assert [r.outcome for r in results] == [Outcome.CREATED] * 2 + [Outcome.ERROR] * 2
    assert all(r.remote_id for r in results[:2])
    assert all(isinstance(r.error, InvalidRecord | NotFound) for r in results[2:]), results
    assert sorted(s.lower() for s in target.timeline(record)) == ["call back", "email sent"]


def test_expired_token_is_refreshed_before_the_call(target: Target) -> None:
    credentials = {**target.credentials("oauth"), "expires_at": time.time() - 1}
    saved: list[TokenSet] = []
    connector = target.connector(credentials=credentials, on_refresh=saved.append)
    assert connector.describe(target.object_type)
    assert len(saved) == 1
    assert saved[0].access_token.reveal() != credentials["access_token"]


def test_token_expired_on_the_server_is_refreshed_once_on_401(target: Target) -> None:
    credentials = target.credentials("oauth")
    target.expire_tokens_on_server()
    saved: list[TokenSet] = []
    connector = target.connector(credentials=credentials, on_refresh=saved.append)
    assert connector.describe(target.object_type)
    assert len(saved) == 1


def test_rejected_credentials_raise_auth_error(target: Target) -> None:
    with pytest.raises(AuthError):
        target.connector("invalid").describe(target.object_type)


def test_429_waits_the_providers_retry_after_then_succeeds(target: Target) -> None:
    if not target.sends_retry_after:
        pytest.skip(f"{target.provider} has no 429 with a wait; its quota is daily")
    clock = FakeClock(time.time())
    connector = target.connector(sleep=clock.sleep, clock=clock)
    target.force("429", 1)
    assert connector.describe(target.object_type)
    assert clock.sleeps and clock.sleeps[0] >= 1


def test_429_beyond_the_tolerated_count_raises_rate_limited(target: Target) -> None:
    clock = FakeClock(time.time())
    settings = HttpSettings(max_rate_limited=1)
    connector = target.connector(sleep=clock.sleep, clock=clock, http=settings)
    target.force("429", 2)
    with pytest.raises(RateLimited) as raised:
        connector.describe(target.object_type)
    assert raised.value.retry_after >= 1


def test_5xx_is_transient_after_the_retries(target: Target) -> None:
    clock = FakeClock(time.time())
    settings = HttpSettings(retry=RetryPolicy(attempts=3, base=0.5, cap=4, jitter=0))
    connector = target.connector(sleep=clock.sleep, clock=clock, http=settings)
    target.force("503", 3)
    with pytest.raises(Transient):
        connector.describe(target.object_type)
    assert clock.sleeps == [0.5, 1.0]
