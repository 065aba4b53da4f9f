"""Outbound messages: Salesforce's SOAP push notifications, parsed into changes.

An outbound message carries no signature or shared secret, so nothing in a delivery
proves it came from Salesforce: the connector's ``verify_webhook`` refuses every
delivery and the sync engine relies on polling. ``parse`` is here for listeners that
are protected by other means (a client certificate or an IP allow-list in front of
crmsync), and for replaying stored deliveries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXml

from crmsync.connectors.base import ChangeKind, RemoteChange
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.salesforce.mappers import SOBJECTS, parse_datetime

__all__ = ["ACK", "NAMESPACE", "parse"]

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


def parse(body: bytes) -> list[RemoteChange]:
    """The changes of one outbound message (objects the connector does not sync skipped)."""
    try:
        root = SafeXml.fromstring(body)
    except (SafeXml.ParseError, ValueError) as exc:
        raise InvalidRecord(f"not an outbound message ({type(exc).__name__})") from None
    notifications = root.iter(f"{{{NAMESPACE}}}Notification")
    return [c for c in (_change(n) for n in notifications) if c is not None]
