"""Every connector's change cursor shares one text form (connectors.cursor): empty text
starts from the beginning, a cursor reads back as itself, and a text that is no cursor
is a ConfigError."""

from __future__ import annotations

import pytest

from crmsync.connectors.cursor import JsonCursor
from crmsync.connectors.errors import ConfigError
from crmsync.connectors.hubspot.cursor import ChangeCursor as HubSpotCursor
from crmsync.connectors.pipedrive.cursor import ChangeCursor as KeysetCursor
from crmsync.connectors.pipedrive.cursor import Lane
from crmsync.connectors.rest.cursor import PollCursor
from crmsync.connectors.salesforce.cursor import ChangeCursor as SalesforceCursor

MOVED: list[JsonCursor] = [
    PollCursor(since=1_000, seen=("a",), page="p2", high=2_000, at_high=("b", "c")),
    HubSpotCursor(since=5_000, seen={"1": 4_990}, floor=4_000, after=100, deleted_since=7),
    KeysetCursor(Lane(10, {"7": "d1"}, "tok"), Lane(3)),
    SalesforceCursor(9_000, {"001": (8_500, "ab12")}, "/services/data/next"),
]


@pytest.mark.parametrize("cursor", MOVED, ids=lambda c: type(c).__module__)
def test_a_cursor_reads_back_as_itself(cursor: JsonCursor) -> None:
    text = cursor.encode()
    assert type(cursor).decode(text) == cursor
    assert " " not in text  # compact: it is stored on every poll


@pytest.mark.parametrize("kind", [type(c) for c in MOVED], ids=lambda k: k.__module__)
def test_no_text_is_the_start_and_garbage_is_refused(kind: type[JsonCursor]) -> None:
    assert kind.decode(None) == kind.decode("") == kind.from_json({})
    for text in ("not json", "[1, 2]", '"text"'):
        with pytest.raises(ConfigError):
            kind.decode(text)
