"""Typed models, one module per aggregate. Importing this package registers them all."""

from crmsync.store.models.changelog import ChangeLog
from crmsync.store.models.events import Event
from crmsync.store.models.imports import ImportJob, ImportRow  # noqa: F401  (registers them)
from crmsync.store.models.records import (
    RECORD_MODELS,
    Activity,
    Company,
    Contact,
    Deal,
    Lead,
    Note,
    RecordBase,
    Ticket,
)
from crmsync.store.models.workspace import ApiKey, Workspace

__all__ = [
    "RECORD_MODELS",
    "Activity",
    "ApiKey",
    "ChangeLog",
    "Company",
    "Contact",
    "Deal",
    "Event",
    "Lead",
    "Note",
    "RecordBase",
    "Ticket",
    "Workspace",
]
