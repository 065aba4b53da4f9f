"""One vocabulary for which way data flows: field mappings, object settings, sync runs."""

from __future__ import annotations

from fastapi import FastAPI

from crmsync.mapping.direction import Direction, SyncDirection
from crmsync.records.schemas import ActivityDirection


def test_an_object_syncs_one_of_the_mapping_directions_or_none() -> None:
    assert [d.value for d in SyncDirection] == [*(d.value for d in Direction), "none"]


def test_both_includes_each_way_and_each_way_only_itself() -> None:
    assert Direction.BOTH.includes(Direction.INBOUND)
    assert Direction.BOTH.includes(Direction.OUTBOUND)
    assert not Direction.INBOUND.includes(Direction.OUTBOUND)
    assert Direction.OUTBOUND.includes(Direction.OUTBOUND)


def test_the_api_names_each_direction_once(app: FastAPI) -> None:
    names = set(app.openapi()["components"]["schemas"])
    assert {"ActivityDirection", "Direction", "SyncDirection"} <= names
    assert not [n for n in names if n.startswith("crmsync__")]  # no module-qualified twins
    assert [d.value for d in ActivityDirection] == ["inbound", "outbound"]
