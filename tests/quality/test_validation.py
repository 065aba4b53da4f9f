"""Tables of every validation rule, record rules and the default rule sets."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.quality.validation import (
    FieldRule,
    Issue,
    RecordRule,
    RuleSet,
    Severity,
    validate_record,
    value_problem,
)
from crmsync.quality.validation_defaults import DEFAULT_RULES, default_rules

E = Severity.ERROR


@pytest.mark.parametrize(
    ("rule", "value", "problem"),
    [
        ({"rule": "email"}, "ann@example.com", None),
        ({"rule": "email"}, " Ann@Example.COM ", None),
        ({"rule": "email"}, "ann@", "not a valid e-mail address"),
        ({"rule": "email"}, 42, "not a valid e-mail address"),
        ({"rule": "phone"}, "(415) 555-2671", None),
        ({"rule": "phone"}, 4155552671, None),
        ({"rule": "phone"}, "555-0100", "not a valid phone number"),
        ({"rule": "enum", "values": ["A", "B"]}, "A", None),
        ({"rule": "enum", "values": ["A", "B"]}, "a", "not one of A, B"),
        ({"rule": "regex", "pattern": r"[A-Z]{3}"}, "USD", None),
        ({"rule": "regex", "pattern": r"[A-Z]{3}"}, "USDX", "does not match the expected format"),
        ({"rule": "min_length", "min": 2}, "ab", None),
        ({"rule": "min_length", "min": 2}, "a", "shorter than 2 characters"),
        ({"rule": "max_length", "max": 3}, "abcd", "longer than 3 characters"),
        ({"rule": "max_length", "max": 3}, ["a", "b"], None),
        ({"rule": "range", "min": 0, "max": 100}, "55.5", None),
        ({"rule": "range", "min": 0, "max": 100}, -1, "less than 0"),
        ({"rule": "range", "min": 0, "max": 100}, "1,000", "more than 100"),
        ({"rule": "range", "min": 0}, "lots", "not a number"),
        ({"rule": "range", "min": 0}, True, "not a number"),
        ({"rule": "date"}, "2024-02-29", None),
        ({"rule": "date"}, "2023-02-29", "not a valid date"),
        ({"rule": "date"}, "yesterday", "not a valid date"),
        ({"rule": "email", "message": "bad e-mail"}, "x", "bad e-mail"),
    ],
)
def test_rule_table(rule: dict[str, Any], value: Any, problem: str | None) -> None:
    assert value_problem(FieldRule(field="f", **rule), value) == problem


@pytest.mark.parametrize("value", [None, "", "   ", []])
def test_empty_values_fail_only_required(value: Any) -> None:
    rules = RuleSet(
        fields=(
            FieldRule(field="x", rule="required"),
            FieldRule(field="x", rule="email"),
            FieldRule(field="x", rule="min_length", min=3),
        )
    )
    result = validate_record({"x": value}, rules)
    assert result.errors == [Issue("x", "required", "required", value, E)]


def test_errors_and_warnings_are_separated_with_field_rule_message_value() -> None:
    result = validate_record(
        {"email": "nope", "phone": "12", "status": "OPEN"}, default_rules("leads")
    )
    assert not result.valid
    assert [(i.field, i.rule, i.value) for i in result.errors] == [
        ("email", "email", "nope"),
        ("status", "enum", "OPEN"),
    ]
    assert result.warnings == [
        Issue("phone", "phone", "not a valid phone number", "12", Severity.WARNING)
    ]


def test_warnings_alone_keep_the_record() -> None:
    result = validate_record({"email": "a@b.co", "phone": "12"}, default_rules("contacts"))
    assert result.valid
    assert len(result.warnings) == 1


@pytest.mark.parametrize(
    ("record", "ok"),
    [
        ({"email": "a@b.co"}, True),
        ({"phone": "+14155552671"}, True),
        ({"email": " ", "phone": None}, False),
        ({}, False),
    ],
)
def test_email_or_phone_record_rule(record: dict[str, Any], ok: bool) -> None:
    result = validate_record(record, default_rules("contacts"))
    assert any(i.rule == "one_of_required" for i in result.errors) is not ok


def test_nested_fields_and_custom_record_rules() -> None:
    rules = RuleSet(
        fields=(FieldRule(field="custom_fields.loan", rule="enum", values=("FHA", "VA")),),
        records=(RecordRule(name="contactable", fields=("a", "b"), severity="warning"),),
    )
    result = validate_record({"custom_fields": {"loan": "ARM"}}, rules)
    assert [i.field for i in result.errors] == ["custom_fields.loan"]
    assert [(i.field, i.rule) for i in result.warnings] == [("a,b", "contactable")]


def test_phone_region_comes_from_the_rule_set() -> None:
    record = {"phone": "020 7946 0018"}
    assert validate_record(record, default_rules("contacts", region="GB")).warnings == []
    assert validate_record(record, default_rules("contacts", region="US")).warnings


@pytest.mark.parametrize(
    "spec",
    [
        {"rule": "enum"},
        {"rule": "regex"},
        {"rule": "regex", "pattern": "("},
        {"rule": "range"},
        {"rule": "nope"},
    ],
)
def test_bad_rules_are_rejected(spec: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        FieldRule(field="f", **spec)


def test_rule_sets_load_from_plain_data() -> None:
    rules = RuleSet.model_validate(
        {"fields": [{"field": "email", "rule": "email", "severity": "warning"}]}
    )
    assert validate_record({"email": "x"}, rules).warnings[0].rule == "email"


VALUES = st.one_of(
    st.none(), st.text(), st.integers(), st.floats(), st.booleans(), st.lists(st.text())
)


@settings(deadline=None)  # phonenumbers is slow on a busy machine
@given(st.sampled_from(sorted(DEFAULT_RULES)), st.dictionaries(st.text(max_size=12), VALUES))
def test_no_record_crashes_the_default_rules(object_type: Any, extra: dict[str, Any]) -> None:
    rules = DEFAULT_RULES[object_type]
    record = {rule.field: v for rule, v in zip(rules.fields, extra.values(), strict=False)}
    result = validate_record(record, rules)
    assert all(i.severity is E for i in result.errors)
