"""Choosing a reader for an uploaded file by its name and first bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from crmsync.imports.csv_reader import CsvReader
from crmsync.imports.errors import UnreadableFile
from crmsync.imports.json_reader import JsonReader
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import TableReader
from crmsync.imports.xlsx_reader import XlsxReader

FORMATS: Final = ("csv", "tsv", "xlsx", "json", "jsonl")
_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0"


def detect_format(path: Path, filename: str) -> str:
    """csv, tsv, xlsx, json or jsonl; the content wins over a misleading name."""
    with path.open("rb") as f:
        head = f.read(8)
    name = filename.lower()
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise UnreadableFile("old .xls workbooks are not supported; save the sheet as .xlsx")
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    if name.endswith((".tsv", ".tab")):
        return "tsv"
    if name.endswith(".xlsx"):
        raise UnreadableFile("the file is named .xlsx but is not an Excel workbook")
    return "csv"


def open_table(
    path: Path,
    filename: str,
    limits: ImportSettings,
    *,
    sheet: str | None = None,
    file_format: str | None = None,
    header_row: int | None = None,
) -> TableReader:
    """A reader positioned after the header; raises UnreadableFile or FileTooLarge."""
    kind = file_format or detect_format(path, filename)
    if kind == "xlsx":
        return XlsxReader(path, limits, sheet, header_row)
    if kind in ("json", "jsonl"):
        return JsonReader(path, f"x.{kind}", limits)
    if kind in ("csv", "tsv"):
        return CsvReader(path, f"x.{kind}", limits, header_row)
    raise UnreadableFile(f"unknown file format {kind!r}; one of {', '.join(FORMATS)}")
