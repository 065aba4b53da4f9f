from __future__ import annotations

from typing import Any

import pytest

from tests.dedup.engine.cases import check_pair

JOHN = {
    "first_name": "John",
    "last_name": "Smith",
    "email": "john.smith@acme.com",
    "phone": "(415) 555-0134",
    "city": "Springfield",
    "dob": "1980-04-12",
    "company": "Acme Inc",
}


def only(**fields: Any) -> dict[str, Any]:
    return dict(fields)


DUPLICATES = [
    # (existing, candidate, rule)
    (
        only(email="John.Smith@Acme.com "),
        only(email="john.smith@acme.com", first_name="J"),
        "exact_email",
    ),
    (only(phone="(415) 555-0134"), only(phone="+1 415.555.0134"), "exact_phone"),
    (  # a rare surname in one city
        only(first_name="Jon", last_name="Kowalczyk", city="Springfield"),
        only(first_name="John", last_name="Kowalczyk", city="Springfeld"),
        "fuzzy_name",
    ),
    (
        only(first_name="Catherine", last_name="Zeta", dob="1969-09-25"),
        only(first_name="Catherine", last_name="Zetta", dob="1969-09-25"),
        "fuzzy_name",
    ),
    (  # first and last name swapped
        only(first_name="Isla", last_name="Hall", dob="1985-02-07"),
        only(first_name="Hall", last_name="Isla", dob="1985-02-07"),
        "fuzzy_name",
    ),
    (  # nickname, corroborated by a mistyped work e-mail
        only(first_name="Robert", last_name="Miller", email="rmiller@globex.com"),
        only(first_name="Bob", last_name="Miller", email="rmiler@globex.com", city="Austin"),
        "fuzzy_name",
    ),
    (  # a changed surname: birth date, address and postcode all agree
        only(
            first_name="Anna",
            last_name="Kowalski",
            dob="1990-01-15",
            address="12 Oak Street",
            postcode="10001",
        ),
        only(
            first_name="Anna",
            last_name="Bennett",
            dob="1990-01-15",
            address="12 Oak St reet",
            postcode="10001",
        ),
        "other_fields",
    ),
]


@pytest.mark.parametrize(("existing", "candidate", "rule"), DUPLICATES)
def test_duplicates_match_by_their_rule(
    existing: dict[str, Any], candidate: dict[str, Any], rule: str
) -> None:
    result = check_pair(existing, candidate)
    assert result.is_duplicate, result.explanation
    assert result.duplicate_of == "existing"
    assert result.evidence is not None and result.evidence.rule == rule
    assert 0.0 <= result.score <= 1.0


NOT_DUPLICATES = [
    # a fuzzy (even identical) name alone never makes a duplicate
    (only(first_name="John", last_name="Smith"), only(first_name="John", last_name="Smith")),
    (only(first_name="Jon", last_name="Smith"), only(first_name="John", last_name="Smyth")),
    # the name agrees but everything else disagrees
    (
        JOHN,
        only(
            first_name="John",
            last_name="Smith",
            email="jsmith@initech.com",
            phone="(212) 555-0199",
            city="Boston",
            dob="1951-11-30",
            company="Initech",
        ),
    ),
    # corroborated, but the names are different people
    (
        only(first_name="John", last_name="Smith", city="Springfield"),
        only(first_name="Mary", last_name="Jones", city="Springfield"),
    ),
    # a household phone shared by two people with different first names
    (
        only(first_name="John", last_name="Smith", phone="(415) 555-0134"),
        only(first_name="Margaret", last_name="Smith", phone="415-555-0134"),
    ),
    # a free-mail domain says nothing about an employer
    (
        only(first_name="Robert", last_name="Miller", email="rmiller@gmail.com"),
        only(first_name="Bob", last_name="Miller", email="bobby77@gmail.com"),
    ),
]


@pytest.mark.parametrize(("existing", "candidate"), NOT_DUPLICATES)
def test_not_duplicates(existing: dict[str, Any], candidate: dict[str, Any]) -> None:
    result = check_pair(existing, candidate)
    assert not result.is_duplicate, result.explanation
    assert result.duplicate_of is None


def test_swapped_names_are_reported() -> None:
    result = check_pair(
        only(first_name="Isla", last_name="Hall", dob="1985-02-07"),
        only(first_name="Hall", last_name="Isla", dob="1985-02-07"),
    )
    assert result.evidence is not None and result.evidence.swapped_names
    assert "swapped" in result.explanation


def test_more_agreement_scores_higher() -> None:
    weak = check_pair(
        only(first_name="Jon", last_name="Smith", city="Springfield"),
        only(first_name="John", last_name="Smith", city="Springfield"),
    )
    strong = check_pair(JOHN, dict(JOHN))
    assert strong.score > weak.score
