"""The field table as Markdown: the generated part of ``docs/fields.md``.

``tests/test_field_table.py`` holds the page equal to the table. After changing the
table, rewrite the page with ``python -m crmsync.fields.docs docs/fields.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from crmsync.fields.spec import CanonicalField, FieldType, NumberKind
from crmsync.fields.table import TABLE

START: Final = "<!-- generated from crmsync/fields/table.py: do not edit by hand -->"
END: Final = "<!-- end of generated part -->"
_SPELLINGS_SHOWN: Final = 4


def _kind(field: CanonicalField) -> str:
    if field.relation is not None:
        return f"id of `{field.relation}`"
    text = str(field.type)
    if field.type is FieldType.NUMBER and field.number is not NumberKind.FLOAT:
        text = str(field.number)
    limits = []
    if field.max_length is not None:
        limits.append(f"≤ {field.max_length:,} chars".replace(",", " "))
    if field.minimum is not None:
        limits.append(f"≥ {field.minimum:g}")
    if field.maximum is not None:
        limits.append(f"≤ {field.maximum:g}")
    if field.pattern is not None:
        limits.append(f"`{field.pattern}`")
    return text + (f" ({', '.join(limits)})" if limits else "")


def _about(field: CanonicalField) -> str:
    parts = []
    if field.required:
        parts.append("**required**")
    if field.values:
        parts.append("one of " + ", ".join(f"`{v}`" for v in field.values))
    if field.default is not None:
        parts.append(f"default `{field.default}`")
    if field.description:
        parts.append(field.description.rstrip("."))
    if field.searchable:
        parts.append("a list's `q` searches it")
    spellings = field.preferred + field.synonyms
    if spellings:
        shown = ", ".join(dict.fromkeys(spellings[:_SPELLINGS_SHOWN]))
        more = "…" if len(spellings) > _SPELLINGS_SHOWN else ""
        parts.append(f"headers: {shown}{more}")
    return "; ".join(parts)


def render() -> str:
    """Every record type with its fields, in the table's order."""
    lines = [START, ""]
    for object_type, spec in TABLE.items():
        imports = " Lead files can import it." if spec.importable else ""
        lines += [f"### `{object_type}` ({spec.label})", "", f"{spec.description}{imports}".strip()]
        lines += ["", "| field | label | type | about |", "|---|---|---|---|"]
        lines += [f"| `{f.name}` | {f.title} | {_kind(f)} | {_about(f)} |" for f in spec.fields]
        lines.append("")
    return "\n".join([*lines, END])


def rewrite(page: Path) -> None:
    """Replace the generated part of ``page`` with the table as it is now."""
    text = page.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    page.write_text(head + render() + tail)


if __name__ == "__main__":
    rewrite(Path(sys.argv[1]))
