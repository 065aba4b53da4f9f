"""CSV and TSV: encoding detection, delimiter sniffing, quoted newlines, ragged rows."""

from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from crmsync.imports.encoding import SAMPLE_BYTES, detect_encoding
from crmsync.imports.errors import UnreadableFile
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import (
    EXTRA,
    HEADER_SEARCH_ROWS,
    SourceRow,
    TableInfo,
    check_cells,
    check_row_count,
    clean_headers,
    find_header,
    header_warning,
)

DELIMITERS: Final = (",", ";", "\t", "|")
_SNIFF_LINES: Final = 50
# Cells are checked against max_cell_chars after parsing, so that an over-long cell
# fails its own row with a clear reason instead of stopping the csv module mid-file.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _score(sample: str, delimiter: str) -> tuple[int, int]:
    """(rows of the most common width, that width) when split by ``delimiter``.

    Rows of one cell do not count: a report's title lines above the header have no
    delimiter in them, and neither has any line under a wrong one.
    """
    # newline="": a CR alone ends a line too (old Mac files), as when the file is read
    try:
        rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    except csv.Error:
        return (0, 0)
    rows = rows[:_SNIFF_LINES]
    rows = [r for r in rows if r]
    if len(rows) > 1:
        rows = rows[:-1]  # the last line of a sample may be cut short
    widths = Counter(len(r) for r in rows if len(r) >= 2)
    if not widths:
        return (0, 0)
    width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
    return (count, width)


def sniff_delimiter(sample: str, filename: str) -> str:
    """The delimiter that splits the sample into the most rows of a constant width."""
    if filename.lower().endswith((".tsv", ".tab")):
        return "\t"
    best = max(DELIMITERS, key=lambda d: _score(sample, d))
    return best if _score(sample, best) != (0, 0) else ","


def _guarded(reader: Iterator[list[str]], what: str) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise UnreadableFile(f"{what}: {exc}") from None


class CsvReader:
    """Streams rows of a delimited text file; a row of another width is a row problem."""

    def __init__(
        self, path: Path, filename: str, limits: ImportSettings, header_row: int | None = None
    ) -> None:
        self.path = path
        self.limits = limits
        with path.open("rb") as f:
            sample = f.read(SAMPLE_BYTES)
        if not sample.strip():
            raise UnreadableFile("the file is empty")
        encoding = detect_encoding(sample)
        text = sample.decode(encoding, errors="ignore")
        delimiter = sniff_delimiter(text, filename)
        self.info = TableInfo("csv", [], encoding=encoding, delimiter=delimiter)
        top: list[tuple[int, list[str]]] = []
        with self._open() as f:
            reader = csv.reader(f, delimiter=delimiter)
            for raw in _guarded(reader, "the header rows are not readable CSV"):
                if any(cell.strip() for cell in raw):
                    top.append((reader.line_num, raw))
                    if len(top) >= HEADER_SEARCH_ROWS:
                        break
        if not top:
            raise UnreadableFile("the file has no header row")
        index = find_header(top, header_row)
        # rows up to this line (title rows, the header) are not data
        self.header_line = top[index][0]
        self.info.headers, self.info.warnings = clean_headers(top[index][1], limits)
        self.info.warnings[:0] = header_warning(top, index)
        if self.info.format == "csv" and delimiter == "\t":
            self.info.format = "tsv"

    def _open(self) -> io.TextIOWrapper:
        # errors="replace": a stray byte later in the file costs one character, not the job
        return io.TextIOWrapper(
            self.path.open("rb"), encoding=self.info.encoding, errors="replace", newline=""
        )

    def _records(self) -> Iterator[tuple[int, int, list[str]]]:
        """(row number, line, cells) of each data row.

        Lines of one cell at the very end of a file of wider rows are a report's footer
        (Salesforce ends its exports with "Grand Totals (4 records)", "Confidential
        Information - Do Not Distribute" and a copyright line), not rows: they are
        skipped. One-cell lines followed by a row are rows (of the wrong width).
        """
        number = 0
        held: list[tuple[int, list[str]]] = []  # one-cell lines that may be the footer
        footer_possible = len(self.info.headers) > 1
        with self._open() as f:
            reader = csv.reader(f, delimiter=self.info.delimiter or ",")
            for raw in _guarded(reader, "the file stops being readable CSV"):
                if reader.line_num <= self.header_line:
                    continue
                if not any(cell.strip() for cell in raw):
                    continue  # blank lines, and lines of empty cells
                if footer_possible and len(raw) == 1:
                    held.append((reader.line_num, raw))
                    continue
                for line, cells in [*held, (reader.line_num, raw)]:
                    check_row_count(number, self.limits)
                    yield number, line, cells
                    number += 1
                held.clear()

    def rows(self) -> Iterator[SourceRow]:
        headers = self.info.headers
        width = len(headers)
        longest = self.limits.max_cell_chars
        for number, line, raw in self._records():
            values: dict[str, Any] = dict(zip(headers, raw, strict=False))
            problem = None
            if len(raw) != width:
                problem = f"expected {width} fields, found {len(raw)}"
                if len(raw) > width:
                    values[EXTRA] = raw[width:]
            elif max(map(len, raw), default=0) > longest:  # the cells are text: most rows stop here
                problem = check_cells(values, self.limits)
            yield SourceRow(number, line, values, problem)

    def count_rows(self) -> int:
        """How many rows ``rows`` gives, without making them."""
        return sum(1 for _ in self._records())
