"""XLSX: the first or a named sheet, streamed read-only, guarded against XML and zip bombs.

openpyxl parses with defusedxml when it is installed (entity expansion refused). The
upload limit is applied to the uncompressed size of the workbook's parts as well, so a
small file that inflates to gigabytes is refused before any part is read.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any, Final

from defusedxml import DefusedXmlException

from crmsync.imports.errors import FileTooLarge, UnreadableFile
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import (
    HEADER_SEARCH_ROWS,
    SourceRow,
    TableInfo,
    check_cells,
    check_row_count,
    clean_headers,
    find_header,
    header_warning,
)

# A legitimate sheet compresses well, but not a thousand times over.
MAX_RATIO: Final = 200


def check_archive(path: Path, limits: ImportSettings) -> None:
    """Refuse a workbook whose parts inflate past the upload limit or compress absurdly."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(f"not a valid .xlsx file ({exc})") from None
    inflated = sum(p.file_size for p in parts)
    packed = sum(p.compress_size for p in parts)
    if inflated > limits.max_upload_bytes:
        raise FileTooLarge(
            f"the workbook holds {inflated} bytes uncompressed; "
            f"at most {limits.max_upload_bytes} allowed"
        )
    if packed and inflated / packed > MAX_RATIO and inflated > 1024 * 1024:
        raise FileTooLarge("the workbook compresses suspiciously well (a zip bomb?)")


def _unreadable(exc: Exception) -> UnreadableFile:
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, DefusedXmlException):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return UnreadableFile("the workbook declares XML entities; refused as a possible XML bomb")
    return UnreadableFile(f"not a readable .xlsx file ({type(exc).__name__}: {exc})"[:300])


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class XlsxReader:
    def __init__(
        self,
        path: Path,
        limits: ImportSettings,
        sheet: str | None = None,
        header_row: int | None = None,
    ) -> None:
        from openpyxl.xml import DEFUSEDXML

        if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
            raise UnreadableFile("XLSX import needs defusedxml installed")
        check_archive(path, limits)
        self.path = path
        self.limits = limits
        self.sheet = sheet
        self.info = TableInfo("xlsx", [], sheet=sheet)
        top = list(islice(self._raw_rows(), HEADER_SEARCH_ROWS))
        if not top:
            raise UnreadableFile("the sheet is empty")
        index = find_header(top, header_row)
        self.header_line = top[index][0]
        self.info.headers, self.info.warnings = clean_headers(top[index][1], limits)
        self.info.warnings[:0] = header_warning(top, index)

    def _raw_rows(self) -> Iterator[tuple[int, list[Any]]]:
        from openpyxl import load_workbook

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise _unreadable(exc) from None
        try:
            if self.sheet is not None and self.sheet not in book.sheetnames:
                raise UnreadableFile(
                    f"no sheet named {self.sheet!r}; the sheets are {book.sheetnames}"
                )
            ws = book[self.sheet] if self.sheet else book.worksheets[0]
            self.info.sheet = ws.title
            for line, raw in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = [_cell(v) for v in raw]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    yield line, cells
        except UnreadableFile:
            raise
        except Exception as exc:  # the sheet is parsed while it is read
            raise _unreadable(exc) from None
        finally:
            book.close()

    def rows(self) -> Iterator[SourceRow]:
        headers = self.info.headers
        width = len(headers)
        # title rows and the header row are not data
        raw_rows = ((line, cells) for line, cells in self._raw_rows() if line > self.header_line)
        for number, (line, cells) in enumerate(raw_rows):
            check_row_count(number, self.limits)
            values = dict(zip(headers, cells, strict=False))
            for name in headers[len(cells) :]:
                values[name] = ""
            problem = None
            if len(cells) > width:
                problem = f"expected {width} fields, found {len(cells)}"
            problem = problem or check_cells(values, self.limits)
            yield SourceRow(number, line, values, problem)
