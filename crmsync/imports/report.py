"""CSV that crmsync writes: error reports and templates, safe to open in a spreadsheet.

A cell that starts with ``= + - @``, a tab or a carriage return is run as a formula by
Excel and LibreOffice (CSV injection); such cells get a leading apostrophe, which the
spreadsheet shows as text and hides.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell as text, with formula injection defused."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV document piece by piece (a BOM so Excel reads UTF-8, then one line each),
    every cell neutralised; streams, so a large report never sits in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Sequence[Any]) -> str:
        writer.writerow([neutralise(c) for c in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(header)
    for cells in rows:
        yield line(cells)
