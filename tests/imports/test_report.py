"""CSV written by crmsync defuses formulas and reads back as the same table."""

from __future__ import annotations

import csv
import io

import pytest

from crmsync.imports.report import csv_lines, neutralise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 212 555 0134", "'+1 212 555 0134"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
        (12, "12"),
    ],
)
def test_neutralise(value: object, expected: str) -> None:
    assert neutralise(value) == expected


def test_csv_lines_round_trip_with_quotes_and_newlines() -> None:
    rows = [["a,b", 'say "hi"', "two\nlines"], ["=cmd", "", 3]]
    text = "".join(csv_lines(["x", "y", "z"], rows))
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert parsed == [["x", "y", "z"], ["a,b", 'say "hi"', "two\nlines"], ["'=cmd", "", "3"]]
