"""One fingerprint (crmsync.fingerprint) for idempotent events, pushed payloads and the
change cursors' boundary records; the values already stored keep matching."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import orjson

from crmsync.connectors.pipedrive.cursor import digest as keyset_digest
from crmsync.connectors.salesforce.cursor import digest as salesforce_digest
from crmsync.fingerprint import fingerprint
from crmsync.sync.outbound import payload_hash

BODY = {"b": [1, {"z": 2, "y": None}], "a": "Ann", "n": 1.5}


def test_key_order_does_not_matter_and_content_does() -> None:
    assert fingerprint(BODY) == fingerprint(dict(reversed(list(BODY.items()))))
    assert fingerprint(BODY) != fingerprint({**BODY, "a": "Bo"})
    assert len(fingerprint(BODY)) == 64 and len(fingerprint(BODY, 16)) == 16


def test_values_json_cannot_hold_are_written_as_text() -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    assert fingerprint({"at": at, "id": object}) == fingerprint({"at": at, "id": str(object)})


def test_stored_event_and_link_hashes_keep_their_values() -> None:
    # idempotency keys and Links hold hashes made before: the function must not drift
    before = hashlib.sha256(orjson.dumps(BODY, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert fingerprint(BODY) == before
    assert payload_hash({**BODY, "id": "ignored"}) == before


def test_salesforce_cursor_digests_of_plain_rows_keep_their_values() -> None:
    row = {"Id": "003x", "Email": "ann@example.com", "Amount": 12, "Closed": False}
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    assert salesforce_digest(row) == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert keyset_digest(row) == salesforce_digest(row)
