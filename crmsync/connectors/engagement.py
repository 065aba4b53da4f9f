"""The engagement extra: CRMs that report how a contact engaged with what the CRM sent
(an e-mail opened or clicked, a text replied to), in canonical activity terms.

``interactions`` answers the contact's reported interactions, each with the CRM's own
id (so a second read adds nothing twice), a canonical activity type and direction, and
when it happened. Interactions the CRM logs about its own doings (notes added, journey
enrolments) are not engagement and are left out by the connector.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from crmsync.fields.enums import ActivityDirection

__all__ = ["EngagementConnector", "RemoteInteraction"]


@dataclass(frozen=True, slots=True)
class RemoteInteraction:
    remote_id: str
    type: str  # a canonical activity type: email, sms, call…
    occurred_at: datetime
    direction: ActivityDirection = ActivityDirection.INBOUND
    subject: str = ""


@runtime_checkable
class EngagementConnector(Protocol):
    def interactions(self, remote_contact_id: str) -> list[RemoteInteraction]: ...
