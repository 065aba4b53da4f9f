"""Coercion of values to a canonical field type, and of canonical values to JSON.

The type parsers are ``fields.values``; e-mail and phone are normalised here, by
``quality.normalize``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmsync.fields.values import (
    parse_boolean,
    parse_date,
    parse_datetime,
    parse_list,
    parse_number,
    parse_object,
    parse_text,
)
from crmsync.mapping.schema import FieldType
from crmsync.quality.normalize import normalize_email, normalize_phone


def _email(value: Any, _region: str) -> str:
    email = normalize_email(parse_text(value, _region))
    if email is None:
        raise ValueError("not an e-mail address")
    return email


def _phone(value: Any, region: str) -> str:
    phone = normalize_phone(parse_text(value, region), region)
    if phone is None:
        raise ValueError("not a valid phone number")
    return phone


_COERCERS: dict[FieldType, Callable[[Any, str], Any]] = {
    FieldType.STRING: parse_text,
    FieldType.EMAIL: _email,
    FieldType.PHONE: _phone,
    FieldType.NUMBER: parse_number,
    FieldType.BOOLEAN: parse_boolean,
    FieldType.DATE: parse_date,
    FieldType.DATETIME: parse_datetime,
    FieldType.ENUM: parse_text,
    FieldType.LIST: parse_list,
    FieldType.OBJECT: parse_object,
}


def to_canonical(value: Any, field_type: FieldType, region: str = "US") -> Any:
    """``value`` as the Python type of ``field_type``; ValueError says why not."""
    return _COERCERS[field_type](value, region)


def coercer(field_type: FieldType) -> Callable[[Any, str], Any]:
    """``to_canonical`` for one type, looked up once: ``coercer(t)(value, region)``."""
    return _COERCERS[field_type]


def to_wire(value: Any) -> Any:
    """A canonical value as JSON: dates and date-times become ISO 8601 strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    return value
