"""Which way data flows between crmsync and a CRM.

``Direction`` is the way a field mapping applies and the way a sync run went: outbound
(crmsync -> CRM), inbound (CRM -> crmsync), or both. ``SyncDirection`` is what an
integration syncs of one object type: the same three, or ``none`` (not synced). Which
way an activity went between a person and a contact (a call made or received) is
another thing: ``fields.enums.ActivityDirection``.
"""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    """Which way a field mapping applies, or a sync run went."""

    OUTBOUND = "outbound"  # app -> CRM
    INBOUND = "inbound"  # CRM -> app
    BOTH = "both"

    def includes(self, other: Direction) -> bool:
        return self is Direction.BOTH or self is other


class SyncDirection(StrEnum):
    """Which way an integration syncs one object type: a ``Direction``, or not at all."""

    OUTBOUND = Direction.OUTBOUND.value
    INBOUND = Direction.INBOUND.value
    BOTH = Direction.BOTH.value
    NONE = "none"
