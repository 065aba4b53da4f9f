"""The message crmsync reads from a bus: an app event or a record upsert, with an id.

An app event has the body of ``POST /api/v1/events`` (``type``, ``data``,
``occurred_at``); a record upsert has ``upsert: {record_type, record}`` (one item of
``POST /api/v1/{type}/batch``). Both carry ``id``, the idempotency key (the same store
as the ``Idempotency-Key`` header), and the ``workspace_id`` unless the source belongs
to one workspace. docs/schemas/bus-message.schema.json is this model's JSON Schema.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crmsync.store.models import RECORD_MODELS

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
UPSERTED = "record.upserted"  # the event type an upsert message is kept under


class Upsert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_type: str = Field(description="contacts, companies, leads, deals, ... (plural)")
    record: dict[str, Any] = Field(description="the record's fields, as in a batch upsert item")


class BusMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200, description="the idempotency key")
    workspace_id: uuid.UUID | None = None
    key: str | None = Field(None, max_length=200, description="ordering key, e.g. a lead id")
    type: str | None = Field(None, pattern=EVENT_TYPE_PATTERN, max_length=100)
    data: dict[str, Any] | None = None
    occurred_at: datetime | None = None
    upsert: Upsert | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> BusMessage:
        if (self.type is None) == (self.upsert is None):
            raise ValueError("a message has either 'type' (an app event) or 'upsert'")
        if self.upsert is not None:
            if self.data is not None or self.occurred_at is not None:
                raise ValueError("an upsert message has no 'data' or 'occurred_at'")
            if self.upsert.record_type not in RECORD_MODELS:
                known = ", ".join(RECORD_MODELS)
                raise ValueError(f"unknown record_type {self.upsert.record_type!r}; known: {known}")
        return self


class Poison(Exception):
    """A message that can never be stored: it goes to the dead letters with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed message: what to store, under which key, in which workspace."""

    id: str
    workspace_id: uuid.UUID | None
    type: str
    data: dict[str, Any]
    occurred_at: datetime | None
    upsert: Upsert | None

    # The body ``POST /api/v1/events`` would have fingerprinted (same key, other body: refused)
    body: dict[str, Any]


def parse(raw: bytes | str | dict[str, Any]) -> Envelope:
    """The message's envelope, or ``Poison`` saying why it has none."""
    try:
        body = raw if isinstance(raw, dict) else orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Poison(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Poison("not a JSON object")
    try:
        message = BusMessage.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise Poison(f"invalid message: {where}: {first['msg']}") from None
    if message.upsert is not None:
        request = {"upsert": message.upsert.model_dump(mode="json")}
    else:
        request = message.model_dump(mode="json", include={"type", "data", "occurred_at"})
        request["data"] = request["data"] or {}
    return Envelope(
        id=message.id,
        workspace_id=message.workspace_id,
        type=message.type or UPSERTED,
        data=message.data or {},
        occurred_at=message.occurred_at,
        upsert=message.upsert,
        body=request,
    )


def json_schema() -> dict[str, Any]:
    """docs/schemas/bus-message.schema.json: the model's schema, with the one-kind rule."""
    schema = BusMessage.model_json_schema()
    rule = {
        "oneOf": [
            {"required": ["type"], "not": {"required": ["upsert"]}},
            {"required": ["upsert"], "not": {"anyOf": [{"required": ["type"]}]}},
        ]
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://crmsync.dev/schemas/bus-message.schema.json",
        "description": "A message crmsync consumes from a bus: an app event (the body of "
        "POST /api/v1/events plus id and workspace_id) or a record upsert. The id is the "
        "idempotency key, shared with the Idempotency-Key header.",
        **schema,
        **rule,
    }


if __name__ == "__main__":  # regenerate: python -m crmsync.bus.envelope > docs/schemas/...
    import json

    print(json.dumps(json_schema(), indent=2))
