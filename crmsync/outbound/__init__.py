"""The outbound-event outbox: what happened in crmsync, written in the change's transaction.

``emit`` adds one row; ``from_changelog`` and ``sync_failures`` are the hooks the record
and sync layers call. Publishers (the event bus now, outbound webhooks later) read the
rows in id order, which is each record's change order.
"""

from crmsync.outbound.emit import (
    CHANGED_FROM_CRM,
    DEAL_STAGE_CHANGED,
    SYNC_FAILED,
    emit,
    from_changelog,
    sync_failures,
)

__all__ = [
    "CHANGED_FROM_CRM",
    "DEAL_STAGE_CHANGED",
    "SYNC_FAILED",
    "emit",
    "from_changelog",
    "sync_failures",
]
