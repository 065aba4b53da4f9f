"""HubSpot's v3 webhook signature: genuine, tampered, stale and unsigned deliveries; the
events of legacy and generic (custom object) subscriptions."""

from __future__ import annotations

import orjson
import pytest

from crmsync.connectors.base import ChangeKind
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.hubspot.webhooks import MAX_AGE_SECONDS, parse, sign_v3, verify_v3

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://crm.example.com/api/v1/webhooks/hubspot/abc"
BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
    b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
)
NOW = 1_700_000_000.0
STAMP = str(int(NOW * 1000))


def headers(signature: str, stamp: str = STAMP) -> dict[str, str]:
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}


def check(hdrs: dict[str, str], body: bytes = BODY, now: float = NOW, uri: str = URI) -> bool:
    return verify_v3(hdrs, body, secret=Secret(SECRET), uri=uri, clock=lambda: now)


GOOD = sign_v3(SECRET, "POST", URI, BODY, STAMP)


@pytest.mark.parametrize(
    ("hdrs", "body", "now", "uri", "ok"),
    [
        (headers(GOOD), BODY, NOW, URI, True),
        ({k.lower(): v for k, v in headers(GOOD).items()}, BODY, NOW, URI, True),
        (headers(GOOD), BODY, NOW + MAX_AGE_SECONDS - 1, URI, True),
        (headers(GOOD), BODY, NOW + MAX_AGE_SECONDS + 1, URI, False),  # replayed later
        (headers(GOOD), BODY.replace(b"123", b"124"), NOW, URI, False),  # tampered body
        (headers(GOOD), BODY, NOW, URI + "?x=1", False),  # another endpoint
        (headers(sign_v3("other", "POST", URI, BODY, STAMP)), BODY, NOW, URI, False),
        (headers(GOOD, str(int(NOW * 1000) + 1)), BODY, NOW, URI, False),  # stamp changed
        (headers(GOOD, "not-a-number"), BODY, NOW, URI, False),
        ({"X-HubSpot-Request-Timestamp": STAMP}, BODY, NOW, URI, False),
        ({}, BODY, NOW, URI, False),
    ],
)
def test_verify_v3(hdrs: dict[str, str], body: bytes, now: float, uri: str, ok: bool) -> None:
    assert check(hdrs, body, now, uri) is ok


def test_url_encoded_characters_are_decoded_before_signing() -> None:
    encoded = URI + "?name=a%20b"
    signature = sign_v3(SECRET, "POST", URI + "?name=a b", BODY, STAMP)
    assert check(headers(signature), uri=encoded)


def test_parse_reads_an_array_or_a_single_event() -> None:
    assert [c.remote_id for c in parse(BODY)] == ["123"]
    assert [c.remote_id for c in parse(BODY[1:-1])] == ["123"]
    assert parse(b'"nonsense"') == []


def _generic(subscription_type: str, type_id: str, **more: object) -> dict[str, object]:
    return {
        "eventId": 7,
        "subscriptionId": 9,
        "portalId": 62515,
        "occurredAt": 1564113600000,
        "subscriptionType": subscription_type,
        "objectTypeId": type_id,
        "objectId": 4711,
        "changeSource": "CRM_UI",
        **more,
    }


def test_generic_events_name_the_object_by_its_type_id() -> None:
    body = orjson.dumps(
        [
            _generic("object.propertyChange", "2-7100001", propertyName="city", propertyValue="X"),
            _generic("object.creation", "0-3"),  # a deal, by HubSpot's own type id
            _generic("object.deletion", "2-999"),  # a custom object not synced
            _generic("object.creation", ""),
        ]
    )
    changes = parse(body, {"2-7100001": "properties"})
    assert [(c.object_type, c.remote_id, c.kind) for c in changes] == [
        ("properties", "4711", ChangeKind.UPDATED),
        ("deals", "4711", ChangeKind.CREATED),
    ]
    assert changes[0].properties == {"city": "X"}
    assert parse(body) == changes[1:]  # without custom objects only HubSpot's own are known
