"""An import's mapping from a YAML file: columns, and the value maps of some of them.

Two shapes are read:

- a table of ``file header: field``, where a field may also be written out with its value
  map: ``Lead Status: {field: status, values: {Hot: QUALIFIED}, status_map:
  salesforce/lead_status, unknown: keep}``;
- a mapping document of the mapping engine whose remote side (``target``) is the file's
  headers. A field's ``{status_map: name}`` transform becomes that column's value map
  (the document's status map, inbound), a ``{value_map: {...}}`` transform too (read
  backwards, as inbound mapping does); ``external_ref`` and ``full_name`` are accepted as
  sources although they are not canonical fields.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from crmsync.imports.rowmap import PSEUDO_TARGETS
from crmsync.imports.valuemaps import ValueMap
from crmsync.mapping.errors import MappingFileError
from crmsync.mapping.schema import ObjectType
from crmsync.mapping.statusmap import remote_key
from crmsync.mapping.transforms import TransformKind
from crmsync.mapping.yaml_io import mapping_from_yaml

Columns = dict[str, str | None]
ValueMaps = dict[str, ValueMap]


def _table(data: dict[Any, Any]) -> tuple[Columns, ValueMaps]:
    columns: Columns = {}
    maps: ValueMaps = {}
    for header, entry in data.items():
        if not isinstance(header, str):
            raise MappingFileError("a mapping file is a YAML table of 'file header: field'", line=1)
        if entry is None or isinstance(entry, str):
            columns[header] = entry
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            raise MappingFileError(f"{header!r}: a field name, or a table with 'field'", line=1)
        columns[header] = entry["field"]
        rest = {k: v for k, v in entry.items() if k != "field"}
        if rest:
            try:
                maps[header] = ValueMap.model_validate(rest)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise MappingFileError(f"{header!r}: {where}: {first['msg']}", line=1) from None
    return columns, maps


def _document(text: str, data: dict[str, Any], object_type: str) -> tuple[Columns, ValueMaps]:
    section = (data.get("objects") or {}).get(object_type)
    if not isinstance(section, dict):
        raise MappingFileError(f"the mapping has no {object_type} section")
    fields = section.get("fields") or []
    pseudo = [f for f in fields if isinstance(f, dict) and f.get("source") in PSEUDO_TARGETS]
    columns: Columns = {str(f["target"]): str(f["source"]) for f in pseudo}
    if pseudo:  # the engine knows no such fields: the rest of the document is read alone
        rest = [f for f in fields if f not in pseudo]
        data = {**data, "objects": {**data["objects"], object_type: {**section, "fields": rest}}}
        text = yaml.safe_dump(data, sort_keys=False)
    mapping = mapping_from_yaml(text)
    objects = mapping.objects.get(ObjectType(object_type))
    if objects is None:
        raise MappingFileError(f"the mapping has no {object_type} section")
    maps: ValueMaps = {}
    for fm in objects.fields:
        columns[fm.target] = fm.source
        for transform in fm.transforms:
            if transform.kind is TransformKind.STATUS_MAP:
                inbound = mapping.status_maps[str(transform.arg)].inbound
                maps[fm.target] = ValueMap(values=dict(inbound))
            elif transform.kind is TransformKind.VALUE_MAP and isinstance(transform.arg, dict):
                values = {remote_key(v): str(k) for k, v in transform.arg.items()}
                maps[fm.target] = ValueMap(values=values)
    return columns, maps


def read_mapping_text(text: str, object_type: str) -> tuple[Columns, ValueMaps]:
    """(header -> field, header -> value map); MappingFileError says what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingFileError(f"not valid YAML: {exc}", line=1) from None
    if isinstance(data, dict) and "objects" in data:
        return _document(text, data, object_type)
    if not isinstance(data, dict):
        raise MappingFileError("a mapping file is a YAML table of 'file header: field'", line=1)
    return _table(data)
