"""What a push goes to (``Target``: one integration's connector, mapping and policies)
and what it comes to (``PushCounts``), shared by every pusher: records
(``sync.outbound``), merges (``sync.merge_effect``) and marketing's timeline and journeys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from crmsync.connectors.base import Connector
from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http.rejections import rejection
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.mapping.model import MappingSet
from crmsync.store.models import SyncJobStatus
from crmsync.sync.jobs import ClaimedJob


@dataclass
class Target:
    """Everything needed to push to one integration."""

    integration_id: uuid.UUID
    workspace_id: uuid.UUID
    connector: Connector
    mapping: MappingSet
    retry: RetryPolicy
    region: str = "US"
    # a record deleted in the CRM is deleted here too (SyncConfig.delete_propagation)
    delete_propagation: bool = False
    # object types read from this CRM: pushes of them read the records first
    pulled: frozenset[str] = frozenset()


@dataclass
class PushCounts:
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, job: ClaimedJob, status: str, error: ConnectorError) -> None:
        if status in (SyncJobStatus.FAILED, SyncJobStatus.DEAD):
            self.failed += 1
            self.errors.append(
                {
                    "record_id": str(job.record_id),
                    "class": error.kind,
                    "message": error.message,
                    **rejection(error),  # the CRM's own reason, and the field it names
                }
            )
