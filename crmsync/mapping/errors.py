"""Errors of the mapping engine, from "the mapping file is wrong" to "one value is"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class MappingError(Exception):
    """Base class of mapping errors."""


class MappingFileError(MappingError):
    """A mapping document (YAML) that cannot be read; names the line and the field."""

    def __init__(
        self, message: str, *, line: int | None = None, column: int | None = None, field: str = ""
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.field = field
        where = f"line {line}" if line is not None else "document"
        if column is not None:
            where += f", column {column}"
        if field:
            where += f", field {field}"
        super().__init__(f"{where}: {message}")


class UnmappedValueError(MappingError, ValueError):
    """A value that has no entry in a status map or value map."""

    def __init__(self, value: Any, map_name: str, direction: str) -> None:
        self.value = value
        self.map_name = map_name
        self.direction = direction
        super().__init__(f"value {value!r} has no {direction} entry in map {map_name!r}")


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field that could not be mapped; the rest of the record still maps."""

    field: str
    message: str
    value: Any = None
