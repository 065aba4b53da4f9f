"""Pure translations between Salesforce's JSON and the connector contract's values."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from crmsync.connectors.base import (
    Payload,
    RemoteDeletion,
    RemoteField,
    RemoteRecord,
    UpsertResult,
)
from crmsync.connectors.errors import ConnectorError, InvalidRecord, NotFound

__all__ = [
    "SOBJECTS",
    "ApiUsage",
    "format_datetime",
    "parse_datetime",
    "parse_limit_info",
    "save_result",
    "titled_note",
    "to_deletion",
    "to_remote_field",
    "to_remote_record",
    "to_sf_value",
    "with_type",
]

# the contract's object types and the sObjects behind them
SOBJECTS: Mapping[str, str] = {
    "contacts": "Contact",
    "leads": "Lead",
    "companies": "Account",
    "deals": "Opportunity",
    "activities": "Task",
    # the classic Note: one row per note, on one record (ParentId); ContentNote would
    # need a base64 upload and a ContentDocumentLink per record
    "notes": "Note",
    # a custom object the org's admin defines for real-estate listings (Name, Price__c,
    # Currency__c, City__c, Locality__c, Status__c); a lead points at one by Property__c
    "properties": "Property__c",
}

_FIELD_TYPES: Mapping[str, str] = {
    "boolean": "boolean",
    "int": "number",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "date": "date",
    "datetime": "datetime",
    "picklist": "enumeration",
    "multipicklist": "enumeration",
    "reference": "reference",
    "id": "string",
}

# per-record error codes that mean "this record is gone", not "this record is wrong"
_GONE = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"})
_MAX_MESSAGE = 300
_SYSTEM = frozenset({"attributes", "Id", "IsDeleted"})


def parse_datetime(value: object) -> datetime | None:
    """``2026-01-05T09:00:00.000+0000`` (or ISO 8601) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    # Salesforce writes offsets without a colon; fromisoformat wants one
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_datetime(value: datetime) -> str:
    """A SOQL date-time literal (UTC, whole seconds; SOQL literals are not quoted)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_sf_value(value: Any) -> Any:
    """A payload value as Salesforce's JSON expects it."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple | set | frozenset):
        # multi-select picklists are one ;-separated string
        return ";".join(str(v) for v in value)
    return value


def with_type(
    sobject: str, payload: Mapping[str, Any], *, drop: Sequence[str] = ()
) -> dict[str, Any]:
    """A collections record: ``attributes.type`` plus the payload's values."""
    skipped = {d.lower() for d in drop}
    record: dict[str, Any] = {"attributes": {"type": sobject}}
    for name, value in payload.items():
        if name.lower() not in skipped:
            record[name] = to_sf_value(value)
    return record


def to_remote_field(field: Mapping[str, Any]) -> RemoteField:
    """One entry of ``fields`` of a describe."""
    sf_type = str(field.get("type", "string"))
    createable = bool(field.get("createable"))
    updateable = bool(field.get("updateable"))
    required = (
        createable and not field.get("nillable", True) and not field.get("defaultedOnCreate", False)
    )
    options = tuple(
        str(v["value"])
        for v in field.get("picklistValues") or []
        if v.get("active", True) and v.get("value") is not None
    )
    return RemoteField(
        name=str(field["name"]),
        label=str(field.get("label") or field["name"]),
        type=_FIELD_TYPES.get(sf_type, "string"),
        required=required,
        custom=bool(field.get("custom")),
        read_only=not createable and not updateable,
        unique=bool(field.get("unique")) or (sf_type == "id"),
        options=options,
    )


def to_remote_record(row: Mapping[str, Any], modified_field: str) -> RemoteRecord:
    """A SOQL row as a flat record (``attributes``, ``Id`` and ``IsDeleted`` kept apart)."""
    properties = {k: v for k, v in row.items() if k not in _SYSTEM}
    return RemoteRecord(
        remote_id=str(row["Id"]),
        properties=properties,
        modified_at=parse_datetime(row.get(modified_field)),
        archived=bool(row.get("IsDeleted")),
    )


def to_deletion(row: Mapping[str, Any], modified_field: str) -> RemoteDeletion:
    """A ``queryAll`` row with ``IsDeleted = true``."""
    return RemoteDeletion(str(row["Id"]), parse_datetime(row.get(modified_field)))


def _error_of(errors: Sequence[Mapping[str, Any]]) -> ConnectorError:
    first = errors[0] if errors else {}
    code = str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN")
    message = str(first.get("message") or "refused by Salesforce")
    fields = first.get("fields") or []
    if fields:
        message = f"{message} (fields: {', '.join(str(f) for f in fields)})"
    cls = NotFound if code in _GONE else InvalidRecord
    return cls(message[:_MAX_MESSAGE], code=code)


def save_result(result: Mapping[str, Any], *, created: bool | None) -> UpsertResult:
    """One SaveResult of a collections call; ``created`` overrides the answer's flag."""
    if not result.get("success"):
        return UpsertResult.failed(_error_of(result.get("errors") or []))
    remote_id = str(result["id"])
    made = result.get("created") if created is None else created
    return UpsertResult.created(remote_id) if made else UpsertResult.updated(remote_id)


class ApiUsage(NamedTuple):
    """``Sforce-Limit-Info: api-usage=used/allocation`` of the org's rolling 24 hours."""

    used: int
    allocation: int

    @property
    def remaining(self) -> int:
        """Requests left in the allocation."""
        return max(0, self.allocation - self.used)


_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """The org's API usage from a ``Sforce-Limit-Info`` header, if it has one."""
    found = _USAGE.search(header or "")
    return ApiUsage(int(found[1]), int(found[2])) if found else None


NOTE_TITLE = 80  # Note.Title's length


def titled_note(payload: Payload) -> Payload:
    """A new Note needs a Title: the first line of its Body when the mapping gives none."""
    if payload.get("Title") or payload.get("Id") or payload.get("id"):
        return payload
    first = str(payload.get("Body") or "").strip().splitlines()
    return {**payload, "Title": (first[0] if first else "Note")[:NOTE_TITLE]}
