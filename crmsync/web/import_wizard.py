"""The import wizard's steps over the imports service: the targets a column may map to,
and changing a pending job's mapping (checked exactly as creating the job checks it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.imports.errors import JobStateError
from crmsync.imports.options import ImportOptions
from crmsync.imports.rowmap import EXTERNAL_REF, FULL_NAME, RowMapper, has_full_name
from crmsync.mapping.schema import CANONICAL_SCHEMA, ObjectType
from crmsync.store.models import ImportJob


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
    if job.status != "pending":
        raise JobStateError(f"a {job.status} job keeps its mapping")
    chosen = {h: t for h, t in columns.items() if t and h in job.headers}
    options = options_of(job)
    RowMapper(options.object_type, chosen, region=options.region, value_maps=options.value_maps)
    job.mapping = chosen
    return chosen
