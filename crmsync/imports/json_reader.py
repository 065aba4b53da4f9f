"""JSON arrays of objects and JSON Lines, both streamed one object at a time.

A JSON array is read with ``raw_decode`` over a sliding buffer, so memory holds one
object (plus a read chunk), never the whole file. Nested objects flatten to dotted
keys (``address.city``), the same paths mappings use.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from crmsync import jsonlimits
from crmsync.imports.encoding import SAMPLE_BYTES, detect_encoding
from crmsync.imports.errors import UnreadableFile
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import (
    SourceRow,
    TableInfo,
    check_cells,
    check_row_count,
    clean_headers,
)

CHUNK: Final = 256 * 1024
# Headers come from the keys of the first objects; later new keys are kept in the row.
HEADER_SAMPLE: Final = 100
_DECODER: Final = json.JSONDecoder()
_SPACE: Final = " \t\r\n"


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _array_items(text: io.TextIOBase) -> Iterator[Any]:
    """Items of a top-level JSON array, decoded one by one from a sliding buffer."""
    buffer = ""
    pos = 0
    started = False
    eof = False
    while True:
        while pos < len(buffer) and buffer[pos] in _SPACE + ",":
            if buffer[pos] == "," and not started:
                raise UnreadableFile("the JSON array starts with a comma")
            pos += 1
        if pos >= len(buffer) and not eof:
            chunk = text.read(CHUNK)
            eof = not chunk
            buffer, pos = buffer[pos:] + chunk, 0
            continue
        if pos >= len(buffer):
            raise UnreadableFile("the JSON array is not closed")
        if not started:
            if buffer[pos] != "[":
                raise UnreadableFile("a .json file must hold an array of objects")
            started, pos = True, pos + 1
            continue
        if buffer[pos] == "]":
            return
        try:
            item, end = _DECODER.raw_decode(buffer, pos)
        except RecursionError:  # where the item ends is unknown: the file stops here
            raise UnreadableFile("the JSON is nested too deeply to read") from None
        except json.JSONDecodeError as exc:
            if eof:
                raise UnreadableFile(f"invalid JSON: {exc.msg} at item end") from None
            chunk = text.read(CHUNK)
            eof = not chunk
            buffer, pos = buffer[pos:] + chunk, 0
            continue
        # a number cut by the chunk edge decodes "successfully"; read on to be sure
        if end == len(buffer) and not eof:
            chunk = text.read(CHUNK)
            eof = not chunk
            buffer, pos = buffer[pos:] + chunk, 0
            continue
        yield _within_limits(item)
        pos = end


def _within_limits(item: Any) -> Any:
    """The item, or an UnreadableFile (a row problem) when it breaks the JSON limits."""
    try:
        jsonlimits.check(item)
    except jsonlimits.JsonRefused as exc:
        return UnreadableFile(f"JSON outside the limits: {exc}")
    return item


def _line_items(text: io.TextIOBase) -> Iterator[Any]:
    for line in text:
        if line.strip():
            try:
                yield jsonlimits.loads(line)
            except jsonlimits.JsonRefused as exc:
                yield UnreadableFile(f"invalid JSON on this line: {exc.message}")


class JsonReader:
    def __init__(self, path: Path, filename: str, limits: ImportSettings) -> None:
        self.path = path
        self.limits = limits
        with path.open("rb") as f:
            sample = f.read(SAMPLE_BYTES)
        if not sample.strip():
            raise UnreadableFile("the file is empty")
        self.encoding = detect_encoding(sample)
        first = sample.decode(self.encoding, errors="ignore").lstrip("\ufeff" + _SPACE)[:1]
        self.lines = filename.lower().endswith((".jsonl", ".ndjson")) or first == "{"
        self.info = TableInfo("jsonl" if self.lines else "json", [], encoding=self.encoding)
        keys: dict[str, None] = {}
        for count, item in enumerate(self._items()):
            if count >= HEADER_SAMPLE:
                break
            if isinstance(item, dict):
                keys.update(dict.fromkeys(flatten(item)))
        self.info.headers, self.info.warnings = clean_headers(list(keys), limits)
        if not keys:
            raise UnreadableFile("the file holds no JSON objects")

    def _items(self) -> Iterator[Any]:
        with io.TextIOWrapper(
            self.path.open("rb"), encoding=self.encoding, errors="replace"
        ) as text:
            yield from _line_items(text) if self.lines else _array_items(text)

    def rows(self) -> Iterator[SourceRow]:
        for number, item in enumerate(self._items()):
            check_row_count(number, self.limits)
            if isinstance(item, UnreadableFile):
                yield SourceRow(number, number + 1, {}, item.message)
            elif not isinstance(item, dict):
                yield SourceRow(number, number + 1, {}, "not a JSON object")
            else:
                values = flatten(item)
                yield SourceRow(number, number + 1, values, check_cells(values, self.limits))
