"""StreamMatcher: a file's rows in order, against the index and the rows before them."""

from __future__ import annotations

from crmsync.dedup.engine import DuplicateIndex
from crmsync.dedup.engine.prepared import prepare
from crmsync.dedup.engine.stream import StreamMatcher

EXISTING = [
    {"id": "c1", "first_name": "Priya", "last_name": "Raghunathan",
     "email": "priya@initech.example", "phone": "+13125550123"},
]  # fmt: skip
ROWS = [
    # a new person, then her again by e-mail, then by the phone only the second row had
    {"id": "row:0", "first_name": "Dana", "last_name": "Whitfield",
     "email": "dana@globex.example"},
    {"id": "row:1", "first_name": "Dana", "last_name": "Whitfield",
     "email": "DANA@globex.example", "phone": "+14155550100"},
    {"id": "row:2", "first_name": "Dana", "last_name": "Whitfield", "phone": "415-555-0100"},
    # the existing contact, by her phone
    {"id": "row:3", "first_name": "Priya", "last_name": "Raghunathan",
     "phone": "(312) 555-0123"},
]  # fmt: skip


def _matches(cuts: list[int]) -> list[tuple[str, str] | None]:
    matcher = StreamMatcher(DuplicateIndex.build(EXISTING))
    out: list[tuple[str, str] | None] = []
    at = 0
    for size in cuts:
        frame = prepare(ROWS[at : at + size])
        out += [(m.status, m.of) if m else None for m in matcher.match(frame)]
        at += size
    return out


def test_a_row_duplicating_a_duplicate_stands_for_the_first_row() -> None:
    expected = [
        None,
        ("duplicate", "row:0"),
        ("duplicate", "row:0"),  # matched row:1, which stands for row:0
        ("duplicate", "c1"),
    ]
    assert _matches([4]) == expected
    assert _matches([1, 1, 1, 1]) == expected
    assert _matches([3, 1]) == expected


def test_the_index_is_not_changed_by_matching() -> None:
    index = DuplicateIndex.build(EXISTING)
    StreamMatcher(index).match(prepare(ROWS))
    assert len(index) == 1
