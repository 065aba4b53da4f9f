"""Total Expert's contact de-duplication rules, as a table."""

from __future__ import annotations

from typing import Any

import pytest

from crmsync.sandbox.totalexpert.dedup import DedupIndex, find_duplicate

EXISTING: list[dict[str, Any]] = [
    {"id": 1, "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
     "external_ids": [{"source": "app", "external_id": "A-1"}]},
    {"id": 2, "first_name": "Bo", "last_name": "Chan", "address": "1 Main St", "city": "Austin",
     "state": "TX", "zip_code": "78701", "phone_cell": "+1 (555) 010-0200"},
    {"id": 3, "first_name": "Cy", "last_name": "Diaz", "external_id": "legacy-9",
     "phone_home": "555 0300", "phone_office": "555-0400"},
    {"id": 4, "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"},
]  # fmt: skip

CASES = [
    ("external id wins over everything", {"first_name": "Zed",
     "external_ids": [{"source": "app", "external_id": "A-1"}]}, 1),
    ("external id from another source is another key", {"first_name": "Zed", "last_name": "Q",
     "external_ids": [{"source": "crm", "external_id": "A-1"}]}, None),
    ("top-level external_id", {"first_name": "Q", "external_id": "legacy-9"}, 3),
    ("names + email, case-insensitive, the oldest of two", {"first_name": "ANN", "last_name": "lee",
     "email": "Ann@Example.com"}, 1),
    ("email alone is not enough", {"email": "ann@example.com"}, None),
    ("names + full address", {"first_name": "Bo", "last_name": "Chan", "address": "1 main st",
     "city": "Austin", "state": "TX", "zip_code": "78701"}, 2),
    ("partial address is not enough", {"first_name": "Bo", "last_name": "Chan",
     "city": "Austin"}, None),
    ("names + home phone, formatting ignored", {"first_name": "Cy", "last_name": "Diaz",
     "phone_home": "5550300"}, 3),
    ("names + cell phone", {"first_name": "Bo", "last_name": "Chan",
     "phone_cell": "15550100200"}, 2),
    ("names + office phone", {"first_name": "Cy", "last_name": "Diaz",
     "phone_office": "(555) 0400"}, 3),
    ("same names, different email", {"first_name": "Ann", "last_name": "Lee",
     "email": "other@example.com"}, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("incoming", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_find_duplicate(incoming: dict[str, Any], expected: int | None) -> None:
    match = find_duplicate(incoming, EXISTING)
    assert (match["id"] if match else None) == expected


def test_index_follows_changes_and_removals() -> None:
    index = DedupIndex()
    index.put(1, {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"})
    index.put(2, {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"})
    index.put(1, {"first_name": "Ann", "last_name": "Lee", "email": "new@example.com"})
    assert index.find({"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}) == 2
    assert index.find({"first_name": "Ann", "last_name": "Lee", "email": "new@example.com"}) == 1
    index.drop(2)
    assert index.find({"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}) is None
