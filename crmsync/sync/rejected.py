"""One log line per record a CRM refused, with the CRM's own reason and the field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from crmsync.store.models import Integration

__all__ = ["log_failures"]

log = structlog.get_logger("crmsync.worker")


def log_failures(
    integration: Integration, object_type: str, errors: Iterable[Mapping[str, Any]]
) -> None:
    """Log each failed record of a push (``PushCounts.errors``)."""
    for entry in errors:
        log.warning(
            "record rejected",
            integration=str(integration.id),
            provider=integration.provider,
            object_type=object_type,
            record_id=entry.get("record_id"),
            error_class=entry.get("class"),
            status=entry.get("status"),
            code=entry.get("code"),
            reason=entry.get("reason", entry.get("message")),
            field=entry.get("field"),
        )
