"""The vectorised batch path: cleanse then validate a whole polars frame of text.

It gives exactly what running ``cleanse_record`` then ``validate_record`` on every row
gives (``process_records`` below does that, and the tests compare the two), in four
frames: the cleaned rows, the changes, the e-mail suggestions and the issues.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from crmsync.quality.batch_values import STEPS, cleanse_values, validate_values
from crmsync.quality.cleansing import CleansingOptions, cleanse_record
from crmsync.quality.cleansing_email import suggest_domain
from crmsync.quality.validation import RuleSet, validate_record

CHANGES_SCHEMA: Final = {"row": pl.Int64, "field": pl.Utf8, "from": pl.Utf8, "to": pl.Utf8,
                         "reason": pl.Utf8}  # fmt: skip
SUGGESTIONS_SCHEMA: Final = {"row": pl.Int64, "field": pl.Utf8, "value": pl.Utf8,
                             "suggestion": pl.Utf8}  # fmt: skip
ISSUES_SCHEMA: Final = {"row": pl.Int64, "field": pl.Utf8, "rule": pl.Utf8, "message": pl.Utf8,
                        "value": pl.Utf8, "severity": pl.Utf8}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Cleaned rows and, one row each, every change, suggestion and issue."""

    cleaned: pl.DataFrame
    changes: pl.DataFrame
    suggestions: pl.DataFrame
    issues: pl.DataFrame

    def sorted(self) -> BatchResult:
        """A copy in a canonical order, for comparing results."""
        return BatchResult(
            self.cleaned,
            self.changes.sort("row", maintain_order=True),
            self.suggestions.sort("row", "field"),
            self.issues.sort("row", "field", "rule", "message"),
        )


def _changes(rows: pl.DataFrame, table: pl.DataFrame, field: str) -> pl.DataFrame:
    changed = table.filter(pl.any_horizontal([pl.col(f"{s}_to").is_not_null() for s in STEPS]))
    joined = rows.join(changed, on="v", how="inner")
    parts = []
    previous = pl.col("v")
    for order, step in enumerate(STEPS):
        to = pl.col(f"{step}_to")
        parts.append(
            joined.filter(to.is_not_null()).select(
                pl.col("row"),
                pl.lit(order).alias("step"),
                pl.lit(field).alias("field"),
                previous.alias("from"),
                to.alias("to"),
                pl.col(f"{step}_reason").alias("reason"),
            )
        )
        previous = pl.coalesce(to, previous)
    return pl.concat(parts)


def _suggestions(cleaned: pl.Series, field: str) -> pl.DataFrame:
    frame = pl.DataFrame({"value": cleaned}).with_row_index("row")
    frame = frame.filter(pl.col("value").str.contains(r".@[^@]*$"))
    frame = frame.with_columns(pl.col("value").str.extract(r"@([^@]*)$").alias("domain"))
    domains = frame["domain"].unique().to_list()
    fixes = pl.DataFrame(
        {"domain": domains, "fix": [suggest_domain(d) for d in domains]},
        schema={"domain": pl.Utf8, "fix": pl.Utf8},
    )
    return frame.join(fixes.drop_nulls(), on="domain", how="inner").select(
        pl.col("row").cast(pl.Int64),
        pl.lit(field).alias("field"),
        pl.col("value"),
        (pl.col("value").str.replace(r"@[^@]*$", "") + "@" + pl.col("fix")).alias("suggestion"),
    )


def _issues(cleaned: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    parts = [pl.DataFrame(schema=ISSUES_SCHEMA)]
    empties: dict[str, pl.Series] = {}
    fields = {rule.field for rule in rules.fields} | {f for r in rules.records for f in r.fields}
    for field in sorted(fields):
        column = cleaned[field] if field in cleaned.columns else pl.Series([None] * cleaned.height)
        column = column.cast(pl.Utf8)
        field_rules = [rule for rule in rules.fields if rule.field == field]
        table = validate_values(column, field_rules, rules.region)
        rows = pl.DataFrame({"c": column}).with_row_index("row")
        joined = rows.join(table, on="c", how="left", nulls_equal=True, maintain_order="left")
        empties[field] = joined["empty"]
        for index, rule in enumerate(field_rules):
            problem = pl.col(f"p{index}")
            parts.append(
                joined.filter(problem.is_not_null()).select(
                    pl.col("row").cast(pl.Int64),
                    pl.lit(field).alias("field"),
                    pl.lit("required" if rule.rule == "required" else rule.rule.value).alias(
                        "rule"
                    ),
                    problem.alias("message"),
                    pl.col("c").alias("value"),
                    pl.lit(rule.severity.value).alias("severity"),
                )
            )
    for record_rule in rules.records:
        blank = pl.all_horizontal([empties[f] for f in record_rule.fields])
        message = record_rule.message or f"one of {', '.join(record_rule.fields)} is required"
        parts.append(
            pl.DataFrame({"blank": pl.select(blank).to_series()})
            .with_row_index("row")
            .filter(pl.col("blank"))
            .select(
                pl.col("row").cast(pl.Int64),
                pl.lit(",".join(record_rule.fields)).alias("field"),
                pl.lit(record_rule.name).alias("rule"),
                pl.lit(message).alias("message"),
                pl.lit(None, pl.Utf8).alias("value"),
                pl.lit(record_rule.severity.value).alias("severity"),
            )
        )
    return pl.concat(parts, how="vertical_relaxed")


def process_frame(
    frame: pl.DataFrame, rules: RuleSet, options: CleansingOptions | None = None
) -> BatchResult:
    """Cleanse then validate every row of ``frame`` (all columns text)."""
    options = options or CleansingOptions()
    cleaned_columns: list[pl.Series] = []
    changes = [pl.DataFrame(schema={**CHANGES_SCHEMA, "step": pl.Int32})]
    suggestions = [pl.DataFrame(schema=SUGGESTIONS_SCHEMA)]
    for position, name in enumerate(frame.columns):
        column = frame[name]
        if column.dtype != pl.Utf8:
            raise TypeError(f"column {name!r} is {column.dtype}, the batch path takes text")
        table = cleanse_values(column, name, options)
        rows = pl.DataFrame({"v": column}).with_row_index("row")
        cleaned = column.replace_strict(table["v"], table["cleaned"], default=None)
        cleaned_columns.append(cleaned.alias(name))
        found = _changes(rows, table, name).with_columns(pl.lit(position).alias("position"))
        changes.append(found.select(*CHANGES_SCHEMA, "step", "position"))
        if options.email_typos and name in options.email_fields:
            suggestions.append(_suggestions(cleaned, name))
    cleaned_frame = pl.DataFrame(cleaned_columns)
    all_changes = pl.concat(changes, how="diagonal_relaxed")
    all_changes = all_changes.sort("row", "position", "step").select(*CHANGES_SCHEMA)
    return BatchResult(
        cleaned=cleaned_frame,
        changes=all_changes.cast(CHANGES_SCHEMA),  # type: ignore[arg-type]
        suggestions=pl.concat(suggestions, how="vertical_relaxed").cast(SUGGESTIONS_SCHEMA),  # type: ignore[arg-type]
        issues=_issues(cleaned_frame, rules).cast(ISSUES_SCHEMA),  # type: ignore[arg-type]
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def process_records(
    records: Iterable[Mapping[str, Any]], rules: RuleSet, options: CleansingOptions | None = None
) -> BatchResult:
    """The per-record path (``cleanse_record`` then ``validate_record``) as frames."""
    options = options or CleansingOptions()
    cleaned_rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    suggestions: list[dict[str, Any]] = []
    issues: list[dict[str, Any]] = []
    for row, record in enumerate(records):
        report = cleanse_record(record, options)
        cleaned_rows.append(report.cleaned)
        changes.extend({"row": row, **c.as_dict()} for c in report.changes)
        suggestions.extend(
            {"row": row, "field": s.field, "value": s.value, "suggestion": s.suggestion}
            for s in report.suggestions
        )
        result = validate_record(report.cleaned, rules)
        issues.extend(
            {"row": row, "field": i.field, "rule": i.rule, "message": i.message,
             "value": _text(i.value), "severity": i.severity.value}
            for i in (*result.errors, *result.warnings)
        )  # fmt: skip
    return BatchResult(
        cleaned=pl.DataFrame(cleaned_rows, infer_schema_length=None),
        changes=pl.DataFrame(changes, schema=CHANGES_SCHEMA),
        suggestions=pl.DataFrame(suggestions, schema=SUGGESTIONS_SCHEMA),
        issues=pl.DataFrame(issues, schema=ISSUES_SCHEMA),
    )
