"""Webhook deliveries of a REST CRM: a shared-secret header, and events named
``<event_name><separator><action>`` carrying the record."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import orjson

from crmsync.connectors.base import RemoteChange
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.rest.definition import Definition, ObjectSpec, WebhookSpec
from crmsync.connectors.rest.wire import dig, parse_time, to_properties

__all__ = ["parse", "verify"]


def verify(spec: WebhookSpec, secret: Secret, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the secret header holds ``secret`` and the event header agrees with the body."""
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get(spec.secret_header.lower())
    if not given or not hmac.compare_digest(given.encode(), secret.reveal().encode()):
        return False
    if spec.event_header is None:
        return True
    try:
        event = dig(orjson.loads(body), spec.event)
    except orjson.JSONDecodeError:
        return False
    return event is not None and lowered.get(spec.event_header.lower()) == str(event)


def parse(definition: Definition, specs: Mapping[str, ObjectSpec], body: Any) -> list[RemoteChange]:
    """The changes of a delivery (one event or a list of them); unknown events are skipped."""
    spec = definition.webhooks
    if spec is None:
        return []
    by_event = {s.event_name: name for name, s in specs.items()}
    events = body if isinstance(body, list) else [body]
    changes = []
    for event in events:
        if not isinstance(event, Mapping):
            continue
        name, _, action = str(dig(event, spec.event) or "").rpartition(spec.separator)
        object_type = by_event.get(name)
        kind = spec.actions.get(action)
        record = dig(event, spec.record)
        if object_type is None or kind is None or not isinstance(record, Mapping):
            continue
        remote_id = dig(record, definition.record.id)
        if remote_id is None:
            continue
        delivery = dig(event, spec.delivery_id)
        changes.append(
            RemoteChange(
                object_type=object_type,
                remote_id=str(remote_id),
                kind=kind,
                event_id=str(delivery) if delivery is not None else None,
                occurred_at=parse_time(dig(event, spec.occurred_at)) if spec.occurred_at else None,
                properties=to_properties(record, specs[object_type], definition),
            )
        )
    return changes
