"""Detection of the value type of a column from a few sample values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from crmsync.mapping.schema import FieldType
from crmsync.quality.normalize import normalize_email, normalize_phone

_DATE_RE: Final = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
)
_NUMBER_RE: Final = re.compile(r"[-+]?[$€£]?\s?\d[\d,]*(\.\d+)?%?")
_BOOLEAN: Final = frozenset({"true", "false", "yes", "no", "y", "n"})
_MIN_PHONE_DIGITS: Final = 7
# Share of non-empty samples that must agree before a column gets a type.
AGREEMENT: Final = 0.8


def _value_type(value: str, region: str) -> FieldType | None:
    if "@" in value and normalize_email(value) is not None:
        return FieldType.EMAIL
    if _DATE_RE.fullmatch(value):
        return FieldType.DATE
    digits = sum(ch.isdigit() for ch in value)
    plain = _plain_number(value)
    if digits >= _MIN_PHONE_DIGITS and not plain and normalize_phone(value, region) is not None:
        return FieldType.PHONE
    if _NUMBER_RE.fullmatch(value):
        return FieldType.NUMBER
    if value.lower() in _BOOLEAN:
        return FieldType.BOOLEAN
    return None


def _plain_number(value: str) -> bool:
    # 250000 or 1,500,000.00 is an amount; phones have separators or a leading +/0
    return bool(re.fullmatch(r"[1-9]\d{0,2}(,\d{3})*(\.\d+)?|[1-9]\d*(\.\d+)?", value))


def detect_type(values: Iterable[Any], region: str = "US") -> FieldType | None:
    """The type most samples share (e-mail, phone, date, number, boolean), else None."""
    seen = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not seen:
        return None
    counts: dict[FieldType, int] = {}
    for value in seen:
        kind = _value_type(value, region)
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        return None
    kind, count = max(counts.items(), key=lambda item: item[1])
    return kind if count >= AGREEMENT * len(seen) else None
