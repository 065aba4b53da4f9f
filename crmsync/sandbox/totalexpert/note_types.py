"""The contact note types Total Expert documents (id -> name)."""

from __future__ import annotations

# Contact note type ids (TE-PM "Contact Notes", Type IDs table).
NOTE_TYPES = dict(
    enumerate(
        (
            "General Note",
            "Task",
            "Email Opened",
            "Email Sent",
            "Prequalification",
            "Message Received",
            "Contacted",
            "Welcome Email Sent",
            "SMS Sent",
            "SMS Received",
            "Email Delivered",
            "Email Unsubscribed",
            "Email Delivery Failure",
            "Email Link Clicked",
            "Print Material Sent",
            "Open House Registration",
            "Event Registration",
            "Contact Assigned",
            "Contact Passed",
            "Contact Shared",
            "Drip Campaign Ended",
            "Spam Complaint",
            "Drip Campaign Added",
            "Contact Accepted",
            "Appointment Scheduled",
            "Transaction Scheduled",
            "Drip Campaign Deleted",
            "Listing Alert Sent",
            "Drip Campaign Email Sent",
            "Connection Invite Sent",
            "Auto Campaign Email Sent",
            "Movement Registration",
            "Auto Campaign Print Order Sent",
            "Task Complete Email Sent",
        ),
        start=1,
    )
)
