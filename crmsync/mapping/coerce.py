"""Coercion of values to a canonical field type, and of canonical values to JSON."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crmsync.mapping.localtext import parse_date_time, parse_datetime, parse_number
from crmsync.mapping.schema import FieldType
from crmsync.quality.normalize import normalize_email, normalize_phone

_TRUE = frozenset({"true", "yes", "y", "1", "on", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "f"})
# Epoch timestamps (HubSpot sends milliseconds) are told apart from years by length.
_EPOCH_MS_DIGITS = 11


def _string(value: Any, _region: str) -> str:
    if value.__class__ is str:  # the usual case: str(value) would give it back
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return str(value)


def _email(value: Any, _region: str) -> str:
    email = normalize_email(_string(value, _region))
    if email is None:
        raise ValueError("not an e-mail address")
    return email


def _phone(value: Any, region: str) -> str:
    phone = normalize_phone(_string(value, region), region)
    if phone is None:
        raise ValueError("not a valid phone number")
    return phone


def _number(value: Any, region: str) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        percent = text.endswith("%")  # "45%" is the share 0.45
        # "$350,000.00", "1 250,50 €": currency and grouping as the region writes them
        exact = parse_number(text.removesuffix("%").rstrip() if percent else text, region)
        if exact is None:
            raise ValueError("not a number")
        number = float(exact / 100 if percent else exact)
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _boolean(value: Any, _region: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a boolean")


def _epoch(value: Any) -> datetime | None:
    text = str(value).strip()
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if text.isdigit() and len(text) >= _EPOCH_MS_DIGITS:
        try:
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("timestamp out of range") from None
    return None


def _datetime(value: Any, region: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"expected a date-time, got {type(value).__name__}")
    parsed = _epoch(value)
    if parsed is not None:
        return parsed
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        # "3/15/2024 2:23 PM" as a US Salesforce report writes it
        parsed = parse_datetime(str(value), region)
        if parsed is None:
            raise ValueError("not a date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(value: Any, region: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        # "6/30/2024" (US), "15/03/2024", "29.02.2024": day or month first by region
        local = parse_date_time(value, region)
        if local is not None:
            return local[0]
    if isinstance(value, str) and len(value.strip()) == len("2024-01-31"):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("not a date") from None
    try:
        return _datetime(value, region).date()
    except ValueError:
        raise ValueError("not a date") from None


def _list(value: Any, _region: str) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    raise ValueError(f"expected a list, got {type(value).__name__}")


def _object(value: Any, _region: str) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return value


_COERCERS: dict[FieldType, Callable[[Any, str], Any]] = {
    FieldType.STRING: _string,
    FieldType.EMAIL: _email,
    FieldType.PHONE: _phone,
    FieldType.NUMBER: _number,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.ENUM: _string,
    FieldType.LIST: _list,
    FieldType.OBJECT: _object,
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
