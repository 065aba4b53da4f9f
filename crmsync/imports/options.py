"""The options of an import job, as stored on it and accepted by API and CLI."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crmsync.imports.valuemaps import ValueMap
from crmsync.quality.validation import Severity

ImportObject = Literal["contacts", "leads", "deals", "companies"]

# Rows per committed batch. A batch carries fixed costs (a dedup pass, a transaction),
# so larger batches import faster; cancelling waits for the current one to finish.
DEFAULT_BATCH_SIZE = 2_000
MAX_BATCH_SIZE = 10_000


class OnDuplicate(StrEnum):
    SKIP = "skip"  # a row that duplicates a record (or an earlier row) is not imported
    UPDATE = "update"  # it updates the record it duplicates
    CREATE = "create"  # no duplicate check; exact e-mail / external_ref matches still update


class ImportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_type: ImportObject = Field("contacts", description="the record type rows become")
    on_duplicate: OnDuplicate = OnDuplicate.SKIP
    cleanse: bool = Field(True, description="trim spaces, drop invisible characters, fix names")
    validate_rows: bool = Field(
        True,
        alias="validate",
        description="rules keep their severity; off: every value problem is a warning",
    )
    batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE)
    dry_run: bool = Field(False, description="check everything, write no record")
    sheet: str | None = Field(None, description="XLSX sheet name; the first sheet if absent")
    region: str = Field("US", min_length=2, max_length=2, description="default phone country")
    header_row: int | None = Field(
        None, ge=1, description="line of the header row; detected below title rows if absent"
    )
    keep_unmapped: bool = Field(
        False, description="columns mapped to nothing are kept as custom_fields.<header>"
    )
    value_maps: dict[str, ValueMap] = Field(
        default_factory=dict, description="per column: source value -> canonical value"
    )
    keep_invalid: bool = Field(
        False, description="a value with a warning is kept in custom_fields.<field>, not dropped"
    )
    severity: dict[str, Severity] = Field(
        default_factory=dict,
        description="rule -> error or warning: 'phone', 'phone:phone', 'one_of_required'",
    )
