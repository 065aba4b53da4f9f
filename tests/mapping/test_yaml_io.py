"""YAML export/import and its error messages."""

from __future__ import annotations

import pytest

from crmsync.mapping.defaults import PROVIDERS, default_mapping
from crmsync.mapping.errors import MappingFileError
from crmsync.mapping.yaml_io import mapping_from_yaml, mapping_to_yaml

HEAD = "provider: x\nobjects:\n  contacts:\n    remote_object: c\n    fields:\n"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_export_then_import_is_identity(provider: str) -> None:
    mapping = default_mapping(provider)
    assert mapping_from_yaml(mapping_to_yaml(mapping)) == mapping


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("a: [1,\nb: 2\n", 3, "", "expected ','"),
        ("provider: x\n  bad indent: 1\n", 2, "", "mapping values are not allowed"),
        ("- 1\n", 1, "", "must be a YAML mapping"),
        ("", 1, "", "must be a YAML mapping"),
        (HEAD + "      - source: email\n        target: e\n        type: emial\n", 8,
         "objects.contacts.fields.0.type", "Input should be"),
        (HEAD + "      - source: email\n        target: e\n"
         "      - source: nope\n        target: f\n", 8,
         "objects.contacts.fields.1.source", "unknown canonical field 'nope'"),
        (HEAD + "      - {source: status, target: s, transforms: [{status_map: gone}]}\n", 6,
         "objects.contacts.fields.0.transforms", "no status map named 'gone'"),
        (HEAD + "      - {source: email, target: e}\n      - {source: phone, target: e}\n", 7,
         "objects.contacts.fields.1", "'e' is written twice in the outbound direction"),
        (HEAD + "      - {source: email, target: e, transforms: [{join: 3}]}\n", 6,
         "objects.contacts.fields.0.transforms.0", "join needs a str argument"),
        ("provider: x\nobjects:\n  widgets: {remote_object: w, fields: []}\n", 3,
         "objects.widgets", "Input should be"),
    ],
)  # fmt: skip
def test_bad_documents_name_line_and_field(text: str, line: int, field: str, message: str) -> None:
    with pytest.raises(MappingFileError) as info:
        mapping_from_yaml(text)
    error = info.value
    assert (error.line, error.field) == (line, field)
    assert message in str(error)
    assert str(error).startswith(f"line {line}")
