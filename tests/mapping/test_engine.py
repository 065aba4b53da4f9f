"""Outbound and inbound mapping of whole records."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.mapping.coerce import to_canonical
from crmsync.mapping.engine import map_inbound, map_outbound, status_fields
from crmsync.mapping.errors import FieldError, MappingError
from crmsync.mapping.model import MappingSet
from crmsync.mapping.schema import FieldType
from crmsync.quality.normalize import strip_invisible

MAPPING = MappingSet.model_validate(
    {
        "provider": "test",
        "objects": {
            "leads": {
                "remote_object": "lead",
                "fields": [
                    {"source": "first_name", "target": "firstname", "transforms": ["trim"]},
                    {"source": "email", "target": "email", "type": "email", "required": True},
                    {"source": "phone", "target": "props.phone", "type": "phone"},
                    {
                        "source": "status",
                        "target": "lead_status",
                        "type": "enum",
                        "transforms": [{"status_map": "status"}],
                    },
                    {
                        "source": "preferred_areas",
                        "target": "areas",
                        "type": "list",
                        "transforms": [{"join": ";"}],
                    },
                    {"source": "budget_max", "target": "budget", "type": "number"},
                    {"source": "source", "target": "origin", "default": "web"},
                    {"source": "custom_fields.loan", "target": "loan_type"},
                    {"source": "notes", "target": "notes_out", "direction": "outbound"},
                    {"source": "property_ref", "target": "ref_in", "direction": "inbound"},
                ],
            },
            "deals": {
                "remote_object": "deal",
                "fields": [
                    {"source": "close_date", "target": "closes", "type": "date"},
                    {"source": "amount", "target": "amount", "type": "number"},
                ],
            },
        },
        "status_maps": {"status": {"outbound": {"NEW": "new", "LOST": "closed"}}},
    }
)


def test_outbound_maps_types_paths_transforms_and_defaults() -> None:
    record = {
        "first_name": "  Ann ",
        "email": "Ann@Example.com",
        "phone": "(415) 555-2671",
        "status": "LOST",
        "preferred_areas": ["Soho", "Chelsea"],
        "budget_max": "250,000",
        "custom_fields": {"loan": "FHA"},
        "notes": "call back",
        "property_ref": "ignored outbound",
    }
    result = map_outbound(MAPPING, "leads", record)
    assert result.ok
    assert result.values == {
        "firstname": "Ann",
        "email": "ann@example.com",
        "props": {"phone": "+14155552671"},
        "lead_status": "closed",
        "areas": "Soho;Chelsea",
        "budget": 250000,
        "origin": "web",
        "loan_type": "FHA",
        "notes_out": "call back",
    }


def test_inbound_maps_back_into_nested_canonical_paths() -> None:
    remote = {"email": "a@b.co", "lead_status": "new", "loan_type": "VA", "ref_in": "P-1"}
    result = map_inbound(MAPPING, "leads", remote)
    assert result.values == {
        "email": "a@b.co",
        "status": "NEW",
        "custom_fields": {"loan": "VA"},
        "property_ref": "P-1",
        "source": "web",
    }


def test_errors_are_per_field_and_the_rest_still_maps() -> None:
    record = {"first_name": "Bo", "phone": "12", "status": "VIEWED", "budget_max": "lots"}
    result = map_outbound(MAPPING, "leads", record)
    assert result.values == {"firstname": "Bo", "origin": "web"}
    assert result.errors == [
        FieldError("email", "required field is missing", None),
        FieldError("phone", "not a valid phone number", "12"),
        FieldError("status", "value 'VIEWED' has no outbound entry in map 'status'", "VIEWED"),
        FieldError("budget_max", "not a number", "lots"),
    ]


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ({"closes": "2024-05-01"}, {"close_date": date(2024, 5, 1)}),
        ({"closes": "1714521600000"}, {"close_date": date(2024, 5, 1)}),
        ({"closes": "2024-05-01T23:00:00+00:00"}, {"close_date": date(2024, 5, 1)}),
        ({"amount": "12.50"}, {"amount": 12.5}),
        ({"amount": 7}, {"amount": 7}),
    ],
)
def test_inbound_coerces_to_canonical_types(remote: dict[str, Any], expected: Any) -> None:
    assert map_inbound(MAPPING, "deals", remote).values == expected


def test_unknown_object_type_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="no contacts mapping"):
        map_outbound(MAPPING, "contacts", {})


def test_status_fields_lists_fields_with_status_maps() -> None:
    assert status_fields(MAPPING, "leads") == {"status": "status"}


LEAD = st.fixed_dictionaries(
    {"email": st.emails().map(str.lower)},
    optional={
        "first_name": st.text(min_size=1).map(lambda s: strip_invisible(s).strip()).filter(bool),
        "status": st.sampled_from(["NEW", "LOST"]),
        "preferred_areas": st.lists(
            st.text(alphabet="abcdefgh xyz", min_size=1).map(str.strip).filter(bool),
            min_size=1,
            max_size=4,
        ),
        "budget_max": st.integers(min_value=0, max_value=10**9),
        "source": st.text(alphabet="abcxyz", min_size=1),
        "custom_fields": st.fixed_dictionaries({"loan": st.sampled_from(["FHA", "VA"])}),
    },
)


@settings(deadline=None)  # phonenumbers is slow on a busy machine
@given(LEAD)
def test_outbound_then_inbound_returns_the_mapped_fields(record: dict[str, Any]) -> None:
    outbound = map_outbound(MAPPING, "leads", record)
    if not outbound.ok:
        # only e-mails outside the common syntax are refused
        assert [e.field for e in outbound.errors] == ["email"]
        return
    back = map_inbound(MAPPING, "leads", outbound.values)
    assert back.ok
    expected = {"source": "web", **record}
    assert back.values == expected


@settings(deadline=None)  # phonenumbers is slow on a busy machine
@given(st.dictionaries(st.sampled_from(["email", "phone", "status", "first_name",
                                        "budget_max", "preferred_areas", "custom_fields"]),
                       st.one_of(st.none(), st.text(), st.integers(), st.floats(),
                                 st.lists(st.text()), st.booleans(),
                                 st.dictionaries(st.text(), st.text()))))  # fmt: skip
def test_no_record_crashes_the_engine(record: dict[str, Any]) -> None:
    out = map_outbound(MAPPING, "leads", record)
    map_inbound(MAPPING, "leads", out.values)
    map_inbound(MAPPING, "leads", record)


@pytest.mark.parametrize(
    ("text", "number"),
    [("45%", 0.45), ("100 %", 1), ("12.5%", 0.125), ("0%", 0), ("1,000", 1000), ("0.3", 0.3)],
)
def test_a_number_written_with_a_percent_sign_is_a_share(text: str, number: float) -> None:
    assert to_canonical(text, FieldType.NUMBER) == number


def test_a_percent_sign_alone_is_not_a_number() -> None:
    with pytest.raises(ValueError, match="not a number"):
        to_canonical("%", FieldType.NUMBER)
