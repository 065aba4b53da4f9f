"""The connector contract's value types."""

from __future__ import annotations

import pytest

from crmsync.connectors.base import (
    Capabilities,
    ObjectCapabilities,
    Outcome,
    UpsertResult,
    WebhookKind,
    batches,
)
from crmsync.connectors.errors import ConfigError, InvalidRecord

CAPS = Capabilities(
    objects={
        "contacts": ObjectCapabilities(
            batch_limit=100, upsert_keys=("email",), incremental_field="lastmodifieddate"
        ),
        "notes": ObjectCapabilities(batch_limit=100, incremental_field="hs_lastmodifieddate"),
    },
    webhook_kind=WebhookKind.HMAC_SIGNATURE,
)


def test_capabilities_of_a_known_object() -> None:
    assert CAPS.of("contacts").upsert_keys == ("email",)


def test_unknown_object_is_a_config_error_naming_the_supported_ones() -> None:
    with pytest.raises(ConfigError, match="contacts, notes"):
        CAPS.of("tickets")


def test_batch_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ObjectCapabilities(batch_limit=0)


@pytest.mark.parametrize(
    ("count", "limit", "sizes"),
    [
        (0, 100, []),
        (1, 100, [1]),
        (250, 100, [100, 100, 50]),
        (200, 200, [200]),
        (5, 1, [1, 1, 1, 1, 1]),
    ],
)
def test_batches_keep_order_and_limit(count: int, limit: int, sizes: list[int]) -> None:
    payloads = [{"n": n} for n in range(count)]
    chunks = list(batches(payloads, limit))
    assert [len(c) for c in chunks] == sizes
    assert [p for c in chunks for p in c] == payloads


def test_upsert_results() -> None:
    ok = UpsertResult.created("1")
    bad = UpsertResult.failed(InvalidRecord("email invalid", status=400))
    assert ok.ok and ok.outcome is Outcome.CREATED
    assert UpsertResult.updated("2").outcome is Outcome.UPDATED
    assert not bad.ok and bad.error is not None and bad.error.kind == "InvalidRecord"


def test_one_result_per_payload_is_enforced() -> None:
    UpsertResult.check([{}, {}], [UpsertResult.created("1"), UpsertResult.created("2")])
    with pytest.raises(ConfigError):
        UpsertResult.check([{}, {}], [UpsertResult.created("1")])
