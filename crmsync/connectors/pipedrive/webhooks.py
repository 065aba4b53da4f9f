"""Pipedrive webhook deliveries: HTTP Basic credentials and the v2 / v1 payloads.

Pipedrive signs nothing: a subscription may carry ``http_auth_user`` and
``http_auth_password``, which every delivery presents as ``Authorization: Basic``. They
prove who sent a delivery, not that its body is intact (TLS does that in transit).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from crmsync.connectors.base import ChangeKind, RemoteChange
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.pipedrive.mappers import parse_time

__all__ = ["ACTIONS", "OBJECTS", "basic_header", "parse", "verify_basic"]

# v2 actions and v1 verbs
ACTIONS: Mapping[str, ChangeKind] = {
    "create": ChangeKind.CREATED,
    "added": ChangeKind.CREATED,
    "change": ChangeKind.UPDATED,
    "updated": ChangeKind.UPDATED,
    "delete": ChangeKind.DELETED,
    "deleted": ChangeKind.DELETED,
    "merged": ChangeKind.MERGED,
}
# Webhook object names -> crmsync object types (what the worker then polls).
OBJECTS: Mapping[str, str] = {
    "person": "contacts",
    "organization": "companies",
    "deal": "deals",
    "lead": "leads",
    "activity": "activities",
    "note": "notes",
}


def basic_header(user: str, password: str) -> str:
    """The ``Authorization`` value a delivery with these credentials carries."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def verify_basic(headers: Mapping[str, str], user: str, password: Secret) -> bool:
    """Whether the delivery presents exactly these credentials (constant-time)."""
    given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, encoded = given.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = f"{user}:{password.reveal()}".encode()
    return hmac.compare_digest(decoded, expected)


def _v2(event: Mapping[str, Any]) -> list[RemoteChange]:
    meta = event.get("meta") or {}
    object_type = OBJECTS.get(str(meta.get("entity")))
    kind = ACTIONS.get(str(meta.get("action")))
    if object_type is None or kind is None:
        return []
    data = event.get("data") or {}
    previous = event.get("previous") or {}
    merged_into = previous.get("merged_to_id") if kind is ChangeKind.DELETED else None
    return [
        RemoteChange(
            object_type,
            str(meta.get("entity_id") or data.get("id") or previous.get("id")),
            ChangeKind.MERGED if merged_into else kind,
            str(meta["id"]) if meta.get("id") else None,
            parse_time(meta.get("timestamp")),
            dict(data) if isinstance(data, Mapping) else {},
            str(merged_into) if merged_into else None,
        )
    ]


def _v1(event: Mapping[str, Any]) -> list[RemoteChange]:
    meta = event.get("meta") or {}
    verb, _, singular = str(event.get("event", "")).partition(".")
    object_type = OBJECTS.get(str(meta.get("object") or singular))
    kind = ACTIONS.get(str(meta.get("action") or verb))
    if object_type is None or kind is None:
        return []
    current = event.get("current") or {}
    previous = event.get("previous") or {}
    remote_id = str(meta.get("id") or current.get("id") or previous.get("id"))
    merged_into = previous.get("merged_to_id") if kind is ChangeKind.DELETED else None
    stamp = meta.get("timestamp_micro") or meta.get("timestamp")
    event_id = f"{meta.get('webhook_id')}:{singular or meta.get('object')}:{remote_id}:{stamp}"
    seconds = meta.get("timestamp")
    return [
        RemoteChange(
            object_type,
            remote_id,
            ChangeKind.MERGED if merged_into else kind,
            event_id,
            parse_time(seconds) if isinstance(seconds, str) else _epoch(seconds),
            dict(current) if isinstance(current, Mapping) else {},
            str(merged_into) if merged_into else None,
        )
    ]


def _epoch(value: Any) -> datetime | None:
    return datetime.fromtimestamp(float(value), tz=UTC) if value is not None else None


def parse(body: bytes) -> list[RemoteChange]:
    """The change a delivery reports (v2 ``meta.version == "2.0"``, else v1)."""
    event: Any = orjson.loads(body)
    if not isinstance(event, Mapping):
        return []
    meta = event.get("meta") or {}
    return _v2(event) if str(meta.get("version", "")).startswith("2") else _v1(event)
