"""Polling applies every page, deletions included, and keeps the cursor page by page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import (
    Capabilities,
    ChangePage,
    Connector,
    ObjectCapabilities,
    RemoteChange,
    RemoteDeletion,
    RemoteField,
    RemoteRecord,
    UpsertResult,
)
from crmsync.integrations.config import SyncConfig
from crmsync.mapping.defaults import default_mapping
from crmsync.store.models import Contact, Integration, SyncCursor, SyncRun
from crmsync.sync.polling import poll
from tests.conftest import Tenant


class PagedCRM(Connector):
    """Serves fixed pages keyed by cursor; fails on a chosen cursor."""

    provider = "paged"
    capabilities = Capabilities({"contacts": ObjectCapabilities()})

    def __init__(self, pages: dict[str | None, ChangePage], fail_at: str = "never") -> None:
        self.pages = pages
        self.fail_at = fail_at
        self.asked: list[str | None] = []

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        self.asked.append(cursor)
        if cursor == self.fail_at:
            raise RuntimeError("connection reset")
        return self.pages[cursor]

    def upsert(
        self, object_type: str, payloads: Sequence[Mapping[str, Any]], match_key: str | None
    ) -> list[UpsertResult]:
        raise NotImplementedError

    def delete(self, object_type: str, remote_ids: Sequence[str]) -> None:
        raise NotImplementedError

    def describe(self, object_type: str) -> list[RemoteField]:
        return []

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    def parse_webhook(self, body: bytes) -> list[RemoteChange]:
        return []


NOW = datetime.now(UTC)
PAGES = {
    None: ChangePage(
        [
            RemoteRecord("1", {"email": "a@x.com"}, NOW),
            RemoteRecord("2", {"email": "b@x.com"}, NOW),
        ],
        [],
        "c1",
        has_more=True,
    ),
    "c1": ChangePage(
        [RemoteRecord("3", {"email": "c@x.com", "crmsync_contact_type": "wizard"}, NOW)],
        [RemoteDeletion("1", NOW)],
        "c2",
        has_more=False,
    ),
    "c2": ChangePage([RemoteRecord("2", {"email": "b@x.com", "firstname": "Bo"}, NOW)], [], "c3"),
}


def _integration(db: Session, tenant: Tenant) -> Integration:
    integration = Integration(
        workspace_id=tenant.id,
        provider="hubspot",
        name="p",
        config={
            "objects": {"contacts": "both"},
            "delete_propagation": True,
            "conflict_policy": "crm_wins",
        },
    )
    db.add(integration)
    db.commit()
    return integration


def test_poll_pages_until_done_and_resumes_from_the_cursor(tenant: Tenant, db: Session) -> None:
    integration = _integration(db, tenant)
    crm = PagedCRM(PAGES)
    first = poll(db, integration, "contacts", crm, default_mapping("hubspot"))
    assert crm.asked == [None, "c1"]
    assert (first.processed, first.created, first.deleted, first.failed) == (4, 2, 1, 1)
    cursor = db.scalar(select(SyncCursor).where(SyncCursor.integration_id == integration.id))
    assert cursor is not None and cursor.state == {"cursor": "c2"}
    second = poll(db, integration, "contacts", crm, default_mapping("hubspot"))
    assert crm.asked[-1] == "c2" and second.updated == 1
    names = {
        c.email: (c.first_name, c.deleted_at is not None)
        for c in db.scalars(select(Contact).where(Contact.workspace_id == tenant.id))
    }
    assert names == {"a@x.com": (None, True), "b@x.com": ("Bo", False)}
    runs = db.scalars(select(SyncRun).where(SyncRun.integration_id == integration.id)).all()
    assert sorted((r.kind, r.status, r.processed) for r in runs) == [
        ("incremental", "partial", 4),
        ("incremental", "succeeded", 1),
    ]


def test_a_failed_page_keeps_the_pages_before_it(tenant: Tenant, db: Session) -> None:
    integration = _integration(db, tenant)
    crm = PagedCRM(PAGES, fail_at="c1")
    with pytest.raises(RuntimeError):
        poll(db, integration, "contacts", crm, default_mapping("hubspot"))
    db.rollback()
    cursor = db.scalar(select(SyncCursor).where(SyncCursor.integration_id == integration.id))
    assert cursor is not None and cursor.state == {"cursor": "c1"}
    assert db.scalar(
        select(Contact).where(Contact.workspace_id == tenant.id, Contact.email == "b@x.com")
    )


def test_sync_config_rejects_a_bad_frequency() -> None:
    with pytest.raises(ValidationError, match="neither an interval"):
        SyncConfig.model_validate({"frequency": "often"})
