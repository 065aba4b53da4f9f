"""What an integration's mappings need on the CRM side: one field per mapped property.

Pure: from the mapping in effect and the objects the integration syncs. Whether the CRM
already has a field, and how its API creates one, is the provider module's part.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crmsync.mapping.model import MappingSet
from crmsync.mapping.schema import ENUM_VALUES, FieldType, ObjectType, relations_of
from crmsync.mapping.transforms import Transform, TransformKind


@dataclass(frozen=True)
class FieldNeed:
    """A remote property a mapping writes or reads."""

    object_type: str  # canonical object type
    remote_object: str
    name: str  # the remote property (first segment of the mapping's target)
    type: FieldType
    options: tuple[str, ...] = ()
    joined: bool = False  # a list sent as one text value (a ``join`` transform)

    @property
    def label(self) -> str:
        return " ".join(w.capitalize() for w in self.name.removesuffix("__c").split("_") if w)


def field_needs(mapping: MappingSet, objects: Iterable[str]) -> list[FieldNeed]:
    """One need per (remote object, property) of the synced objects, first mapping wins."""
    needs: dict[tuple[str, str], FieldNeed] = {}
    for object_type in objects:
        try:
            key = ObjectType(object_type)
        except ValueError:
            continue  # activities, notes...: no field mapping
        object_mapping = mapping.objects.get(key)
        if object_mapping is None:
            continue
        # a reference travels as the CRM's own relation (an association, a lookup such
        # as AccountId, Pipedrive's person_id): never a property to create
        references = {r.field for r in relations_of(key)}
        for field in object_mapping.fields:
            if field.source in references:
                continue
            name = field.target.split(".", 1)[0]
            kinds = {t.kind for t in field.transforms}
            options: tuple[str, ...] = ()
            if field.type is FieldType.ENUM:
                options = _options(mapping, key, field.source, field.transforms)
            need = FieldNeed(
                object_type,
                object_mapping.remote_object,
                name,
                field.type,
                options,
                joined=TransformKind.JOIN in kinds,
            )
            needs.setdefault((need.remote_object, name), need)
    return list(needs.values())


def _options(
    mapping: MappingSet, key: ObjectType, source: str, transforms: list[Transform]
) -> tuple[str, ...]:
    for transform in transforms:
        if transform.kind is TransformKind.STATUS_MAP:
            values = mapping.status_maps[str(transform.arg)].outbound.values()
            return tuple(dict.fromkeys(str(v) for v in values))
    return tuple(ENUM_VALUES.get((key, source), ()))
