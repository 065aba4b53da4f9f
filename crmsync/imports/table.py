"""What every reader yields: cleaned headers, then rows as dicts keyed by them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from crmsync.imports.errors import FileTooLarge, UnreadableFile
from crmsync.imports.settings import ImportSettings

# Key of the cells past the last header in a ragged row, kept for the error report.
EXTRA = "_extra"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row. ``number`` counts data rows from 0 and is the resume checkpoint unit;
    ``line`` is where people find it in the file (CSV line, sheet row, JSON item)."""

    number: int
    line: int
    values: dict[str, Any]
    problem: str | None = None

    def __reduce__(self) -> tuple[type[SourceRow], tuple[int, int, dict[str, Any], str | None]]:
        # pickled by its fields: a slots dataclass's own __getstate__/__setstate__ walk
        # ``dataclasses.fields`` for every row, a sixth of handing a batch across processes
        return (SourceRow, (self.number, self.line, self.values, self.problem))


@dataclass
class TableInfo:
    """What a reader learnt from the start of the file."""

    format: str
    headers: list[str]
    warnings: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


class TableReader(Protocol):
    info: TableInfo

    def rows(self) -> Iterator[SourceRow]: ...


def clean_headers(raw: Sequence[Any], limits: ImportSettings) -> tuple[list[str], list[str]]:
    """Headers made unique and non-empty, and a warning for each one changed."""
    if len(raw) > limits.max_columns:
        raise FileTooLarge(f"the file has {len(raw)} columns; at most {limits.max_columns} allowed")
    headers: list[str] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for position, value in enumerate(raw, start=1):
        name = str(value).strip() if value is not None else ""
        if not name:
            name = f"column_{position}"
            warnings.append(f"column {position} has no header; named it {name!r}")
        if name in seen:
            base, n = name, 2
            while f"{base}_{n}" in seen:
                n += 1
            name = f"{base}_{n}"
            warnings.append(
                f"header {base!r} appears more than once; column {position} is {name!r}"
            )
        seen.add(name)
        headers.append(name)
    return headers, warnings


def count_rows(reader: TableReader) -> int:
    """How many rows ``reader.rows()`` gives, cheaply when the reader can count them."""
    counter = getattr(reader, "count_rows", None)
    if counter is not None:
        return int(counter())
    return sum(1 for _ in reader.rows())


def check_row_count(number: int, limits: ImportSettings) -> None:
    if number >= limits.max_rows:
        raise FileTooLarge(f"the file has more than {limits.max_rows} rows")


def check_cells(values: dict[str, Any], limits: ImportSettings) -> str | None:
    """Why a row's cells cannot be imported (one too large), or None."""
    for name, value in values.items():
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            return (
                f"the cell in column {name!r} has {len(value)} characters; "
                f"at most {limits.max_cell_chars} allowed"
            )
    return None


def truncate_cells(values: dict[str, Any], limits: ImportSettings) -> dict[str, Any]:
    """Values fit to keep in an error report (over-long cells cut to the limit)."""
    cap = limits.max_cell_chars
    return {k: v[:cap] if isinstance(v, str) and len(v) > cap else v for k, v in values.items()}


# Rows looked at to find the header row below a report's title rows.
HEADER_SEARCH_ROWS = 30


def _is_label(value: Any) -> bool:
    text = str(value).strip()
    if not text:
        return False
    try:
        float(text.replace(",", ""))
    except ValueError:
        return True
    return False


def find_header(rows: Sequence[tuple[int, Sequence[Any]]], header_row: int | None) -> int:
    """Index in ``rows`` (line, cells) of the header row, the first non-blank ones of a file.

    ``header_row`` is its line when the caller knows it. Else it is the first row whose
    filled cells are text (not numbers) and at least half as many as the widest row
    has: a report's title lines ("Leads report", "Generated on ...") fill one cell.
    """
    if header_row is not None:
        for index, (line, _cells) in enumerate(rows):
            if line == header_row:
                return index
        raise UnreadableFile(f"line {header_row} is blank or past the first rows of the file")
    widths = [sum(1 for c in cells if str(c).strip()) for _line, cells in rows]
    widest = max(widths, default=0)
    needed = widest if widest <= 2 else (widest + 1) // 2
    for index, (_line, cells) in enumerate(rows):
        filled = [str(c).strip() for c in cells if str(c).strip()]
        if len(filled) >= needed and all(map(_is_label, filled)):
            return index
    return 0


def header_warning(rows: Sequence[tuple[int, Sequence[Any]]], index: int) -> list[str]:
    if index == 0:
        return []
    line = rows[index][0]
    return [f"the header is on line {line}; the {index} rows above it are skipped"]
