"""Every view of the canonical field table agrees with it: the API's schemas, the mapping
schema, synonyms, templates, validation defaults, the docs page and the store's columns.
A field added to one of them only fails here (``docs/fields.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
)

from crmsync.fields import docs, enums
from crmsync.fields.spec import CanonicalField, FieldType, NumberKind
from crmsync.fields.table import TABLE, ObjectType
from crmsync.fields.views import all_fields
from crmsync.imports.options import ImportObject
from crmsync.imports.rowmap import OBJECT_TYPES
from crmsync.imports.templates import template_fields
from crmsync.mapping import schema as mapping
from crmsync.mapping.synonyms import MULTILINGUAL, OBJECT_SYNONYMS, SYNONYMS, phrases_for
from crmsync.quality.validation import RuleKind, value_problem
from crmsync.quality.validation_defaults import DEFAULT_RULES
from crmsync.records import schemas, service
from crmsync.records.payloads import INTERNAL_FIELDS
from crmsync.store.models import RECORD_MODELS

ROOT = Path(__file__).resolve().parent.parent
TYPES = list(TABLE)
# columns every record has (store.models.records.RecordBase), and fields of every schema
COMMON_COLUMNS = frozenset(
    {"id", "workspace_id", "external_ref", "created_at", "updated_at", "deleted_at", "version",
     "custom_fields"}
)  # fmt: skip
COMMON_FIELDS = tuple(schemas.RecordIn.model_fields)


def test_every_record_type_has_an_entry_a_model_and_schemas() -> None:
    assert list(TABLE) == list(ObjectType)
    assert set(RECORD_MODELS) == set(schemas.CREATE_SCHEMAS) == set(TABLE)
    assert set(schemas.PATCH_SCHEMAS) == set(TABLE)


# -- the API -------------------------------------------------------------------------


def _property(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """A property's own schema: null alternatives dropped, references resolved."""
    found: dict[str, Any] = schema["properties"][name]
    options = [o for o in found.get("anyOf", [found]) if o.get("type") != "null"]
    if len(options) > 1:  # a decimal: a number or its text
        return {"anyOf": options}
    option = options[0]
    if "$ref" in option:
        option = schema["$defs"][option["$ref"].rsplit("/", 1)[1]]
    return option


_JSON_TYPES = {
    FieldType.STRING: "string",
    FieldType.EMAIL: "string",
    FieldType.PHONE: "string",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "string",
    FieldType.DATETIME: "string",
    FieldType.ENUM: "string",
    FieldType.LIST: "array",
    FieldType.OBJECT: "object",
}


def _check_property(field: CanonicalField, found: dict[str, Any]) -> None:
    if field.relation is not None:
        assert found == {"type": "string", "format": "uuid"}, field.name
        return
    if field.type is FieldType.NUMBER:
        expected = {NumberKind.INTEGER: {"integer"}, NumberKind.FLOAT: {"number"}}
        options = found.get("anyOf", [found])
        assert {o["type"] for o in options} == expected.get(field.number, {"number", "string"})
        number = next(o for o in options if o["type"] != "string")
        assert number.get("minimum") == field.minimum, field.name
        assert number.get("maximum") == field.maximum, field.name
        return
    assert found["type"] == _JSON_TYPES[field.type], field.name
    if field.type is FieldType.ENUM:
        assert tuple(found["enum"]) == field.values, field.name
    if field.type in (FieldType.DATE, FieldType.DATETIME):
        assert found["format"] == {"date": "date", "datetime": "date-time"}[field.type]
    limits = found["items"] if field.type is FieldType.LIST else found
    assert limits.get("maxLength") == field.max_length, field.name
    assert limits.get("pattern") == field.pattern, field.name


@pytest.mark.parametrize("object_type", TYPES)
def test_api_schemas_are_the_table(object_type: ObjectType) -> None:
    spec = TABLE[object_type]
    create = schemas.CREATE_SCHEMAS[object_type].model_json_schema()
    patch = schemas.PATCH_SCHEMAS[object_type].model_json_schema()
    names = [f.name for f in spec.fields]
    assert list(create["properties"]) == [*COMMON_FIELDS, *names]
    assert list(patch["properties"]) == [*COMMON_FIELDS, *names]
    assert create.get("required", []) == [f.name for f in spec.fields if f.required]
    assert "required" not in patch
    for field in spec.fields:
        _check_property(field, _property(create, field.name))
        _check_property(field, _property(patch, field.name))
        assert create["properties"][field.name].get("default") == field.default


def test_a_list_searches_the_fields_the_table_marks() -> None:
    for object_type, spec in TABLE.items():
        searched = tuple(f.name for f in spec.fields if f.searchable)
        assert searched, f"{object_type}: a list's q needs a searchable field"
        assert service.SEARCH_FIELDS[object_type] == searched


def test_the_enums_are_the_tables() -> None:
    assert schemas.ContactType is enums.ContactType
    assert schemas.LeadStatus is enums.LeadStatus
    assert schemas.ActivityType is enums.ActivityType
    assert schemas.TicketStatus is enums.TicketStatus
    direction = TABLE[ObjectType.ACTIVITIES].by_name["direction"]
    assert tuple(d.value for d in schemas.ActivityDirection) == direction.values


# -- mapping, suggestions, imports, validation ---------------------------------------------


def test_the_mapping_schema_is_the_table() -> None:
    assert {
        t: {f.name: f.type for f in spec.fields} for t, spec in TABLE.items()
    } == mapping.CANONICAL_SCHEMA
    assert {
        (t, f.name): f.values for t, f in all_fields() if f.type is FieldType.ENUM
    } == mapping.ENUM_VALUES
    assert {(r.source, r.field, r.target) for r in mapping.RELATIONS} == {
        (t, f.name, f.relation) for t, f in all_fields() if f.relation is not None
    }
    assert all(ObjectType(r.target) in TABLE for r in mapping.RELATIONS)
    assert TABLE[ObjectType.LEADS].by_name["status"].values == mapping.LEAD_STATUSES
    assert TABLE[ObjectType.CONTACTS].by_name["contact_type"].values == mapping.CONTACT_TYPES
    assert TABLE[ObjectType.ACTIVITIES].by_name["type"].values == mapping.ACTIVITY_TYPES


def test_a_field_name_means_the_same_spellings_in_every_type() -> None:
    for object_type, field in all_fields():
        assert SYNONYMS.get(field.name, ()) == field.synonyms, (object_type, field.name)
        assert MULTILINGUAL.get(field.name, ()) == field.translations, (object_type, field.name)
        assert OBJECT_SYNONYMS.get(object_type, {}).get(field.name, ()) == field.preferred
        phrases = phrases_for(object_type, field.name)
        assert phrases[0] == field.name.replace("_", " ")


def test_templates_and_import_types_are_the_tables() -> None:
    assert tuple(t.value for t, spec in TABLE.items() if spec.importable) == OBJECT_TYPES
    assert get_args(ImportObject) == OBJECT_TYPES  # the options' Literal, for OpenAPI
    for object_type in OBJECT_TYPES:
        spec = TABLE[ObjectType(object_type)]
        wanted = [f.name for f in spec.fields if f.in_template]
        assert template_fields(object_type) == ["external_ref", *wanted]


def test_default_rules_check_table_fields_by_the_tables_values() -> None:
    for object_type, rules in DEFAULT_RULES.items():
        fields = TABLE[object_type].by_name
        for rule in rules.fields:
            assert rule.field in fields, (object_type, rule.field)
            field = fields[rule.field]
            if rule.rule is RuleKind.ENUM:
                assert rule.values == field.values, (object_type, rule.field)
            if rule.rule is RuleKind.MAX_LENGTH:
                assert rule.max == field.max_length, (object_type, rule.field)
            if rule.rule is RuleKind.RANGE and (field.minimum, field.maximum) != (None, None):
                # a bounded field's rule allows exactly what the API accepts
                assert (rule.min, rule.max) == (field.minimum, field.maximum), rule.field


def test_a_deal_probability_over_one_fails_the_default_rules_as_the_api_refuses_it() -> None:
    (rule,) = [r for r in DEFAULT_RULES[ObjectType.DEALS].fields if r.field == "probability"]
    assert value_problem(rule, 0.45) is None
    assert value_problem(rule, "45%") is None  # a share written as a percentage
    assert value_problem(rule, 45) == "more than 1"
    with pytest.raises(ValidationError):
        schemas.CREATE_SCHEMAS[ObjectType.DEALS].model_validate({"name": "x", "probability": 45})


# -- the store -----------------------------------------------------------------------------


def _check_column(object_type: str, field: CanonicalField, column: Any) -> None:
    where = f"{object_type}.{field.name}"
    kind = column.type
    if isinstance(kind, TypeDecorator):  # UTCDateTime
        kind = kind.impl_instance
    if field.relation is not None:
        [key] = column.foreign_keys
        assert key.column.table.name == field.relation, where
        return
    if field.required or field.default is not None:
        assert not column.nullable, where
    if not column.nullable:  # else a record without the field could not be stored
        assert field.required or field.default is not None or column.default, where
    if field.type is FieldType.NUMBER:
        wanted = {NumberKind.INTEGER: Integer, NumberKind.FLOAT: Float}
        assert isinstance(kind, wanted.get(field.number, Numeric)), where
        if field.number is NumberKind.DECIMAL:
            assert not isinstance(kind, Float) and kind.precision == field.max_digits, where
    elif field.type is FieldType.DATE:
        assert isinstance(kind, Date), where
    elif field.type is FieldType.DATETIME:
        assert isinstance(kind, DateTime), where
    elif field.type in (FieldType.OBJECT, FieldType.LIST):
        assert isinstance(kind, JSON), where
    elif field.type is FieldType.ENUM:
        assert isinstance(kind, String) and kind.length >= max(map(len, field.values)), where
    else:  # text
        assert isinstance(kind, String), where
        if not isinstance(kind, Text):
            assert kind.length == field.max_length or field.pattern, where


@pytest.mark.parametrize("object_type", TYPES)
def test_every_field_has_its_column_and_every_column_a_field(object_type: ObjectType) -> None:
    columns = RECORD_MODELS[object_type].__table__.columns
    spec = TABLE[object_type]
    assert set(columns.keys()) - COMMON_COLUMNS - INTERNAL_FIELDS == set(spec.by_name)
    for field in spec.fields:
        _check_column(object_type, field, columns[field.name])


# -- the docs ------------------------------------------------------------------------------


def test_the_docs_page_is_the_table() -> None:
    page = (ROOT / "docs" / "fields.md").read_text()
    generated = page[page.index(docs.START) : page.index(docs.END) + len(docs.END)]
    assert generated == docs.render(), "run: python -m crmsync.fields.docs docs/fields.md"


def test_a_field_listed_twice_is_refused() -> None:
    email = TABLE[ObjectType.CONTACTS].by_name["email"]
    with pytest.raises(ValueError, match="twice"):
        type(TABLE[ObjectType.CONTACTS])("Twice", fields=(email, email))
    with pytest.raises(ValueError, match="values"):
        CanonicalField("kind", FieldType.ENUM)
