"""Field mappings as typed, storage-agnostic data.

A ``MappingSet`` holds, for one provider or integration, one ``ObjectMapping`` per
object type and the named ``StatusMap``s its fields refer to. ``source`` is always the
canonical side (crmsync's record) and ``target`` the remote side (the CRM's flat record);
outbound maps source -> target, inbound target -> source.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crmsync.mapping.direction import Direction
from crmsync.mapping.schema import FieldType, ObjectType, field_type
from crmsync.mapping.statusmap import StatusMap
from crmsync.mapping.transforms import Transform, TransformKind


class FieldMapping(BaseModel):
    """One canonical field <-> one remote property, with its type and transforms."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, description="canonical dotted path")
    target: str = Field(min_length=1, description="remote dotted path")
    type: FieldType = FieldType.STRING
    required: bool = Field(default=False, description="the remote side needs it (outbound)")
    default: Any = None
    transforms: list[Transform] = Field(default_factory=list)
    direction: Direction = Direction.BOTH


class ObjectMapping(BaseModel):
    """All field mappings of one object type, and the remote object they go to."""

    model_config = ConfigDict(extra="forbid")

    remote_object: str = Field(min_length=1)
    fields: list[FieldMapping]

    def for_direction(self, direction: Direction) -> list[FieldMapping]:
        return [f for f in self.fields if f.direction.includes(direction)]


class MappingSet(BaseModel):
    """A provider's (or integration's) mappings for every object type it syncs."""

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1)
    version: int = 1
    objects: dict[ObjectType, ObjectMapping]
    status_maps: dict[str, StatusMap] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> MappingSet:
        for object_type, mapping in self.objects.items():
            for index, field in enumerate(mapping.fields):
                loc = ("objects", object_type.value, "fields", index)
                if field_type(object_type, field.source) is None:
                    raise ReferenceProblem(
                        f"unknown canonical field {field.source!r} for {object_type}",
                        (*loc, "source"),
                    )
                for transform in field.transforms:
                    name = transform.arg
                    if transform.kind is TransformKind.STATUS_MAP and name not in self.status_maps:
                        raise ReferenceProblem(
                            f"no status map named {name!r}", (*loc, "transforms")
                        )
            for direction in (Direction.OUTBOUND, Direction.INBOUND):
                written: set[str] = set()
                for index, field in enumerate(mapping.fields):
                    if not field.direction.includes(direction):
                        continue
                    key = field.target if direction is Direction.OUTBOUND else field.source
                    if key in written:
                        raise ReferenceProblem(
                            f"{key!r} is written twice in the {direction} direction",
                            ("objects", object_type.value, "fields", index),
                        )
                    written.add(key)
        return self


class ReferenceProblem(ValueError):
    """A mapping that refers to something missing; ``loc`` is where, for file errors."""

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc
