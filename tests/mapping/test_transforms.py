"""Table of every transform, both directions."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.engine import map_inbound, map_outbound
from crmsync.mapping.errors import UnmappedValueError
from crmsync.mapping.statusmap import StatusMap
from crmsync.mapping.transforms import Transform, apply_transform

MAPS = {"stage": StatusMap(outbound={"WON": "closedwon", "LOST": "closedlost"})}

CASES: list[tuple[Any, Any, bool, Any]] = [
    ("trim", "  a b \u200b", True, "a b"),
    ("trim", ["  a ", 3], False, ["a", 3]),
    ("trim", 5, True, 5),
    ("lowercase", "AbC", True, "abc"),
    ("uppercase", "usd", False, "USD"),
    ("name_case", "JOHN MCDONALD", True, "John McDonald"),
    ("name_case", "de la cruz", False, "de la Cruz"),
    ("phone_e164", "(415) 555-2671", True, "+14155552671"),
    ({"phone_e164": "GB"}, "020 7946 0018", True, "+442079460018"),
    ("phone_e164", "", True, ""),
    ({"date_format": "%m/%d/%Y"}, date(2024, 5, 1), True, "05/01/2024"),
    ({"date_format": "%m/%d/%Y"}, "2024-05-01", True, "05/01/2024"),
    ({"date_format": "%m/%d/%Y"}, "05/01/2024", False, datetime(2024, 5, 1)),
    ({"date_format": "%Y-%m-%d %H:%M:%S"}, "2024-05-01T10:30:00", True, "2024-05-01 10:30:00"),
    ({"join": ";"}, ["a", "b"], True, "a;b"),
    ({"join": ";"}, "a; b;;", False, ["a", "b"]),
    ({"split": ","}, "x, y", True, ["x", "y"]),
    ({"split": ","}, ["x", "y"], False, "x,y"),
    ({"value_map": {"yes": "Y", "no": "N"}}, "yes", True, "Y"),
    ({"value_map": {"yes": "Y", "no": "N"}}, "N", False, "no"),
    ({"value_map": {"on": True}}, True, False, "on"),
    ({"status_map": "stage"}, "WON", True, "closedwon"),
    ({"status_map": "stage"}, "closedlost", False, "LOST"),
    ({"status_map": "stage"}, None, True, None),
]


@pytest.mark.parametrize(("spec", "value", "outbound", "expected"), CASES)
def test_transform_table(spec: Any, value: Any, outbound: bool, expected: Any) -> None:
    transform = Transform.model_validate(spec)
    got = apply_transform(transform, value, outbound=outbound, status_maps=MAPS)
    assert got == expected


@pytest.mark.parametrize(
    ("spec", "value", "outbound", "message"),
    [
        ("phone_e164", "12", True, "not a valid phone number"),
        ({"date_format": "%m/%d/%Y"}, "2024-13-01", False, "does not match date format"),
        ({"date_format": "%m/%d/%Y"}, 12, True, "expected a date"),
        ({"status_map": "stage"}, "OPEN", True, "'OPEN' has no outbound entry in map 'stage'"),
        ({"status_map": "stage"}, "lost", False, "'lost' has no inbound entry in map 'stage'"),
        ({"value_map": {"a": "b"}}, "z", True, "'z' has no outbound entry in map 'value_map'"),
    ],
)
def test_transform_errors_name_the_problem(
    spec: Any, value: Any, outbound: bool, message: str
) -> None:
    transform = Transform.model_validate(spec)
    with pytest.raises(ValueError) as info:
        apply_transform(transform, value, outbound=outbound, status_maps=MAPS)
    assert message in str(info.value)


def test_unmapped_status_error_carries_value_and_map() -> None:
    with pytest.raises(UnmappedValueError) as info:
        apply_transform(
            Transform.model_validate({"status_map": "stage"}), "X", outbound=True, status_maps=MAPS
        )
    assert (info.value.value, info.value.map_name, info.value.direction) == (
        "X",
        "stage",
        "outbound",
    )


def test_status_map_defaults_catch_unlisted_values() -> None:
    maps = {"s": StatusMap(outbound={"WON": "won"}, default_outbound="open", default_inbound="NEW")}
    transform = Transform.model_validate({"status_map": "s"})
    assert apply_transform(transform, "QUALIFIED", outbound=True, status_maps=maps) == "open"
    assert apply_transform(transform, "other", outbound=False, status_maps=maps) == "NEW"


@pytest.mark.parametrize(
    "spec", ["nope", {"join": 3}, {"trim": "x"}, {"value_map": "x"}, {"phone_e164": 1}]
)
def test_bad_transform_specs_are_rejected(spec: Any) -> None:
    with pytest.raises(ValueError, match=r"."):
        Transform.model_validate(spec)


@pytest.mark.parametrize("spec", ["trim", {"join": ";"}, {"value_map": {"a": "b"}}])
def test_transform_serialises_compactly(spec: Any) -> None:
    assert Transform.model_validate(spec).model_dump() == spec


SPECS = [
    "trim",
    "lowercase",
    "uppercase",
    "name_case",
    "phone_e164",
    {"date_format": "%d.%m.%Y"},
    {"join": "|"},
    {"split": ","},
    {"value_map": {"a": "b"}},
    {"status_map": "stage"},
]
ANY_VALUE = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.dates(),
    st.lists(st.text(), max_size=4),
)


@settings(deadline=None)  # phonenumbers is slow on a busy machine
@given(st.sampled_from(SPECS), ANY_VALUE, st.booleans())
def test_no_input_crashes_a_transform(spec: Any, value: Any, outbound: bool) -> None:
    transform = Transform.model_validate(spec)
    # a clear refusal (ValueError) is fine; any other exception is a crash
    with contextlib.suppress(ValueError):
        apply_transform(transform, value, outbound=outbound, status_maps=MAPS)


# --- percent: a share in crmsync, a percentage in the CRM ------------------------------

PERCENT = Transform.model_validate("percent")


@pytest.mark.parametrize(
    ("share", "percentage"),
    [(0, 0), (1, 100), (0.5, 50), (0.3, 30), (0.125, 12.5), (0.333, 33.3)],
)
def test_percent_writes_a_share_as_a_percentage_and_reads_it_back(
    share: float, percentage: float
) -> None:
    sent = apply_transform(PERCENT, share, outbound=True)
    assert sent == percentage and type(sent) is type(percentage)  # 30, not 30.000000000000004
    assert apply_transform(PERCENT, sent, outbound=False) == share
    assert apply_transform(PERCENT, str(percentage), outbound=False) == share  # as text too
    assert apply_transform(PERCENT, f"{percentage}%", outbound=False) == share


@given(st.integers(min_value=0, max_value=1000).map(lambda n: n / 1000))
def test_percent_round_trips_every_share_to_three_places(share: float) -> None:
    back = apply_transform(PERCENT, apply_transform(PERCENT, share, outbound=True), outbound=False)
    assert back == share


@pytest.mark.parametrize("bad", ["half", "nan", True, "1e400x"])
def test_percent_refuses_what_is_not_a_number(bad: object) -> None:
    with pytest.raises(ValueError, match="not a number"):
        apply_transform(PERCENT, bad, outbound=False)


@pytest.mark.parametrize(
    ("provider", "remote"), [("salesforce", "Probability"), ("pipedrive", "probability")]
)
def test_a_deals_probability_goes_to_salesforce_and_pipedrive_as_a_percentage(
    provider: str, remote: str
) -> None:
    mapping = default_mapping(provider)
    assert map_outbound(mapping, "deals", {"name": "x", "probability": 0.4}).values[remote] == 40
    assert map_inbound(mapping, "deals", {remote: 40}).values["probability"] == 0.4
