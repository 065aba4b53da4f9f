from __future__ import annotations

from crmsync.dedup.engine import DuplicateIndex

ALICE = {
    "id": "a1",
    "first_name": "Alice",
    "last_name": "Walker",
    "email": "alice@acme.com",
    "phone": "(415) 555-0100",
    "dob": "1988-03-02",
}
BOB = {
    "id": "b1",
    "first_name": "Robert",
    "last_name": "Stone",
    "email": "rstone@globex.com",
    "city": "Denver",
    "dob": "1979-10-10",
}
ALICE_AGAIN = {
    "id": "new",
    "first_name": "Alicia",
    "last_name": "Walker",
    "email": "ALICE@acme.com",
}
BOBBY = {
    "id": "new2",
    "first_name": "Bobby",
    "last_name": "Stone",
    "city": "Denver",
    "dob": "1979-10-10",
}


def test_check_finds_the_indexed_duplicate() -> None:
    index = DuplicateIndex.build([ALICE, BOB])
    assert len(index) == 2
    result = index.check(ALICE_AGAIN)
    assert result.is_duplicate and result.duplicate_of == "a1"
    assert "email" in result.matched_fields
    assert index.check(BOBBY).duplicate_of == "b1"


def test_incremental_add_and_remove() -> None:
    index = DuplicateIndex()
    assert not index.check(ALICE_AGAIN).is_duplicate
    index.add(ALICE)
    assert "a1" in index
    assert index.check(ALICE_AGAIN).duplicate_of == "a1"
    assert index.remove("a1")
    assert not index.remove("a1")
    assert "a1" not in index
    assert not index.check(ALICE_AGAIN).is_duplicate


def test_removing_from_a_built_index() -> None:
    index = DuplicateIndex.build([ALICE, BOB])
    index.remove("b1")
    assert not index.check(BOBBY).is_duplicate
    assert index.check(ALICE_AGAIN).is_duplicate


def test_a_record_never_duplicates_itself_and_updates_replace() -> None:
    index = DuplicateIndex.build([ALICE])
    assert not index.check(ALICE).is_duplicate  # same id: itself
    moved = {**ALICE, "email": "alice@initech.com", "phone": None}
    index.add(moved)  # a new version of a1
    assert len(index) == 1
    assert not index.check(ALICE_AGAIN).is_duplicate


def test_compaction_keeps_answers() -> None:
    index = DuplicateIndex(compact_at=3)
    people = [
        {
            "id": f"p{i}",
            "first_name": name,
            "last_name": "Nguyen",
            "dob": f"1990-01-{i + 10}",
            "email": f"{name.lower()}@example.org",
        }
        for i, name in enumerate(["Anh", "Binh", "Chau", "Dung", "Hoa"])
    ]
    for person in people:
        index.add(person)
    index.remove("p1")
    assert len(index) == 4
    assert index.check({"id": "x", "email": "CHAU@example.org"}).duplicate_of == "p2"
    assert not index.check({"id": "y", "email": "binh@example.org"}).is_duplicate
