"""Re-encrypt every stored credential under the vault's current key, with no downtime.

Run it after deploying the new key as ``CRMSYNC_SECRET_KEY`` and the old one in
``CRMSYNC_PREVIOUS_SECRET_KEYS``: readers decrypt both meanwhile. Rows are rewritten in
small committed batches, each with a compare-and-set on the old ciphertext, so a row
changed concurrently (a token refresh writes under the current key anyway) is left as
it is rather than overwritten with stale credentials.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crmsync.integrations.vault import Vault, VaultError
from crmsync.store.models import Integration

__all__ = ["RotationReport", "rotate_all"]

_COLUMNS = ("credentials", "webhook_secret")


@dataclass
class RotationReport:
    """Counts of sealed values: re-encrypted, already current, changed meanwhile, unreadable."""

    rotated: int = 0
    current: int = 0
    changed: int = 0
    failed: int = 0


def _rotate_row(session: Session, vault: Vault, row: Integration, report: RotationReport) -> None:
    for column in _COLUMNS:
        stored: bytes | None = getattr(row, column)
        if not stored:
            continue
        token = stored.decode()
        if not vault.needs_rotation(token):
            report.current += 1
            continue
        try:
            fresh = vault.rotate(token, workspace_id=row.workspace_id, integration_id=row.id)
        except VaultError:
            report.failed += 1
            continue
        attribute = getattr(Integration, column)
        done = session.execute(
            update(Integration)
            .where(Integration.id == row.id, attribute == stored)
            .values({column: fresh.encode()})
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            report.rotated += 1
        else:
            report.changed += 1


def rotate_all(
    sessions: sessionmaker[Session],
    vault: Vault,
    *,
    workspace_id: uuid.UUID | None = None,
    batch: int = 100,
) -> RotationReport:
    """Re-encrypt integrations' credentials and webhook secrets; commits per batch."""
    report = RotationReport()
    last: uuid.UUID | None = None
    while True:
        with sessions() as session:
            query = select(Integration).order_by(Integration.id).limit(batch)
            if workspace_id is not None:
                query = query.where(Integration.workspace_id == workspace_id)
            if last is not None:
                query = query.where(Integration.id > last)
            rows = list(session.scalars(query))
            if not rows:
                return report
            for row in rows:
                _rotate_row(session, vault, row, report)
            session.commit()
            last = rows[-1].id
