"""Field values on the wire: Salesforce date-time text, dates, and type checks.

Date-times are stored as aware UTC `datetime`s truncated to whole seconds (Salesforce
keeps second precision) and rendered as ``2024-05-01T09:30:00.000+0000``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from crmsync.sandbox.salesforce.errors import ApiError, json_parser

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_TYPES = {"double", "currency", "percent", "int"}
_TEXT_TYPES = {
    "string",
    "email",
    "phone",
    "url",
    "textarea",
    "picklist",
    "combobox",
    "id",
    "reference",
}


def parse_datetime(text: str) -> datetime:
    """Parse ISO-8601 as Salesforce accepts it (``Z``, ``+0000``, ``+00:00``)."""
    match = _DATETIME.match(text.strip())
    if match is None:
        raise ValueError(f"not a date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    stamp = f"{year}-{month}-{day}T{hour}:{minute}:{second}"
    if fraction:
        stamp += "." + fraction[:6].ljust(6, "0")
    if zone in (None, "Z"):
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        return datetime.fromisoformat(stamp + zone).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"date-time out of range: {text!r}") from None


def format_datetime(value: datetime) -> str:
    """Salesforce's rendering: millisecond precision and a ``+0000`` offset."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def now_seconds(value: datetime) -> datetime:
    """`value` in UTC with the sub-second part dropped."""
    return value.astimezone(UTC).replace(microsecond=0)


def to_json(value: Any) -> Any:
    """A stored value as it appears in JSON."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def coerce(field_type: str, name: str, value: Any) -> Any:
    """Check and convert a JSON value written to a field of `field_type`."""
    if value is None:
        return None
    if type(value) is str and field_type in _TEXT_TYPES:
        return value  # the common case, first
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _wrong(field_type, name, value)
    if field_type in _NUMBER_TYPES:
        return _number(field_type, name, value)
    if field_type == "datetime":
        try:
            return now_seconds(parse_datetime(str(value)))
        except ValueError:
            raise _wrong(field_type, name, value) from None
    if field_type == "date":
        text = str(value)[:10]
        try:
            if not _DATE.match(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise _wrong(field_type, name, value) from None
    if field_type in _TEXT_TYPES:
        if isinstance(value, (dict, list)):
            raise _wrong(field_type, name, value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)
    return value


def _number(field_type: str, name: str, value: Any) -> float | int:
    if isinstance(value, bool):
        raise _wrong(field_type, name, value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _wrong(field_type, name, value) from None
    if not math.isfinite(number):
        raise _wrong(field_type, name, value)
    if field_type == "int":
        if not number.is_integer():
            raise _wrong(field_type, name, value)
        return int(number)
    return number


def _wrong(field_type: str, name: str, value: Any) -> ApiError:
    kind = {"int": "int", "boolean": "boolean", "datetime": "datetime", "date": "date"}.get(
        field_type, "double" if field_type in _NUMBER_TYPES else "String"
    )
    shown = type(value).__name__.upper()
    return json_parser(
        f"Cannot deserialize instance of {kind} from VALUE_{shown} value {value} "
        f"or request may be missing a required field at [line:1, column:2] ({name})"
    )
