"""The shared contract for Pipedrive and Total Expert, against their sandboxes.

Every contract test runs here but the webhook one, whose altered-body check needs a
signature; its replacement checks what credentials and body secrets do prove.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmsync.connectors.base import ChangeKind
from tests.connectors.contract.targets import UNSIGNED_TARGETS, Target
from tests.connectors.contract.test_contract import (  # noqa: F401  (collected here)
    test_5xx_is_transient_after_the_retries,
    test_429_beyond_the_tolerated_count_raises_rate_limited,
    test_429_waits_the_providers_retry_after_then_succeeds,
    test_batch_with_invalid_records_writes_the_valid_ones,
    test_changes_are_incremental_and_include_deletions,
    test_create_returns_one_created_result_per_payload,
    test_delete_removes_and_tolerates_missing_records,
    test_expired_token_is_refreshed_before_the_call,
    test_rejected_credentials_raise_auth_error,
    test_token_expired_on_the_server_is_refreshed_once_on_401,
    test_upsert_by_key_updates_the_same_record,
)
from tests.sandbox.conftest import Receiver, receiver  # noqa: F401  (fixture)


@pytest.fixture(scope="module", params=sorted(UNSIGNED_TARGETS))
def served(request: pytest.FixtureRequest) -> Iterator[Target]:
    target = UNSIGNED_TARGETS[request.param]()
    yield target
    target.stop()


@pytest.fixture
def target(served: Target) -> Target:
    served.reset()
    return served


def test_webhooks_verify_the_shared_credentials_and_refuse_others(
    target: Target,
    receiver: Receiver,  # noqa: F811  (the imported fixture)
) -> None:
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
    forged = body.replace(target.webhook_secret.encode(), b"guessed-secret")
    forged_headers = {**headers, "authorization": "Basic Y3Jtc3luYzpndWVzc2Vk"}
    assert not connector.verify_webhook(forged_headers, forged)
    assert not connector.verify_webhook({}, body.replace(target.webhook_secret.encode(), b""))
    unconfigured = target.connector(webhook_url=receiver.url, webhook_secret=None)
    assert not unconfigured.verify_webhook(headers, body)
