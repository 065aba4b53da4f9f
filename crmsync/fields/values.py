"""Parsing a value as the Python type of a canonical field type: text, number, boolean,
date, date-time, list, object. ``ValueError`` says why a value is not one.

Below mapping (which adds e-mail and phone, normalised by ``quality``) and quality (whose
validation rules parse numbers and dates) alike, so both read one parser. Each takes the
value and a region: numbers and dates that are not ISO are read as that region writes
them (``localtext``: "$350,000.00" and "6/30/2024" in the US, "1 250,50 €" and
"15/03/2024" in France).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crmsync.fields import localtext

__all__ = [
    "parse_boolean",
    "parse_date",
    "parse_datetime",
    "parse_list",
    "parse_number",
    "parse_object",
    "parse_text",
]

_TRUE = frozenset({"true", "yes", "y", "1", "on", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "f"})
# Epoch timestamps (HubSpot sends milliseconds) are told apart from years by length.
_EPOCH_MS_DIGITS = 11


def parse_text(value: Any, _region: str = "US") -> str:
    if value.__class__ is str:  # the usual case: str(value) would give it back
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return str(value)


def parse_number(value: Any, region: str = "US") -> int | float:
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
        exact = localtext.parse_number(text.removesuffix("%").rstrip() if percent else text, region)
        if exact is None:
            raise ValueError("not a number")
        number = float(exact / 100 if percent else exact)
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def parse_boolean(value: Any, _region: str = "US") -> bool:
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


def parse_datetime(value: Any, region: str = "US") -> datetime:
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
        parsed = localtext.parse_datetime(str(value), region)
        if parsed is None:
            raise ValueError("not a date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_date(value: Any, region: str = "US") -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        # "6/30/2024" (US), "15/03/2024", "29.02.2024": day or month first by region
        local = localtext.parse_date_time(value, region)
        if local is not None:
            return local[0]
    if isinstance(value, str) and len(value.strip()) == len("2024-01-31"):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("not a date") from None
    try:
        return parse_datetime(value, region).date()
    except ValueError:
        raise ValueError("not a date") from None


def parse_list(value: Any, _region: str = "US") -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    raise ValueError(f"expected a list, got {type(value).__name__}")


def parse_object(value: Any, _region: str = "US") -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return value
