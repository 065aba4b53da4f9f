"""The keyset cursor over HubSpot's modified dates, by tables."""

from __future__ import annotations

import pytest

from crmsync.connectors.hubspot.cursor import SEARCH_CAP, ChangeCursor

PAGE = 3


@pytest.mark.parametrize(
    ("start", "rows", "expected"),
    [
        (ChangeCursor(), [], ChangeCursor()),
        (  # the window moves to the newest time; ids at it are remembered
            ChangeCursor(),
            [("1", 10), ("2", 20), ("3", 20)],
            ChangeCursor(since=20, seen=("2", "3")),
        ),
        (  # a page entirely at `since` pages on by offset, remembering every id
            ChangeCursor(since=20, seen=("2",)),
            [("2", 20), ("3", 20), ("4", 20)],
            ChangeCursor(since=20, seen=("2", "3", "4"), after=3),
        ),
        (  # leaving the run drops the offset
            ChangeCursor(since=20, seen=("2", "3", "4"), after=3),
            [("5", 20), ("6", 30)],
            ChangeCursor(since=30, seen=("6",)),
        ),
        (  # a run longer than search can page through moves the window past it
            ChangeCursor(since=20, seen=("x",), after=SEARCH_CAP - PAGE - 1),
            [("7", 20), ("8", 20)],
            ChangeCursor(since=21),
        ),
        (  # an empty page keeps the position but restarts the offset
            ChangeCursor(since=20, seen=("2",), after=6),
            [],
            ChangeCursor(since=20, seen=("2",)),
        ),
    ],
)
def test_advance(start: ChangeCursor, rows: list[tuple[str, int]], expected: ChangeCursor) -> None:
    assert start.advance(rows, PAGE) == expected


def test_fresh_skips_only_ids_already_seen_at_the_boundary() -> None:
    cursor = ChangeCursor(since=20, seen=("2", "3"))
    rows = [("2", 20), ("3", 25), ("4", 20)]
    assert cursor.fresh(rows) == [("3", 25), ("4", 20)]


def test_encode_round_trips_and_none_starts_at_the_beginning() -> None:
    cursor = ChangeCursor(since=5, seen=("a", "b"), after=200, deleted_since=9)
    assert ChangeCursor.decode(cursor.encode()) == cursor
    assert ChangeCursor.decode(None) == ChangeCursor()
    assert cursor.deleted_until(3).deleted_since == 9
    assert cursor.deleted_until(12).deleted_since == 12
