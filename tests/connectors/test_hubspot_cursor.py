"""The keyset cursor over HubSpot's modified dates, with its lag window, by tables."""

from __future__ import annotations

import pytest

from crmsync.connectors.hubspot.cursor import SEARCH_CAP, ChangeCursor

PAGE = 3
LAG = 5


@pytest.mark.parametrize(
    ("start", "rows", "expected"),
    [
        (ChangeCursor(), [], ChangeCursor()),
        (  # a short page ends the poll: the watermark moves, the window's rows are kept
            ChangeCursor(),
            [("1", 10), ("2", 20)],
            ChangeCursor(since=20, seen={"2": 20}),
        ),
        (  # a full page moves the floor to its newest time, restarting the offset
            ChangeCursor(),
            [("1", 10), ("2", 20), ("3", 20)],
            ChangeCursor(since=20, seen={"2": 20, "3": 20}, floor=20),
        ),
        (  # a full page entirely at the floor pages on by offset
            ChangeCursor(since=20, seen={"2": 20}, floor=20),
            [("2", 20), ("3", 20), ("4", 20)],
            ChangeCursor(since=20, seen={"2": 20, "3": 20, "4": 20}, floor=20, after=3),
        ),
        (  # leaving the run ends the query and drops the offset
            ChangeCursor(since=20, seen={"3": 20}, floor=20, after=3),
            [("5", 20), ("6", 30)],
            ChangeCursor(since=30, seen={"6": 30}),
        ),
        (  # a run longer than search can page through moves the floor past it
            ChangeCursor(since=20, floor=20, after=SEARCH_CAP - PAGE - 1),
            [("7", 20), ("8", 20), ("9", 20)],
            ChangeCursor(since=20, seen={"7": 20, "8": 20, "9": 20}, floor=21),
        ),
        (  # a poll that re-read only what it had delivered keeps no offset (the
            # offset would skip records that move out of the run before the next poll)
            ChangeCursor(since=20, seen={"2": 20, "3": 20}),
            [("2", 20), ("3", 20)],
            ChangeCursor(since=20, seen={"2": 20, "3": 20}),
        ),
        (  # an empty page keeps the position, restarts the query and forgets nothing
            ChangeCursor(since=20, seen={"2": 18}, floor=20, after=6),
            [],
            ChangeCursor(since=20, seen={"2": 18}),
        ),
        (  # a row read late, inside the window, does not move the watermark back
            ChangeCursor(since=20, seen={"2": 20}),
            [("1", 17)],
            ChangeCursor(since=20, seen={"1": 17, "2": 20}),
        ),
    ],
)
def test_advance(start: ChangeCursor, rows: list[tuple[str, int]], expected: ChangeCursor) -> None:
    assert start.advance(rows, PAGE, LAG) == expected


def test_a_new_query_starts_a_lag_window_before_the_watermark() -> None:
    assert ChangeCursor().query_since(LAG) == 0
    assert ChangeCursor(since=20).query_since(LAG) == 15
    assert ChangeCursor(since=20, floor=20, after=3).query_since(LAG) == 20


def test_fresh_skips_only_records_already_delivered_at_that_time() -> None:
    cursor = ChangeCursor(since=20, seen={"2": 20, "3": 16})
    rows = [("2", 20), ("3", 25), ("4", 20), ("3", 16)]
    assert cursor.fresh(rows) == [("3", 25), ("4", 20)]


def test_rows_leave_the_window_as_the_watermark_moves_on() -> None:
    cursor = ChangeCursor(since=20, seen={"1": 14, "2": 15, "3": 20})
    assert cursor.advance([("4", 21)], PAGE, LAG).seen == {"3": 20, "4": 21}


def test_encode_round_trips_and_none_starts_at_the_beginning() -> None:
    cursor = ChangeCursor(since=5, seen={"a": 5, "b": 4}, floor=5, after=200, deleted_since=9)
    assert ChangeCursor.decode(cursor.encode()) == cursor
    assert ChangeCursor.decode(ChangeCursor(since=5).encode()) == ChangeCursor(since=5)
    assert ChangeCursor.decode(None) == ChangeCursor()
    assert cursor.deleted_until(3).deleted_since == 9
    assert cursor.deleted_until(12).deleted_since == 12


def test_an_older_cursor_keeps_its_ids_and_starts_a_new_query() -> None:
    old = '{"since":20,"seen":["1","2"],"after":2,"deleted_since":7}'
    assert ChangeCursor.decode(old) == ChangeCursor(
        since=20, seen={"1": 20, "2": 20}, deleted_since=7
    )
