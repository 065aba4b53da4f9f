"""The enrolment extra: CRMs whose journeys (Total Expert), workflows (HubSpot) or
campaigns (Salesforce) a contact can be put into and taken out of through the API.

A loan officer sees one idea under three names; above this protocol it is a journey.
Enrolling twice is one enrolment (the CRM answers ``duplicate``, or the call is a PUT);
unenrolling a contact that is not enrolled is not an error. A refused enrolment (an
inactive journey, an unknown contact) is ``InvalidRecord``; whole-call failures raise
the usual classes of ``connectors.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from crmsync.connectors.base import Journey

__all__ = ["EnrollTarget", "EnrollmentConnector"]


@dataclass(frozen=True, slots=True)
class EnrollTarget:
    """The contact to enrol: its remote id (when linked) and its email (HubSpot's
    enrolment API names contacts by email)."""

    remote_id: str | None
    email: str | None = None


@runtime_checkable
class EnrollmentConnector(Protocol):
    """Connectors that list journeys and enrol contacts in them."""

    def journeys(self) -> list[Journey]: ...

    def enroll(self, journey_id: str, contact: EnrollTarget) -> str:
        """Enrol the contact; the remote enrolment's id."""
        ...

    def unenroll(self, journey_id: str, contact: EnrollTarget) -> None: ...
