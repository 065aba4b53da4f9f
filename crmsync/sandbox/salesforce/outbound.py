"""Outbound messages: the SOAP notification a workflow rule posts to a listener.

Salesforce has no JSON webhooks; its closest push mechanism is an Outbound Message,
a SOAP 1.1 POST of a ``notifications`` element (namespace
``http://soap.sforce.com/2005/09/outbound``) carrying the org id, an action id, the
API URLs and one ``Notification`` per changed record with its fields. The listener
acknowledges with ``<Ack>true</Ack>``; there is no signature.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from crmsync.sandbox.salesforce.values import to_json

NAMESPACE = "http://soap.sforce.com/2005/09/outbound"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
ACK = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    f'<notificationsResponse xmlns="{NAMESPACE}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)


def _value(value: Any) -> str:
    shown = to_json(value)
    if isinstance(shown, bool):
        return "true" if shown else "false"
    return escape(str(shown))


def notification_body(
    org_id: str,
    action_id: str,
    instance_url: str,
    version: str,
    sobject: str,
    notifications: Iterable[tuple[str, dict[str, Any]]],
) -> bytes:
    """The SOAP envelope for (notification id, record) pairs of one object."""
    items = []
    for notification_id, record in notifications:
        fields = "".join(
            f"<sf:{name}>{_value(value)}</sf:{name}>"
            for name, value in record.items()
            if value is not None
        )
        items.append(
            f"<Notification><Id>{notification_id}</Id>"
            f'<sObject xsi:type="sf:{sobject}" '
            f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{fields}</sObject>'
            "</Notification>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        f'<notifications xmlns="{NAMESPACE}">'
        f"<OrganizationId>{org_id}</OrganizationId><ActionId>{action_id}</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{escape(instance_url)}/services/Soap/c/{version}/{org_id}"
        "</EnterpriseUrl>"
        f"<PartnerUrl>{escape(instance_url)}/services/Soap/u/{version}/{org_id}</PartnerUrl>"
        + "".join(items)
        + "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()
