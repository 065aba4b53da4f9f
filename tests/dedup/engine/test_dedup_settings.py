from __future__ import annotations

import pytest
from pydantic import ValidationError

from crmsync.dedup.engine import DedupSettings
from tests.dedup.engine.cases import check_pair

SAME_EMAIL = ({"email": "a.b@acme.com"}, {"email": "A.B@acme.com"})
SAME_PHONE = ({"phone": "(415) 555-0134"}, {"phone": "415 555 0134"})
NAME_AND_CITY = (  # a rare surname: a common one and a city are not enough (test_dedup_rules)
    {"first_name": "Wihlemina", "last_name": "Kowalczyk", "city": "Springfield"},
    {"first_name": "Wilhelmina", "last_name": "Kowalczyk", "city": "Springfield"},
)


def test_defaults() -> None:
    settings = DedupSettings()
    assert settings.exact_email and settings.exact_phone and settings.fuzzy_name
    assert settings.name_threshold == 0.85
    assert "city" in settings.corroboration_fields


@pytest.mark.parametrize(
    ("pair", "switched_off"),
    [
        (SAME_EMAIL, {"exact_email": False}),
        (SAME_PHONE, {"exact_phone": False}),
        (NAME_AND_CITY, {"fuzzy_name": False}),
        (NAME_AND_CITY, {"corroboration_fields": ("dob", "email", "phone")}),
        (NAME_AND_CITY, {"min_corroboration": 2}),
        (NAME_AND_CITY, {"name_threshold": 0.99}),
    ],
)
def test_switching_a_rule_off_stops_its_matches(
    pair: tuple[dict[str, str], dict[str, str]], switched_off: dict[str, object]
) -> None:
    existing, candidate = pair
    assert check_pair(existing, candidate).is_duplicate
    assert not check_pair(existing, candidate, DedupSettings(**switched_off)).is_duplicate


def test_shared_contact_guard_can_be_turned_off() -> None:
    existing = {"first_name": "John", "last_name": "Smith", "phone": "(415) 555-0134"}
    candidate = {"first_name": "Margaret", "last_name": "Smith", "phone": "415-555-0134"}
    assert not check_pair(existing, candidate).is_duplicate
    relaxed = DedupSettings(shared_contact_guard=False)
    assert check_pair(existing, candidate, relaxed).is_duplicate


@pytest.mark.parametrize(
    "bad",
    [
        {"name_threshold": 1.5},
        {"match_threshold": 0.0},
        {"corroboration_fields": ("shoe_size",)},
        {"unknown_rule": True},
        {"window": 1},
    ],
)
def test_invalid_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DedupSettings(**bad)
