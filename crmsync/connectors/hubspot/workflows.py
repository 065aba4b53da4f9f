"""HubSpot workflows as journeys: the automation API's calls and pure mappers.

Contact-based workflows are listed by ``GET /automation/v3/workflows`` (steps come from
each workflow's actions); a contact is enrolled by email with ``POST
/automation/v2/workflows/{id}/enrollments/contacts/{email}`` and taken out with the same
path and ``DELETE``. Both answer 204 and are safe to repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from crmsync.connectors.base import Journey
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.http import ConnectorHttp
from crmsync.connectors.journeys import EnrollTarget

__all__ = ["HubSpotWorkflows", "to_journey"]

_MINUTE_MS = 60_000


def to_journey(raw: Mapping[str, Any]) -> Journey:
    """A workflow (with its actions, when read one by one) as a ``Journey``."""
    steps: list[dict[str, Any]] = []
    delay = 0
    for action in raw.get("actions") or []:
        if action.get("type") == "DELAY":
            delay += int(action.get("delayMillis") or 0) // _MINUTE_MS
            continue
        steps.append(
            {
                "name": str(action.get("emailName") or action.get("type") or "step"),
                "template": action.get("emailContentId"),
                "delay_minutes": delay,
            }
        )
        delay = 0
    return Journey(
        remote_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        active=bool(raw.get("enabled")),
        category="workflow",
        trigger=str(raw.get("type") or "") or None,
        description=raw.get("description"),
        steps=tuple(steps),
    )


def _email(contact: EnrollTarget) -> str:
    if not contact.email:
        raise InvalidRecord("HubSpot enrols contacts by email; this contact has none")
    return quote(contact.email.strip().lower(), safe="@")


class HubSpotWorkflows:
    """The workflow calls of one portal."""

    def __init__(self, http: ConnectorHttp) -> None:
        self.http = http

    def journeys(self) -> list[Journey]:
        listed = self.http.get("/automation/v3/workflows").json().get("workflows") or []
        return [
            to_journey(self.http.get(f"/automation/v3/workflows/{w['id']}").json()) for w in listed
        ]

    def enroll(self, journey_id: str, contact: EnrollTarget) -> str:
        email = _email(contact)
        path = f"/automation/v2/workflows/{journey_id}/enrollments/contacts/{email}"
        self.http.post(path, idempotent=True)  # enrolling twice is one enrolment
        return f"{journey_id}:{email}"

    def unenroll(self, journey_id: str, contact: EnrollTarget) -> None:
        email = _email(contact)
        self.http.delete(f"/automation/v2/workflows/{journey_id}/enrollments/contacts/{email}")
