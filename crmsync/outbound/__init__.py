"""The outbound-event outbox: what happened in crmsync, written in the change's transaction.

``emit`` adds one row; ``from_changelog``, ``sync_failures`` and ``import_failed`` are
the hooks the record, sync and import layers call. Publishers (the event bus, outbound
webhooks) read the rows in id order, which is each record's change order.
"""

from crmsync.outbound.emit import (
    CHANGED_FROM_CRM,
    DEAL_STAGE_CHANGED,
    IMPORT_FAILED,
    SYNC_FAILED,
    emit,
    from_changelog,
    import_failed,
    sync_failures,
)

__all__ = [
    "CHANGED_FROM_CRM",
    "DEAL_STAGE_CHANGED",
    "IMPORT_FAILED",
    "SYNC_FAILED",
    "emit",
    "from_changelog",
    "import_failed",
    "sync_failures",
]
