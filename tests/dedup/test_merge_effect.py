"""The CRM side of a merge, through the worker's push, against sandboxes over sockets:
a native merge where the CRM has one, else a delete (delete propagation on), else the
Link is just dropped. And inbound reads of a merged-away record land on the survivor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import RemoteRecord
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.dedup.merge import merge
from crmsync.mapping.defaults import default_mapping
from crmsync.records import service
from crmsync.store.models import Contact, Integration, Link, SyncJob
from crmsync.sync.inbound import apply_remote
from crmsync.sync.jobs import Claim, ClaimedJob
from crmsync.sync.outbound import push
from crmsync.sync.push_target import Target
from crmsync.sync.settle import Settlement
from tests.conftest import Tenant
from tests.connectors.contract.targets import GenericTarget, HubSpotTarget
from tests.connectors.contract.targets import Target as Sandbox


@pytest.fixture(scope="module", params=["hubspot", "generic"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    served = {"hubspot": HubSpotTarget, "generic": GenericTarget}[request.param]()
    yield served
    served.stop()


def _setup(
    db: Session, tenant: Tenant, sandbox: Sandbox, delete_propagation: bool
) -> tuple[Integration, Target, Contact, Contact, list[str]]:
    survivor, duplicate = (
        service.create_record(db, tenant.id, "contacts", {"email": f"p{n}@example.com"}, "api")
        for n in (1, 2)
    )
    integration = Integration(
        workspace_id=tenant.id,
        provider=sandbox.provider,
        name=sandbox.provider,
        config={"objects": {"contacts": "both"}, "delete_propagation": delete_propagation},
    )
    db.add(integration)
    db.flush()
    connector = sandbox.connector()
    made = connector.upsert("contacts", [sandbox.payload(1), sandbox.payload(2)], sandbox.match_key)
    remote_ids = [str(r.remote_id) for r in made]
    for record, remote_id in zip((survivor, duplicate), remote_ids, strict=True):
        db.add(
            Link(
                workspace_id=tenant.id,
                integration_id=integration.id,
                object_type="contacts",
                record_id=record.id,
                remote_id=remote_id,
            )
        )
    db.commit()
    target = Target(
        integration.id,
        tenant.id,
        connector,
        default_mapping(sandbox.provider),
        RetryPolicy(attempts=1),
    )
    return integration, target, survivor, duplicate, remote_ids  # type: ignore[return-value]


def _run_merge_jobs(db: Session, integration: Integration, target: Target) -> list[SyncJob]:
    jobs = list(
        db.scalars(
            select(SyncJob).where(
                SyncJob.integration_id == integration.id, SyncJob.operation == "merge"
            )
        )
    )
    for job in jobs:  # as the claim leaves them
        job.status, job.lease_owner = "running", "w"
    db.commit()
    held = [ClaimedJob(j.id, j.record_id, j.operation, j.attempts, j.enqueued_at) for j in jobs]
    settlement = Settlement("w", integration.id, target.workspace_id, "contacts")
    counts = push(
        db, Claim(integration.id, "contacts", held), target, settlement, datetime.now(UTC)
    )
    settlement.write(db)
    assert counts.succeeded == len(jobs) == 1 and not counts.failed
    for job in jobs:
        db.refresh(job)
    return jobs


@pytest.mark.parametrize("delete_propagation", [True, False])
def test_remote_duplicate_is_merged_deleted_or_unlinked(
    db: Session, tenant: Tenant, sandbox: Sandbox, delete_propagation: bool
) -> None:
    sandbox.reset()
    integration, target, survivor, duplicate, (kept_id, dup_id) = _setup(
        db, tenant, sandbox, delete_propagation
    )
    merge(db, tenant.id, survivor.id, [duplicate.id], "merge")
    db.commit()
    [job] = _run_merge_jobs(db, integration, target)
    assert job.status == "succeeded"

    links = db.execute(
        select(Link.record_id, Link.remote_id).where(Link.integration_id == integration.id)
    ).all()
    assert [(r, x) for r, x in links] == [(survivor.id, kept_id)]
    kept = sandbox.remote(kept_id)
    assert kept is not None
    if sandbox.provider == "hubspot":  # native merge: the duplicate's id answers as the survivor
        assert sandbox.remote(dup_id) == kept
        pushes = db.scalars(
            select(SyncJob).where(
                SyncJob.integration_id == integration.id,
                SyncJob.record_id == survivor.id,
                SyncJob.status == "pending",
            )
        ).all()
        assert [j.operation for j in pushes] == ["upsert"]  # crmsync's values go back
    elif delete_propagation:
        assert sandbox.remote(dup_id) is None
    else:
        assert sandbox.remote(dup_id) is not None  # left alone, no longer linked


def test_inbound_for_a_merged_away_record_lands_on_the_survivor(
    db: Session, tenant: Tenant, sandbox: Sandbox
) -> None:
    sandbox.reset()
    integration, _target, survivor, duplicate, (_kept_id, dup_id) = _setup(
        db, tenant, sandbox, delete_propagation=True
    )
    merge(db, tenant.id, survivor.id, [duplicate.id], "prefer_existing")
    db.commit()
    # before the merge job runs, the CRM changes its copy of the duplicate...
    mapping = default_mapping(sandbox.provider)
    now = datetime.now(UTC)
    changed = RemoteRecord(dup_id, {"city": "Porto"}, modified_at=now)  # both name it city
    applied = apply_remote(db, integration, "contacts", changed, mapping, now)
    db.commit()
    assert (applied.outcome, applied.record_id) == ("updated", survivor.id)
    assert db.get(Contact, survivor.id).city == "Porto"  # type: ignore[union-attr]
    # ...then deletes it: the survivor stays (delete propagation notwithstanding)
    gone = RemoteRecord(dup_id, {}, modified_at=now, archived=True)
    applied = apply_remote(db, integration, "contacts", gone, mapping, now)
    db.commit()
    assert applied.outcome == "unchanged"
    assert db.get(Contact, survivor.id).deleted_at is None  # type: ignore[union-attr]
    assert service.get_record(db, tenant.id, "contacts", duplicate.id).id == survivor.id
