"""Field paths in SOQL: a field of the queried object, or of a parent reached through
a lookup (``Account.Name`` on Contact), resolved against the schema and read from the
store; and the rendering of selected columns into a query result record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.schema import Field, SObjectType
from crmsync.sandbox.salesforce.soql import FieldRef, pointer
from crmsync.sandbox.salesforce.store import OrgStore, Record
from crmsync.sandbox.salesforce.values import to_json

_NO_COLUMN = (
    "No such column '{name}' on entity '{entity}'. If you are attempting to use a custom "
    "field, be sure to append the '__c' after the custom field name. Please reference "
    "your WSDL or the describe call for the appropriate names."
)
_NO_RELATIONSHIP = (
    "Didn't understand relationship '{name}' in field path. If you are attempting to use "
    "a custom relationship, be sure to append the '__r' after the custom relationship "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)


@dataclass(frozen=True)
class Column:
    """A resolved field path. `via` is the lookup field when the path has a parent."""

    field: Field
    via: Field | None = None
    parent: SObjectType | None = None

    @property
    def name(self) -> str:
        """The canonical path, e.g. ``Account.Name``."""
        if self.via is None:
            return self.field.name
        return f"{relationship_name(self.via)}.{self.field.name}"

    def value(self, store: OrgStore, record: Record) -> Any:
        """The stored value of this path for `record` (None through a missing parent)."""
        if self.via is None or self.parent is None:
            return record.get(self.field.name)
        parent = _parent(store, self.parent, record.get(self.via.name))
        return None if parent is None else parent.get(self.field.name)


def relationship_name(lookup: Field) -> str:
    """``AccountId`` -> ``Account``."""
    return lookup.name[:-2]


def resolve(kind: SObjectType, store: OrgStore, text: str, ref: FieldRef) -> Column:
    """The column `ref` names on `kind`; INVALID_FIELD (with pointer) when unknown."""
    head, dot, rest = ref.name.partition(".")
    if not dot:
        found = kind.field(ref.name)
        if found is None:
            raise errors.invalid_field(
                pointer(text, ref.pos, _NO_COLUMN.format(name=ref.name, entity=kind.name))
            )
        return Column(found)
    lookup = next(
        (
            f
            for f in kind.fields
            if f.type == "reference"
            and f.name.endswith("Id")
            and relationship_name(f).lower() == head.lower()
            and len(f.reference_to) == 1
            and f.reference_to[0] in store.objects
        ),
        None,
    )
    if lookup is None or "." in rest:
        raise errors.invalid_field(pointer(text, ref.pos, _NO_RELATIONSHIP.format(name=head)))
    parent = store.objects[lookup.reference_to[0]]
    found = parent.field(rest)
    if found is None:
        raise errors.invalid_field(
            pointer(text, ref.pos, _NO_COLUMN.format(name=rest, entity=parent.name))
        )
    return Column(found, lookup, parent)


def render(
    store: OrgStore, kind: SObjectType, columns: list[Column], record: Record, version: str
) -> dict[str, Any]:
    """One result record: ``attributes``, then columns; parents become nested records."""
    base = f"/services/data/v{version}/sobjects/"
    out: dict[str, Any] = {
        "attributes": {"type": kind.name, "url": base + kind.name + "/" + record["Id"]}
    }
    for column in columns:
        if column.via is None or column.parent is None:
            out[column.field.name] = to_json(record.get(column.field.name))
            continue
        key = relationship_name(column.via)
        parent = _parent(store, column.parent, record.get(column.via.name))
        if parent is None:
            out[key] = None
            continue
        nested = out.get(key) or {
            "attributes": {
                "type": column.parent.name,
                "url": base + column.parent.name + "/" + parent["Id"],
            }
        }
        nested[column.field.name] = to_json(parent.get(column.field.name))
        out[key] = nested
    return out


def _parent(store: OrgStore, parent: SObjectType, parent_id: Any) -> Record | None:
    if not isinstance(parent_id, str):
        return None
    found = store.records[parent.name].get(parent_id)
    return None if found is None or found["IsDeleted"] else found
