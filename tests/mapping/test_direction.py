"""One vocabulary for which way data flows: field mappings, object settings, sync runs."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

import crmsync
from crmsync.connectors.engagement import RemoteInteraction
from crmsync.fields.table import TABLE, ObjectType
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


def test_no_module_spells_a_direction_as_a_string() -> None:
    """``"inbound"``/``"outbound"`` are written once, in the enums; the rest of the code
    (activities, engagement, automation, connectors, mapping) names them through them."""
    root = Path(crmsync.__file__).parent
    homes = {root / "mapping" / "direction.py", root / "fields" / "enums.py"}
    spelled = sorted(
        f"{path.relative_to(root)}:{lineno}"
        for path in root.rglob("*.py")
        if path not in homes and not {"migrations", "sandbox"} & set(path.parts)
        for lineno in _directions_spelled(path.read_text(encoding="utf-8"))
    )
    assert spelled == []


def _directions_spelled(source: str) -> list[int]:
    tree = ast.parse(source)
    slots = {  # attribute names (``__slots__ = ("outbound", ...)``) are no direction
        id(c)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets)
        for c in ast.walk(node.value)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in ("inbound", "outbound")
        and id(node) not in slots
    ]


def test_the_field_table_types_an_activity_direction_by_its_enum() -> None:
    assert TABLE[ObjectType.ACTIVITIES].by_name["direction"].enum is ActivityDirection
    assert RemoteInteraction("1", "call", datetime.now(UTC)).direction is ActivityDirection.INBOUND
