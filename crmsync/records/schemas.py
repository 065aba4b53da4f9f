"""What a client may write to each record type. Unknown fields are refused by name.

The per-type schemas (``ContactIn`` ...) are built from the field table
(``crmsync.fields.table``); this module adds what is common to every record."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    model_validator,
)

from crmsync import jsonlimits
from crmsync.fields.enums import (
    ActivityDirection,
    ActivityType,
    ContactType,
    LeadStatus,
    PropertyStatus,
    TicketStatus,
)
from crmsync.fields.spec import CanonicalField, FieldType, NumberKind, RecordSpec
from crmsync.fields.table import TABLE, ObjectType

# The enums of the field table, importable from here as before.
__all__ = [
    "CREATE_SCHEMAS",
    "PATCH_SCHEMAS",
    "PLAIN_TEXT",
    "READ_ONLY_FIELDS",
    "ActivityDirection",
    "ActivityType",
    "ContactType",
    "ExternalRef",
    "LeadStatus",
    "PropertyStatus",
    "RecordIn",
    "TicketStatus",
    "UtcDatetime",
]

Text255 = Annotated[str, StringConstraints(max_length=255)]


def _in_utc_range(value: datetime) -> datetime:
    # 0001-01-01T00:00+14:00 parses, but is before the first instant UTC can hold: every
    # comparison with a stored time would then fail. A naive time is taken as UTC.
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("time is outside the range a UTC timestamp can hold") from None
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc_range)]
"""A datetime that converts to UTC (query parameters and record fields alike)."""


def _no_empty_ref(value: str | None) -> str | None:
    # "" is no reference: two records with "" would collide on the unique (type, ref).
    return value or None


ExternalRef = Annotated[Text255 | None, AfterValidator(_no_empty_ref)]


# Present in records the API returns; a client may echo them back, and they are ignored.
READ_ONLY_FIELDS = frozenset(
    {"id", "workspace_id", "version", "created_at", "updated_at", "deleted_at"}
)


class RecordIn(BaseModel):
    """Fields common to every record type."""

    # NaN/Infinity (also as the strings "NaN", "inf") have no JSON form: refused, not nulled.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    external_ref: ExternalRef = None
    custom_fields: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        # Every value must be one the stores and readers can hold (64-bit integers, no NaN,
        # no NUL or lone surrogate, bounded nesting), whatever path it came in by.
        jsonlimits.check(data, plain=False)
        # Clients may echo back a record they read; what the server owns is not applied.
        if isinstance(data, dict) and not READ_ONLY_FIELDS.isdisjoint(data):
            return {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS}
        return data


_NUMBERS: dict[NumberKind, type] = {
    NumberKind.FLOAT: float,
    NumberKind.INTEGER: int,
    NumberKind.DECIMAL: Decimal,
}


def _annotation(spec: CanonicalField) -> Any:
    """The pydantic type of one field of the table, with its limits."""
    if spec.relation is not None:
        return uuid.UUID
    if spec.type is FieldType.ENUM:
        return spec.enum
    if spec.type is FieldType.NUMBER:
        number = _NUMBERS[spec.number]
        if spec.number is NumberKind.DECIMAL:  # amounts: cents, as the columns hold them
            places = Field(max_digits=spec.max_digits, decimal_places=2)
            return Annotated[number, Field(ge=spec.minimum, le=spec.maximum), places]
        if spec.minimum is None and spec.maximum is None:
            return number
        return Annotated[number, Field(ge=spec.minimum, le=spec.maximum)]
    if spec.type is FieldType.DATE:
        return date
    if spec.type is FieldType.DATETIME:
        return UtcDatetime
    if spec.type is FieldType.BOOLEAN:
        return bool
    text = StringConstraints(max_length=spec.max_length, pattern=spec.pattern)
    if spec.type is FieldType.LIST:
        return list[Annotated[str, text]]
    if spec.type is FieldType.OBJECT:
        return dict[str, str] if spec.text_values else dict[str, Any]
    return Annotated[str, text]


def _plain_text(spec: CanonicalField) -> bool:
    """Whether ``_annotation`` gives the field a plain string with no pattern."""
    return spec.relation is None and spec.pattern is None and spec.type not in _NOT_TEXT


_NOT_TEXT = frozenset(
    {
        FieldType.ENUM,
        FieldType.NUMBER,
        FieldType.DATE,
        FieldType.DATETIME,
        FieldType.BOOLEAN,
        FieldType.LIST,
        FieldType.OBJECT,
    }
)


def _create_model(record_type: ObjectType, spec: RecordSpec) -> type[RecordIn]:
    """``ContactIn`` and its kind: the table's fields of one record type, as a client
    writes them."""
    fields: dict[str, Any] = {}
    for field in spec.fields:
        annotation = _annotation(field)
        docs: dict[str, Any] = {"title": field.title}
        if field.description:
            docs["description"] = field.description
        if field.example is not None:
            docs["examples"] = [field.example]
        if field.required:
            fields[field.name] = (annotation, Field(..., **docs))
        elif field.default is not None:  # never null: a record without it takes the default
            fields[field.name] = (annotation, Field(field.default, **docs))
        else:
            fields[field.name] = (annotation | None, Field(None, **docs))
    model = create_model(f"{spec.label}In", __base__=RecordIn, **fields)
    model.__doc__ = spec.description or f"What a client may write to a {spec.label.lower()}."
    return model


def _patch_model(create: type[RecordIn]) -> type[RecordIn]:
    """The same fields, all optional: a patch names only what changes."""
    fields: dict[str, Any] = {}
    for name, info in create.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:  # keep length limits, ranges and patterns
            annotation = Annotated.__class_getitem__((annotation, *info.metadata))  # type: ignore[attr-defined]
        fields[name] = (
            annotation | None,
            Field(None, title=info.title, description=info.description),
        )
    return create_model(create.__name__.replace("In", "Patch"), __base__=RecordIn, **fields)


CREATE_SCHEMAS: dict[str, type[RecordIn]] = {
    str(name): _create_model(name, spec) for name, spec in TABLE.items()
}
PATCH_SCHEMAS: dict[str, type[RecordIn]] = {
    name: _patch_model(schema) for name, schema in CREATE_SCHEMAS.items()
}

# record type -> field -> longest text, for the fields a client writes as plain text (a
# string with at most a length limit: no pattern, enum or other type), external_ref
# included. ``payloads.plain_rows`` judges such values without a model.
PLAIN_TEXT: dict[str, dict[str, int | None]] = {
    str(name): {
        "external_ref": 255,
        **{f.name: f.max_length for f in spec.fields if _plain_text(f)},
    }
    for name, spec in TABLE.items()
}
