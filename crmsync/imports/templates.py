"""Template files: a header row of every field an object type imports, and an example.

The fields and their examples come from the field table (``crmsync.fields.table``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from crmsync.fields.spec import FieldType
from crmsync.fields.table import TABLE, ObjectType
from crmsync.imports.errors import JobNotFound
from crmsync.imports.report import csv_lines
from crmsync.imports.rowmap import EXTERNAL_REF, OBJECT_TYPES

_REF_EXAMPLE: Final = "app-1001"

_BY_TYPE: Final[dict[FieldType, str]] = {
    FieldType.NUMBER: "0",
    FieldType.DATE: "2026-01-31",
    FieldType.DATETIME: "2026-01-31T09:00:00Z",
    FieldType.BOOLEAN: "true",
    FieldType.LIST: "first; second",
}


def template_fields(object_type: str) -> list[str]:
    if object_type not in OBJECT_TYPES:
        raise JobNotFound(f"no template for {object_type!r}; one of {', '.join(OBJECT_TYPES)}")
    # structured data and ids of other records are left out (``CanonicalField.in_template``)
    spec = TABLE[ObjectType(object_type)]
    return [EXTERNAL_REF, *(f.name for f in spec.fields if f.in_template)]


def template_csv(object_type: str) -> Iterator[str]:
    """The template as CSV text: its headers map to fields exactly, with no suggestion needed."""
    fields = template_fields(object_type)
    spec = TABLE[ObjectType(object_type)].by_name
    example = [_REF_EXAMPLE] + [
        spec[name].example or _BY_TYPE.get(spec[name].type, "") for name in fields[1:]
    ]
    return csv_lines(fields, [example])
