"""Template files: a header row of every field an object type imports, and an example."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from crmsync.imports.errors import JobNotFound
from crmsync.imports.report import csv_lines
from crmsync.imports.rowmap import EXTERNAL_REF, OBJECT_TYPES
from crmsync.mapping.schema import CANONICAL_SCHEMA, FieldType, ObjectType

_EXAMPLES: Final[dict[str, str]] = {
    EXTERNAL_REF: "app-1001",
    "email": "jane.doe@example.com",
    "phone": "+1 415 555 0100",
    "first_name": "Jane",
    "last_name": "Doe",
    "name": "Acme Mortgage",
    "status": "NEW",
    "contact_type": "borrower",
    "amount": "250000",
    "currency": "USD",
    "close_date": "2026-12-31",
    "country": "US",
}
_BY_TYPE: Final[dict[FieldType, str]] = {
    FieldType.NUMBER: "0",
    FieldType.DATE: "2026-01-31",
    FieldType.DATETIME: "2026-01-31T09:00:00Z",
    FieldType.BOOLEAN: "true",
    FieldType.LIST: "first; second",
}
# Fields that hold structured data or ids of other records are left out of templates.
_SKIP: Final = frozenset({FieldType.OBJECT})


def template_fields(object_type: str) -> list[str]:
    if object_type not in OBJECT_TYPES:
        raise JobNotFound(f"no template for {object_type!r}; one of {', '.join(OBJECT_TYPES)}")
    schema = CANONICAL_SCHEMA[ObjectType(object_type)]
    names = [n for n, t in schema.items() if t not in _SKIP and not n.endswith("_id")]
    return [EXTERNAL_REF, *names]


def template_csv(object_type: str) -> Iterator[str]:
    """The template as CSV text: its headers map to fields exactly, with no suggestion needed."""
    fields = template_fields(object_type)
    schema = CANONICAL_SCHEMA[ObjectType(object_type)]
    example = [
        _EXAMPLES.get(name) or _BY_TYPE.get(schema.get(name, FieldType.STRING), "")
        for name in fields
    ]
    return csv_lines(fields, [example])
