"""Two records whose e-mails and phones all differ: neither a duplicate nor, unless the
very name is the same, a possible one (namesake colleagues with alike surnames)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from crmsync.dedup.engine.compare import EMAIL_NONE, compare
from crmsync.dedup.engine.prepared import columns, prepare
from tests.dedup.engine.cases import check_pair


def _kind(a: str, b: str) -> int:
    frame = columns(prepare([{"id": "a", "email": a}, {"id": "b", "email": b}]))
    left = {k: v[[0]] for k, v in frame.items()}
    right = {k: v[[1]] for k, v in frame.items()}
    return int(compare(left, right).email_kind[0])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("lisa.licove137@acme.com", "elizabeth.licohe34@acme.com"),
        ("susan.hipago1352@initech.example", "susan.higota5@initech.example"),
        ("thomas.gegepe2150@gmail.com", "thomas.gegepe1354@mail.example"),
    ],
)
def test_addresses_with_other_numbers_are_two_addresses(a: str, b: str) -> None:
    """However alike the names in them, numbers more than a keystroke apart (each
    namesake's own) make two addresses, weighed as such."""
    assert _kind(a, b) != EMAIL_NONE


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("jsmith1985b@gmail.com", "jsmith1958b@gmail.com"),  # two digits swapped
        ("j2smith@gmail.com", "j3smith@gmail.com"),  # one mistyped
        ("john.smith@gmail.com", "jonh.smith@gmail.com"),
    ],
)
def test_a_typo_in_the_number_is_not_two_addresses(a: str, b: str) -> None:
    assert _kind(a, b) == EMAIL_NONE


REALTY = {"company": "Gokazu Realty", "city": "Chicago"}


@pytest.mark.parametrize(
    ("existing", "candidate"),
    [
        (  # alike surnames, nickname, one company spelt alike: two people's contacts
            {"first_name": "Lisa", "last_name": "Gokazu", "email": "lisa.gokazu2675@gmail.com",
             "phone": "+14154214011", **REALTY},
            {"first_name": "Elizabeth", "last_name": "Gokizu", "company": "Gokizu Realty",
             "email": "elizabeth.gokizu493@gmail.com", "phone": "+15125197523",
             "city": "Chicago"},
        ),
        (  # a home and a work address, two phones, one letter of the surname apart
            {"first_name": "Sarah", "last_name": "Fehota", "email": "sarah.fehota@acme.com",
             "phone": "+17029702759", "company": "Fehota Realty", "city": "Phoenix"},
            {"first_name": "Sarah", "last_name": "Fehoza", "email": "sarahf@gmail.com",
             "phone": "+16173723276", "company": "Fehoza Realty", "city": "Phoenix"},
        ),
    ],
)  # fmt: skip
def test_alike_names_with_every_contact_different_are_distinct(
    existing: dict[str, Any], candidate: dict[str, Any]
) -> None:
    check = check_pair(existing, candidate)
    assert check.status == "distinct", (check.status, check.score, check.explanation)


def test_the_same_name_with_every_contact_different_is_still_for_review() -> None:
    """A rare name at one company in one city, a home and a work address: possible."""
    existing = {"first_name": "Wilhelmina", "last_name": "Oyelaran", "company": "Initech",
                "city": "Austin", "email": "w.oyelaran@initech.example",
                "phone": "+12125550177"}  # fmt: skip
    candidate = {**existing, "email": "wilhelmina.o@gmail.com", "phone": "+13125550123"}
    assert check_pair(existing, candidate).status == "possible"
    assert np.isfinite(check_pair(existing, candidate).score)
