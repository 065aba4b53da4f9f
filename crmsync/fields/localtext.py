"""Numbers and dates as people and CRM exports write them, read by region.

A Salesforce report from a US org writes ``$350,000.00`` and ``6/30/2024``; a French
Excel file writes ``1 250,50 €`` and ``15/03/2024``; a German one ``29.02.2024``. The
region (the job's, the same one that reads national phone numbers) says which way an
ambiguous text goes: in the US ``4/1/2024`` is April 1 and ``1,250`` is 1250; in France
``4/1/2024`` is 4 January and ``1,25`` is 1.25. Each function answers None for a text it
does not recognise, and the caller keeps its own error message.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Final

# Regions that write the month first (everywhere else writes the day first).
MONTH_FIRST: Final = frozenset({"US", "PR", "PH", "FM", "MH", "PW"})
# Regions whose decimal separator is a comma.
DECIMAL_COMMA: Final = frozenset(
    {"AR", "AT", "BE", "BO", "BR", "CL", "CO", "CR", "CZ", "DE", "DK", "EC", "ES", "FI", "FR",
     "GR", "HR", "HU", "ID", "IS", "IT", "LT", "LU", "LV", "NL", "NO", "PL", "PT", "PY", "RO",
     "RS", "RU", "SE", "SI", "SK", "TR", "UA", "UY", "VE", "VN", "ZA"}
)  # fmt: skip

_SYMBOLS: Final = "[$€£¥₹₩₽]"
_CURRENCY: Final = re.compile(
    rf"^(?:R\$|{_SYMBOLS}|[A-Z]{{3}}(?=[\s\d]))\s*|\s*(?:{_SYMBOLS}|[A-Z]{{3}})$"
)
_GROUP_SPACES: Final = re.compile(r"(?<=\d)[\s\u00a0\u202f'\u2019](?=\d{3}(?:\D|$))")
_DOTS_GROUPED: Final = re.compile(r"^-?\d{1,3}(?:\.\d{3})+$")
_COMMAS_GROUPED: Final = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DATE: Final = re.compile(
    r"^(?P<a>\d{1,4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4})"
    r"(?:[ T,]+(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?$"
)
_CENTURY_PIVOT: Final = 70  # a two-digit year below this is 20xx, else 19xx


def parse_number(text: str, region: str) -> Decimal | None:
    """``$350,000.00``, ``USD 1,250,000``, ``1 250,50 €``, ``(1,200.00)`` as a number."""
    body = text.strip()
    negative = body.startswith("(") and body.endswith(")")
    if negative:
        body = body[1:-1].strip()
    body = _CURRENCY.sub("", body).strip()
    body = _GROUP_SPACES.sub("", body).replace("_", "")
    if not body:
        return None
    comma_decimal = region.upper() in DECIMAL_COMMA
    if "," in body and "." in body:
        # the later of the two separates the decimals
        if body.rfind(",") > body.rfind("."):
            body = body.replace(".", "").replace(",", ".")
        else:
            body = body.replace(",", "")
    elif "," in body:
        if comma_decimal or not _COMMAS_GROUPED.match(body):
            if body.count(",") > 1:
                return None
            body = body.replace(",", ".")
        else:
            body = body.replace(",", "")
    elif comma_decimal and _DOTS_GROUPED.match(body):
        body = body.replace(".", "")
    try:
        number = Decimal(body)
    except InvalidOperation:
        return None
    return -number if negative else number


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < _CENTURY_PIVOT else 1900
    return year


def parse_date_time(text: str, region: str) -> tuple[date, time | None] | None:
    """``6/30/2024``, ``15/03/2024 14:23``, ``29.02.2024``, ``3/15/2024 2:23 PM``."""
    found = _DATE.match(text.strip())
    if found is None:
        return None
    a, b, c = found["a"], found["b"], found["c"]
    if len(a) == 4:  # 2024/03/15
        year, month, day = int(a), int(b), int(c)
    elif len(a) > 2 or len(c) == 3:
        return None
    elif found["sep"] == "." or region.upper() not in MONTH_FIRST:
        day, month, year = int(a), int(b), _year(c)
    else:
        month, day, year = int(a), int(b), _year(c)
    try:
        when = date(year, month, day)
    except ValueError:
        return None
    if found["h"] is None:
        return when, None
    hour = int(found["h"])
    ampm = (found["ampm"] or "").lower().replace(".", "")
    if ampm and not 1 <= hour <= 12:
        return None
    if ampm:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        return when, time(hour, int(found["m"]), int(found["s"] or 0))
    except ValueError:
        return None


def parse_datetime(text: str, region: str) -> datetime | None:
    """A date and time written as above (midnight when only the date is there)."""
    parsed = parse_date_time(text, region)
    if parsed is None:
        return None
    day, at = parsed
    return datetime.combine(day, at or time())
