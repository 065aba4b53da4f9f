"""SOQL text: quoted literals and the two queries the connector runs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.salesforce.mappers import format_datetime

__all__ = ["changed_since", "matching", "name", "quote"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")


def name(text: str) -> str:
    """An object or field name, refused unless it is a plain API name (no SOQL in it)."""
    if not _NAME.fullmatch(text):
        raise ConfigError(f"not a Salesforce API name: {text[:80]!r}")
    return text


def quote(value: object) -> str:
    """A SOQL string literal; backslash and quote are escaped as SOQL requires."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return f"'{text}'"


def _select(fields: Iterable[str]) -> str:
    seen: dict[str, str] = {}
    for field in fields:
        seen.setdefault(field.lower(), name(field))
    return ", ".join(seen.values())


def changed_since(
    sobject: str, fields: Sequence[str], modified_field: str, since: datetime | None
) -> str:
    """Every row (run through ``queryAll``, deleted ones too) modified at or after ``since``.

    Ordered by the modified stamp, then Id, so paging and the cursor's watermark agree.
    """
    columns = _select(["Id", "IsDeleted", modified_field, *fields])
    stamp = name(modified_field)
    where = f" WHERE {stamp} >= {format_datetime(since)}" if since else ""
    # every name passed name() and the date-time is formatted here: nothing is injected
    return f"SELECT {columns} FROM {name(sobject)}{where} ORDER BY {stamp} ASC, Id ASC"  # noqa: S608


def matching(sobject: str, field: str, values: Iterable[object]) -> str:
    """Live rows whose ``field`` is one of ``values``, oldest first."""
    literals = ", ".join(quote(v) for v in values)
    key, table = name(field), name(sobject)
    # names passed name() and values are quoted literals: nothing is injected
    where = f"WHERE {key} IN ({literals})"
    return f"SELECT Id, {key} FROM {table} {where} ORDER BY CreatedDate ASC, Id ASC"  # noqa: S608


def active_user_by_email(email: str) -> str:
    """The id of the active user with an email (owners are users in Salesforce)."""
    # the value is a quoted literal: nothing is injected
    where = f"WHERE Email = {quote(email)} AND IsActive = true"
    return f"SELECT Id FROM User {where} LIMIT 1"  # noqa: S608
