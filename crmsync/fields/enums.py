"""The enums of canonical fields; the field table takes their values from here."""

from __future__ import annotations

from enum import StrEnum


class ContactType(StrEnum):
    BORROWER = "borrower"
    LOAN_OFFICER = "loan_officer"
    REALTOR = "realtor"
    BROKER = "broker"
    PARTNER = "partner"
    CUSTOMER = "customer"


class LeadStatus(StrEnum):
    NEW = "NEW"
    CONTACTED = "CONTACTED"
    QUALIFIED = "QUALIFIED"
    VIEWING_SCHEDULED = "VIEWING_SCHEDULED"
    VIEWED = "VIEWED"
    NEGOTIATING = "NEGOTIATING"
    CONVERTED = "CONVERTED"
    LOST = "LOST"


class ActivityType(StrEnum):
    MESSAGE = "message"
    PUSH_NOTIFICATION = "push_notification"
    EMAIL = "email"
    SMS = "sms"
    CALL = "call"
    TASK = "task"
    MEETING = "meeting"
    JOURNEY_STEP = "journey_step"
    MILESTONE_UPDATE = "milestone_update"
    RATE_ALERT = "rate_alert"
    POS_APPLICATION_SUBMITTED = "pos_application_submitted"


class ActivityDirection(StrEnum):
    """Which way an activity went: from the contact (inbound) or to them (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class PropertyStatus(StrEnum):
    AVAILABLE = "available"
    UNDER_OFFER = "under_offer"
    SOLD = "sold"
    RENTED = "rented"
    WITHDRAWN = "withdrawn"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"
