"""The documented message shapes stay those the code reads."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from crmsync.api.routers.events import EventIn
from crmsync.bus.envelope import BusMessage, Poison, json_schema, parse

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_json_schema_file_is_the_models() -> None:
    written = json.loads((DOCS / "schemas" / "bus-message.schema.json").read_text())
    assert written == json_schema(), (
        "regenerate: python -m crmsync.bus.envelope > docs/schemas/bus-message.schema.json"
    )


def test_an_app_event_message_is_the_events_api_body_plus_id() -> None:
    assert set(EventIn.model_fields) <= set(BusMessage.model_fields)
    http = EventIn.model_json_schema()["properties"]
    bus = BusMessage.model_json_schema()["properties"]
    assert bus["type"]["anyOf"][0]["pattern"] == http["type"]["pattern"]
    assert bus["occurred_at"]["anyOf"] == http["occurred_at"]["anyOf"]


def test_asyncapi_examples_parse_and_its_schema_is_the_file() -> None:
    spec = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    assert spec["asyncapi"].startswith("3.")
    inbound = spec["components"]["messages"]["BusMessage"]
    assert inbound["payload"]["$ref"] == "schemas/bus-message.schema.json"
    examples = [e["payload"] for e in inbound["examples"]]
    assert len(examples) >= 2
    for example in examples:
        parse(example)  # raises Poison if the docs drifted
    outbound = spec["components"]["messages"]["OutboundEvent"]
    for example in outbound["examples"]:
        parse(example["payload"])  # crmsync's own events are messages it could consume


def test_poison_is_refused_with_a_reason() -> None:
    for body, reason in [
        (b"[]", "not a JSON object"),
        (b'{"id": "x", "type": "a.b", "upsert": {"record_type": "leads", "record": {}}}', "either"),
        (b'{"id": "x", "upsert": {"record_type": "planets", "record": {}}}', "unknown record_type"),
        (b'{"id": "", "type": "a.b"}', "id"),
    ]:
        try:
            parse(body)
        except Poison as exc:
            assert reason in exc.reason
        else:
            raise AssertionError(f"{body!r} parsed")
