"""The decision for one property of a record read from a CRM: a three-way comparison of
the CRM's value, the app's value and what the CRM was last known to hold (``Known``).

- The read began before crmsync learnt the known value (its push was acknowledged
  later): it may predate that push, so it decides nothing (``STALE``).
- Both sides hold the same value (normalised): nothing to do (``SAME``).
- The CRM still holds the known value: the CRM did not change it, so an app value that
  differs goes out (``PUSH``); crmsync's own pushed value seen again is never a change.
- The CRM holds a value the app's field held before its current one (``echo_at``): a
  push of crmsync's that landed unacknowledged (the answer was lost, the worker was
  killed) or late, not a CRM write; the current value goes out (``PUSH``). (A CRM user
  who types back exactly an earlier app value is taken for such an echo.)
- Otherwise the CRM changed it. If the app did not change it since (its value is the
  known one), the CRM's value comes in (``TAKE``). If both changed, the policy decides:
  ``last_write_wins`` by the two writes' times (the CRM's per-property time where it
  has one, else the record's modified time; the app's ChangeLog time), ``crm_wins``
  takes, ``app_wins`` pushes unless the app's value is empty, ``manual`` opens a
  ``CONFLICT``.

With nothing known yet (a record linked before field states existed, or matched by
email), the CRM counts as changed and the app as changed when its ChangeLog shows a
write after the Link's last sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from crmsync.integrations.config import ConflictPolicy
from crmsync.mapping.schema import FieldType
from crmsync.sync.fieldstate import Known, norm, same


class Action(StrEnum):
    STALE = "stale"
    SAME = "same"
    PUSH = "push"
    TAKE = "take"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class Sides:
    """One property as the two sides hold it, and when each last wrote it."""

    incoming: Any  # the CRM's wire value
    local: Any  # the app's value, mapped to the wire
    known: Known | None
    crm_at: datetime
    local_at: datetime | None  # the app's last write of the field (ChangeLog)
    read_at: datetime  # when the read began (crmsync's clock)
    last_sync: datetime | None = None  # the Link's; used only when nothing is known
    kind: FieldType | None = None
    pushed: bool = True  # the mapping sends this property to the CRM
    # when the app's field last held the CRM's value before (ChangeLog), if ever
    echo_at: datetime | None = None


def decide(policy: ConflictPolicy, sides: Sides, region: str = "US") -> Action:
    known = sides.known
    if known is not None and sides.read_at < known.known_at:
        return Action.STALE
    if not sides.pushed:  # read-only here: the CRM's value is the value
        changed = known is None or not same(sides.incoming, known.value, sides.kind, region)
        return Action.TAKE if changed else Action.SAME
    if same(sides.incoming, sides.local, sides.kind, region):
        return Action.SAME
    crm_changed = known is None or not same(sides.incoming, known.value, sides.kind, region)
    if not crm_changed:
        return Action.PUSH
    if sides.echo_at is not None and sides.local_at is not None and sides.echo_at < sides.local_at:
        return Action.PUSH
    if known is not None:
        app_changed = not same(sides.local, known.value, sides.kind, region)
    else:
        app_changed = sides.local_at is not None and (
            sides.last_sync is None or sides.local_at > sides.last_sync
        )
    if policy is ConflictPolicy.APP_WINS:
        return Action.TAKE if norm(sides.local, sides.kind, region) is None else Action.PUSH
    if policy is ConflictPolicy.CRM_WINS or not app_changed:
        return Action.TAKE
    if policy is ConflictPolicy.MANUAL:
        return Action.CONFLICT
    # last_write_wins: the later write; a tie goes to the CRM (its clock may be coarser)
    if sides.local_at is None or sides.crm_at >= sides.local_at:
        return Action.TAKE
    return Action.PUSH
