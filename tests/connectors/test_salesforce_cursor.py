"""The polling cursor: watermark, lag window, and re-read rows, by tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.salesforce.cursor import ChangeCursor, digest

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_new_cursor_reads_from_the_beginning() -> None:
    cursor = ChangeCursor.decode(None)
    assert cursor.query_since(120) is None and cursor.is_fresh("003A", "d1")


def test_advance_moves_the_watermark_to_the_newest_stamp() -> None:
    cursor = ChangeCursor().advance([("A", at(5), "a"), ("B", at(1), "b")], 60, None)
    assert cursor.query_since(60) == at(5) - timedelta(seconds=60)


@pytest.mark.parametrize(
    ("remote_id", "row_digest", "fresh"),
    [
        ("A", "a", False),  # re-read within the lag window, unchanged
        ("A", "a2", True),  # changed again within the same second
        ("C", "c", True),  # never seen
    ],
)
def test_rows_seen_in_the_window_come_back_only_when_changed(
    remote_id: str, row_digest: str, fresh: bool
) -> None:
    cursor = ChangeCursor().advance([("A", at(5), "a")], 60, None)
    assert cursor.is_fresh(remote_id, row_digest) is fresh


def test_rows_older_than_the_window_are_forgotten() -> None:
    cursor = ChangeCursor().advance([("A", at(0), "a"), ("B", at(100), "b")], 60, None)
    assert set(cursor.seen) == {"B"}


def test_encode_decode_round_trip_keeps_the_page() -> None:
    cursor = ChangeCursor().advance([("A", at(5), "a")], 60, "/services/data/v59.0/query/01g-2000")
    again = ChangeCursor.decode(cursor.encode())
    assert again == cursor
    assert again.restarted().next_url is None and again.restarted().seen == cursor.seen


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"w": {"A": 5}}'])
def test_foreign_text_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        ChangeCursor.decode(text)


def test_digest_depends_on_content_not_key_order() -> None:
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})
