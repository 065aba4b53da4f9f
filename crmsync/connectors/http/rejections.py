"""Why a CRM refused a record, and which field it named, from each CRM's error text.

Whole-call errors carry the field their body names (``errors.error_field``). Per-record
errors of batch answers come as messages, each CRM with its own shape:

- HubSpot embeds the invalid properties as JSON: ``… [{"name":"lifecyclestage",
  "error":"INVALID_OPTION",…}]``, or says ``Property "x" does not exist``;
- Salesforce lists them: ``… (fields: Email, LastName)``;
- Total Expert names an attribute or relationship: ``Missing required attribute(s):
  first_name``, ``Unable to find target for relationship: 'contact'``;
- Pipedrive and others name it in words (``Name must be given.``, ``Invalid email``);
- crmsync's own mapping check says ``email: not an e-mail address``.
"""

from __future__ import annotations

import re
from typing import Any

from crmsync.connectors.errors import ConnectorError

__all__ = ["field_of", "rejection"]

_PATTERNS = (
    re.compile(r'"name"\s*:\s*"([^"]+)"'),  # HubSpot's embedded property list
    re.compile(r'[Pp]roperty\s+"([^"]+)"'),  # HubSpot PROPERTY_DOESNT_EXIST
    re.compile(r"\(fields?:\s*([^,)]+)"),  # Salesforce
    re.compile(
        r"(?:attribute|relationship|field|property|column)(?:\(s\))?s?:?\s+['\"]?([A-Za-z_][\w.]*)",
        re.IGNORECASE,
    ),
    re.compile(r"^Invalid\s+([A-Za-z_][\w.]*)$"),  # Pipedrive
    re.compile(r"^([A-Za-z_][\w.]*) (?:must be given|is required|is missing)"),  # Pipedrive
    re.compile(r"^([A-Za-z_][\w.]*):\s"),  # crmsync's mapping check
)
_NOT_NAMES = frozenset({"is", "was", "the", "a", "an", "of", "for", "value", "values", "must"})


def field_of(error: ConnectorError) -> str | None:
    """The field ``error`` names, or None when it names none."""
    if error.field:
        return error.field
    for pattern in _PATTERNS:
        match = pattern.search(error.message)
        if match and match.group(1).lower() not in _NOT_NAMES:
            name = match.group(1).strip()
            # a sentence's first word is capitalised ("Name must be given."): the field
            # is not, unless the CRM's names are (Salesforce's LastName has no sentence)
            return name[0].lower() + name[1:] if match.start(1) == 0 and name.istitle() else name
    return None


def rejection(error: ConnectorError) -> dict[str, Any]:
    """What a log line or a sync-log entry says of a refused record."""
    return {
        "reason": error.message,
        "code": error.code,
        "status": error.status,
        "field": field_of(error),
    }
