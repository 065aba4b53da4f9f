"""TEMPORARY: replaced by the quality-mapping branch's normalize module."""

from __future__ import annotations

import phonenumbers


def normalize_email(value: str | None) -> str | None:
    if not value or "@" not in value:
        return None
    return value.strip().lower()


def normalize_phone(value: str | None, region: str = "US") -> str | None:
    if not value:
        return None
    try:
        n = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(n):
        return None
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
