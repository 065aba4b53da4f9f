"""The per-workspace snapshot follows the store: caught up record by record, rebuilt when
a catch-up cannot be trusted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from crmsync.dedup import service, snapshot
from crmsync.dedup import settings as dedup_settings
from crmsync.records import service as records
from tests.conftest import Tenant

FIRST = ["Ana", "Bruno", "Carla", "Dmitri"]
LAST = ["Lima", "Okafor", "Zhang", "Novak"]


def _add(db: Session, tenant: Tenant, n: int) -> uuid.UUID:
    """A contact; two made with the same ``n`` are one person (same name and email)."""
    made = records.create_record(
        db,
        tenant.id,
        "contacts",
        {"first_name": FIRST[n], "last_name": LAST[n], "email": f"{FIRST[n]}@{LAST[n]}.example"},
        "api",
    )
    db.commit()
    return made.id


def _clusters(db: Session, tenant: Tenant) -> set[tuple[str, ...]]:
    return {tuple(sorted(c.ids)) for c in service.clusters(db, tenant.id)[0]}


def _pair(*ids: uuid.UUID) -> tuple[str, ...]:
    return tuple(sorted(str(i) for i in ids))


def test_changes_are_caught_up_without_a_rebuild(db: Session, tenant: Tenant) -> None:
    a, b = _add(db, tenant, 1), _add(db, tenant, 1)
    first = snapshot.of(db, tenant.id)
    assert service.check(db, tenant.id, b).is_duplicate
    assert _clusters(db, tenant) == {_pair(a, b)}

    c, d = _add(db, tenant, 2), _add(db, tenant, 2)
    result = service.check(db, tenant.id, d)
    assert (result.is_duplicate, result.duplicate_of) == (True, str(c))
    assert snapshot.of(db, tenant.id) is first  # caught up, not rebuilt
    assert _clusters(db, tenant) == {_pair(a, b), _pair(c, d)}

    records.delete_record(db, tenant.id, "contacts", a, "api")
    db.commit()
    assert service.check(db, tenant.id, b).is_duplicate is False
    assert snapshot.of(db, tenant.id) is first and str(a) not in first.records
    assert _clusters(db, tenant) == {_pair(c, d)}

    dedup_settings.save(db, tenant.id, {"exact_email": False})
    db.commit()
    assert snapshot.of(db, tenant.id) is not first  # other settings: rebuilt


def test_a_change_outside_the_margin_forces_a_rebuild(db: Session, tenant: Tenant) -> None:
    _add(db, tenant, 1)
    first = snapshot.of(db, tenant.id)
    late = records.create_record(
        db, tenant.id, "contacts", {"first_name": "Late", "email": "late@example.com"}, "api"
    )
    late.updated_at = datetime.now(UTC) - timedelta(hours=1)  # committed "in the past"
    _add(db, tenant, 3)  # and something newer, so the fingerprint moves
    again = snapshot.of(db, tenant.id)
    assert again is not first and str(late.id) in again.records


def test_a_candidate_not_stored_is_checked_against_the_workspace(
    db: Session, tenant: Tenant
) -> None:
    stored = _add(db, tenant, 2)
    same = {"first_name": "carla", "last_name": "ZHANG", "email": "Carla@Zhang.example"}
    found = service.check_candidate(db, tenant.id, same)
    assert (found.is_duplicate, found.duplicate_of) == (True, str(stored))
    other = service.check_candidate(db, tenant.id, {"first_name": "Carla", "email": "c@o.example"})
    assert other.is_duplicate is False
