"""Outbound messages: Salesforce's SOAP push notifications, parsed into changes.

An outbound message carries no signature or shared secret: the connector accepts one
only when its ``OrganizationId`` is the integration's org (``org_id``, which setup reads
from the org), and refuses every delivery while no org id is known. That names the org,
not the sender; a client certificate or an IP allow-list in front of crmsync proves more.
Polling stays the safety net for messages Salesforce drops after 24 hours.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXml

from crmsync.connectors.base import ChangeKind, RemoteChange
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.salesforce.mappers import SOBJECTS, parse_datetime

__all__ = ["ACK", "MAX_BYTES", "NAMESPACE", "organization_id", "parse"]

MAX_BYTES = 4 * 1024 * 1024  # 100 notifications of a wide object stay well below this

NAMESPACE = "http://soap.sforce.com/2005/09/outbound"
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"
_OBJECT_TYPES = {sobject: name for name, sobject in SOBJECTS.items()}

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    f'<notificationsResponse xmlns="{NAMESPACE}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)
"""The answer a listener sends so Salesforce stops retrying the delivery."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fields(sobject: Element) -> dict[str, Any]:
    return {_local(child.tag): child.text for child in sobject}


def _change(notification: Element) -> RemoteChange | None:
    event_id = notification.findtext(f"{{{NAMESPACE}}}Id")
    sobject = notification.find(f"{{{NAMESPACE}}}sObject")
    if sobject is None:
        return None
    declared = sobject.get(_XSI, "").rsplit(":", 1)[-1]
    object_type = _OBJECT_TYPES.get(declared)
    values = _fields(sobject)
    remote_id = values.pop("Id", None)
    if object_type is None or not remote_id:
        return None
    created: datetime | None = parse_datetime(values.get("CreatedDate"))
    modified = parse_datetime(values.get("LastModifiedDate"))
    kind = ChangeKind.CREATED if created is not None and created == modified else ChangeKind.UPDATED
    return RemoteChange(
        object_type=object_type,
        remote_id=str(remote_id),
        kind=kind,
        event_id=event_id,
        occurred_at=parse_datetime(values.get("SystemModstamp")) or modified,
        properties=values,
    )


def _root(body: bytes) -> Element:
    if len(body) > MAX_BYTES:
        raise InvalidRecord(f"outbound message over {MAX_BYTES} bytes")
    try:
        root: Element = SafeXml.fromstring(body, forbid_dtd=True)
    except (SafeXml.ParseError, ValueError) as exc:
        raise InvalidRecord(f"not an outbound message ({type(exc).__name__})") from None
    return root


def organization_id(body: bytes) -> str | None:
    """The ``OrganizationId`` of an outbound message (None when it has none)."""
    try:
        found = _root(body).findtext(f".//{{{NAMESPACE}}}OrganizationId")
    except InvalidRecord:
        return None
    return found.strip() if found else None


def same_org(given: str | None, expected: str) -> bool:
    """Org ids match in their 15- or 18-character forms (the first 15 are the id)."""
    if not given or len(expected) < 15:
        return False
    return hmac.compare_digest(given[:15].encode(), expected[:15].encode())


def parse(body: bytes) -> list[RemoteChange]:
    """The changes of one outbound message (objects the connector does not sync skipped)."""
    root = _root(body)
    notifications = root.iter(f"{{{NAMESPACE}}}Notification")
    return [c for c in (_change(n) for n in notifications) if c is not None]
