"""The import wizard's steps over the imports service: the targets a column may map to,
changing a pending job's mapping (checked exactly as creating the job checks it), and its
rules: a severity per rule the preview met, a value map per column of an enum field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crmsync.imports.errors import JobStateError
from crmsync.imports.options import ImportOptions
from crmsync.imports.rowmap import EXTERNAL_REF, FULL_NAME, RowMapper, has_full_name
from crmsync.imports.valuemaps import UnknownValue, ValueMap, enum_values
from crmsync.mapping.schema import CANONICAL_SCHEMA, ObjectType
from crmsync.records.errors import RecordInvalid
from crmsync.store.models import ImportJob, ImportStatus


def targets(object_type: str) -> list[str]:
    """Canonical fields a column can fill, then the pseudo-targets."""
    fields = sorted(CANONICAL_SCHEMA[ObjectType(object_type)])
    extra = [EXTERNAL_REF] + ([FULL_NAME] if has_full_name(object_type) else [])
    return fields + extra


def suggested_targets(preview: Mapping[str, Any]) -> dict[str, str | None]:
    """Header -> the field the preview suggests for it."""
    return {s["source"]: s.get("target") for s in preview.get("suggested_mapping", [])}


def options_of(job: ImportJob) -> ImportOptions:
    return ImportOptions.model_validate(job.options)


def remap(job: ImportJob, columns: Mapping[str, str | None]) -> dict[str, str]:
    """Set a pending job's mapping; refuses a target the object type does not have."""
    if job.status != ImportStatus.PENDING:
        raise JobStateError(f"a {job.status} job keeps its mapping")
    chosen = {h: t for h, t in columns.items() if t and h in job.headers}
    options = options_of(job)
    RowMapper(options.object_type, chosen, region=options.region, value_maps=options.value_maps)
    job.mapping = chosen
    return chosen


@dataclass(frozen=True, slots=True)
class RuleChoice:
    """A rule the preview met, its severity key (``field:rule`` or a row rule), and the
    severity in effect."""

    key: str
    label: str
    severity: str


@dataclass(frozen=True, slots=True)
class ValueEntry:
    value: str
    target: str | None  # mapped to (or suggested), None: not mapped
    count: int | None  # in the sample; None: an entry of the map the sample did not meet


@dataclass(frozen=True, slots=True)
class ValueColumn:
    """A column mapped to an enum field: its map's entries and the sample's unknown values."""

    header: str
    target: str
    choices: tuple[str, ...]
    entries: tuple[ValueEntry, ...]
    unknown: str


def rule_choices(preview: Mapping[str, Any]) -> list[RuleChoice]:
    """The severities one can change: each column problem and each whole-row problem
    with a rule, once."""
    found: dict[str, RuleChoice] = {}
    for column in preview.get("columns", []):
        for problem in column.get("problems", []):
            key = f"{column['target']}:{problem['rule']}"
            label = f"{column['header']} ({column['target']}): {problem['message']}"
            found.setdefault(key, RuleChoice(key, label, problem["severity"]))
    for problem in preview.get("row_problems", []):
        if problem.get("rule"):
            found.setdefault(
                problem["rule"],
                RuleChoice(problem["rule"], problem["message"], problem["severity"]),
            )
    return list(found.values())


def value_columns(job: ImportJob, preview: Mapping[str, Any]) -> list[ValueColumn]:
    """Per column mapped to an enum field: the map's entries, then the values nothing
    maps with the preview's suggestion."""
    maps = options_of(job).value_maps
    out = []
    for column in preview.get("columns", []):
        target = column.get("target")
        choices = enum_values(job.object_type, target) if target else ()
        if not choices:
            continue
        current = maps.get(column["header"]) or ValueMap()
        entries = [ValueEntry(v, t, None) for v, t in current.values.items()]
        entries += [
            ValueEntry(u["value"], u["suggestion"], u["count"])
            for u in column.get("unknown_values", [])
            if u["value"] not in current.values
        ]
        if entries or current.values:
            out.append(
                ValueColumn(column["header"], target, choices, tuple(entries), current.unknown)
            )
    return out


def _worth_keeping(value_map: Mapping[str, Any]) -> bool:
    """A map with no entry, no status map and the default policy says nothing."""
    return bool(value_map.get("values") or value_map.get("status_map")) or (
        value_map.get("unknown", UnknownValue.ERROR.value) != UnknownValue.ERROR.value
    )


def set_rules(
    job: ImportJob,
    severity: Mapping[str, str],
    values: Iterable[tuple[str, str, str]],
    unknown: Mapping[str, str],
) -> ImportOptions:
    """Lay ``severity`` (key -> error/warning) over the job's, and set the value maps of
    the columns ``unknown`` names (header -> policy) to ``values`` (header, source,
    canonical; an empty canonical drops the entry). Checked as the API checks them."""
    if job.status != ImportStatus.PENDING:
        raise JobStateError(f"a {job.status} job keeps its options")
    bad = sorted({p for p in unknown.values() if p not in (UnknownValue.ERROR, UnknownValue.KEEP)})
    if bad:
        raise RecordInvalid(f"value_maps.unknown: error or keep, not {', '.join(bad)}")
    options = options_of(job)
    maps = {
        h: m.model_dump(mode="json", exclude_defaults=True) for h, m in options.value_maps.items()
    }
    for header, policy in unknown.items():
        maps[header] = {
            **maps.get(header, {}),
            "values": {v: t for h, v, t in values if h == header and t},
            "unknown": UnknownValue(policy).value,
        }
    changed = ImportOptions.model_validate(
        {
            **job.options,
            "severity": {**options.severity, **severity},
            "value_maps": {h: m for h, m in maps.items() if _worth_keeping(m)},
        }
    )
    RowMapper(
        changed.object_type, job.mapping, region=changed.region, value_maps=changed.value_maps
    )
    job.options = changed.model_dump(mode="json", by_alias=True)
    return changed
