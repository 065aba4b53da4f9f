"""Definitions load from YAML; a mistake names the key and what is expected there."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.rest.definition import builtin, from_config, load

ENDPOINTS = {
    "list": "GET /v1/{object}",
    "create": "POST /v1/{object}",
    "update": "PATCH /v1/{object}/{id}",
    "delete": "DELETE /v1/{object}/{id}",
}


def minimal(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "tiny",
        "auth": {"kind": "bearer", "credential": "access_token"},
        "defaults": {"endpoints": dict(ENDPOINTS)},
        "objects": {"people": {}},
    }
    base.update(changes)
    return base


def people(**spec: Any) -> dict[str, Any]:
    return {"objects": {"people": spec}}


def test_the_generic_definition_fills_each_object_from_the_defaults() -> None:
    definition = builtin("generic")
    leads = definition.object("leads")
    assert leads.endpoints["upsert"].url(key="r-1") == "/api/v1/leads/by-reference/r-1"
    assert leads.endpoints["update"].method == "PATCH"
    assert leads.fields["firstname"].wire == "firstName"
    assert leads.fields["status"].options[0] == "new"
    assert "title" not in leads.fields and "title" in definition.object("contacts").fields
    assert leads.upsert_key == "externalReference" and leads.event_name == "lead"


def test_yaml_text_and_mappings_load_alike() -> None:
    text = """
name: tiny
auth: {kind: bearer, credential: access_token}
defaults:
  endpoints:
    list: GET /v1/{object}
    create: POST /v1/{object}
    update: PATCH /v1/{object}/{id}
    delete: DELETE /v1/{object}/{id}
objects: {people: {}}
"""
    assert load(text) == load(minimal())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"auth": {"kind": "api_key_header"}}, "auth: auth kind api_key_header needs 'name'"),
        ({"auth": {"kind": "oauth"}}, "auth.kind: Input should be"),
        ({"objects": {}}, "objects: "),
        (
            {"objects": {"people": {"endpoints": {"list": "FETCH /x"}}}},
            "objects.people.endpoints.list",
        ),
        ({"objects": {"people": {"endpoints": {"list": "GET x"}}}}, "path starting with /"),
        (
            {"defaults": {"endpoints": {"list": "GET /v1/x"}}},
            "endpoints create, update, delete missing",
        ),
        (
            {"objects": {"people": {"upsert_key": "ref"}}},
            "upsert_key needs an 'upsert' or a 'find'",
        ),
        (
            {"objects": {"people": {"batch_limit": 100}}},
            "objects.people.batch_limit: batch endpoints",
        ),
        ({"objects": {"people": {"colour": "red"}}}, "objects.people.colour: Extra inputs"),
        (
            {"changes": {"since_param": "since", "pagination": {"style": "cursor", "param": "c"}}},
            "changes.pagination: style cursor needs 'next'",
        ),
        ({"rate_limit": [{"limit": 0, "period": 60}]}, "rate_limit.0.limit"),
    ],
)
def test_a_bad_definition_names_the_key_and_what_is_expected(
    changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(minimal(**changes))
    assert expected in str(raised.value)


def test_text_that_is_not_a_definition_is_refused() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load("name: [unclosed")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load("- a list")


def test_an_unknown_builtin_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: generic"):
        builtin("nope")


def test_an_integrations_config_picks_an_inline_or_built_in_definition() -> None:
    assert from_config(None) == builtin("generic")
    assert from_config({"definition_name": "generic"}) == builtin("generic")
    assert from_config({"definition": minimal()}).name == "tiny"
    assert from_config({"definition": yaml.safe_dump(minimal())}).name == "tiny"
    with pytest.raises(ConfigError, match=r"config\.definition: expected a mapping"):
        from_config({"definition": ["name", "tiny"]})
    with pytest.raises(ConfigError, match="objects"):
        from_config({"definition": minimal(objects={})})
