"""Cleansing and validation of the distinct values of one column, vectorised.

Every distinct value is handled once. Printable-ASCII values take polars expressions
(trim, e-mail normalisation, North American phones, enum, length, simple numbers);
the rest go through the same Python functions as the per-record path, so each row of
these tables is what ``cleanse_record``/``validate_record`` give for that value.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from crmsync.quality.batch_email import fast_emails, printable_ascii
from crmsync.quality.batch_phone import fast_phones
from crmsync.quality.cleansing import (
    REASON_EMAIL,
    REASON_INVISIBLE,
    REASON_NAME,
    REASON_PHONE,
    REASON_TRIM,
    CleansingOptions,
    clean_field,
)
from crmsync.quality.cleansing_names import capitalise_name
from crmsync.quality.validation import FieldRule, RuleKind, field_issue, is_empty

# The steps of one value, in the order cleansing applies them.
STEPS: Final = ("invisible", "trim", "kind")
_STEP_OF: Final = {REASON_INVISIBLE: 0, REASON_TRIM: 1}
_SIMPLE_NUMBER: Final = r"^-?[0-9]+(\.[0-9]+)?$"
STEP_COLUMNS: Final = tuple(f"{s}_{part}" for s in STEPS for part in ("to", "reason"))


def _kind(name: str, options: CleansingOptions) -> tuple[str, str]:
    if options.email and name in options.email_fields:
        return "email", REASON_EMAIL
    if options.phone and name in options.phone_fields:
        return "phone", REASON_PHONE
    if options.names and name in options.name_fields:
        return "name", REASON_NAME
    return "text", ""


def _slow_rows(values: list[Any], name: str, options: CleansingOptions) -> pl.DataFrame:
    rows: dict[str, list[Any]] = {column: [] for column in ("v", "cleaned", *STEP_COLUMNS)}
    for value in values:
        steps = clean_field(name, value, options)
        ordered: list[tuple[str, str] | None] = [None, None, None]
        for new, reason in steps:
            ordered[_STEP_OF.get(reason, 2)] = (new, reason)
        rows["v"].append(value)
        rows["cleaned"].append(steps[-1][0] if steps else value)
        for step, item in zip(STEPS, ordered, strict=True):
            rows[f"{step}_to"].append(item[0] if item else None)
            rows[f"{step}_reason"].append(item[1] if item else None)
    return pl.DataFrame(rows, schema=dict.fromkeys(rows, pl.Utf8))


def _fast_rows(
    values: pl.Series, name: str, options: CleansingOptions
) -> tuple[pl.DataFrame, pl.Series]:
    """Steps of printable-ASCII values, and the values (phones) this path cannot decide."""
    kind, reason = _kind(name, options)
    v = pl.col("v")
    trimmed = v.str.replace_all(" +", " ").str.strip_chars(" ") if options.trim else v
    frame = pl.DataFrame({"v": values}).with_columns(trimmed.alias("current"))
    current = frame["current"]
    undecided = pl.Series("v", [], dtype=pl.Utf8)
    if kind == "email":
        new = fast_emails(current)["email"]
    elif kind == "phone":
        new = fast_phones(current, options.region)
        undecided = frame.filter(new.is_null())["v"]
        frame, new = frame.filter(new.is_not_null()), new.drop_nulls()
    elif kind == "name":
        distinct = current.unique()
        named = pl.Series([capitalise_name(s) for s in distinct.to_list()], dtype=pl.Utf8)
        new = current.replace_strict(distinct, named, return_dtype=pl.Utf8)
    else:
        new = pl.Series([None] * frame.height, dtype=pl.Utf8)
    frame = frame.with_columns(new.alias("new"))
    cur = pl.col("current")
    changed = pl.col("new").is_not_null() & (pl.col("new") != cur)
    trim = cur != v
    steps = frame.select(
        v,
        pl.when(changed).then(pl.col("new")).otherwise(cur).alias("cleaned"),
        pl.lit(None, pl.Utf8).alias("invisible_to"),
        pl.lit(None, pl.Utf8).alias("invisible_reason"),
        pl.when(trim).then(cur).alias("trim_to"),
        pl.when(trim).then(pl.lit(REASON_TRIM)).alias("trim_reason"),
        pl.when(changed).then(pl.col("new")).alias("kind_to"),
        pl.when(changed).then(pl.lit(reason)).alias("kind_reason"),
    )
    return steps, undecided


def cleanse_values(values: pl.Series, name: str, options: CleansingOptions) -> pl.DataFrame:
    """One row per distinct non-null string: ``v``, ``cleaned`` and each step's change."""
    distinct = values.drop_nulls().unique()
    ascii_mask = pl.DataFrame({"v": distinct}).select(printable_ascii(pl.col("v"))).to_series()
    fast, undecided = _fast_rows(distinct.filter(ascii_mask), name, options)
    rest = [*distinct.filter(~ascii_mask).to_list(), *undecided.to_list()]
    slow = _slow_rows(rest, name, options)
    return pl.concat([fast, slow.select(fast.columns)])


def _fast_checks(rule: FieldRule, values: pl.Series, region: str) -> tuple[pl.Series, pl.Series]:
    """(decided, failed) per value; only meaningful for non-empty printable ASCII."""
    c = pl.col("c")
    frame = pl.DataFrame({"c": values})
    if rule.rule is RuleKind.EMAIL:
        failed = fast_emails(values)["email"].is_null()
        return pl.Series([True] * len(values)), failed
    if rule.rule is RuleKind.PHONE:
        valid = fast_phones(values, region).is_not_null()
        return valid, pl.Series([False] * len(values))  # only valid numbers are decided
    if rule.rule is RuleKind.ENUM:
        failed = frame.select(~c.is_in(list(rule.values))).to_series()
        return pl.Series([True] * len(values)), failed
    if rule.rule in (RuleKind.MIN_LENGTH, RuleKind.MAX_LENGTH, RuleKind.RANGE):
        # passing values are decided here; failures are worded by the Python rule
        low = rule.min if rule.rule is not RuleKind.MAX_LENGTH else None
        high = rule.max if rule.rule is not RuleKind.MIN_LENGTH else None
        if rule.rule is RuleKind.RANGE:
            size = c.cast(pl.Float64, strict=False)
            inside = c.str.contains(_SIMPLE_NUMBER)
        else:
            size, inside = c.str.len_chars(), pl.lit(True)
        if low is not None:
            inside = inside & (size >= low)
        if high is not None:
            inside = inside & (size <= high)
        return frame.select(inside.fill_null(False)).to_series(), pl.Series([False] * len(values))
    return pl.Series([False] * len(values)), pl.Series([False] * len(values))


def _message(rule: FieldRule) -> str:
    if rule.message is not None:
        return rule.message
    if rule.rule is RuleKind.EMAIL:
        return "not a valid e-mail address"
    return f"not one of {', '.join(rule.values)}"


def _rule_problems(
    rule: FieldRule, frame: pl.DataFrame, ascii_mask: pl.Series, region: str
) -> pl.Series:
    values, empty = frame["c"], frame["empty"]
    if rule.rule is RuleKind.REQUIRED:
        message = rule.message or "required"
        return frame.select(pl.when(pl.col("empty")).then(pl.lit(message))).to_series()
    decided, failed = _fast_checks(rule, values, region)
    decided = decided & ascii_mask & ~empty
    problems = (
        pl.DataFrame({"d": decided, "f": failed})
        .select(pl.when(pl.col("d") & pl.col("f")).then(pl.lit(_message(rule))))
        .to_series()
        .cast(pl.Utf8)
    )
    slow_at = (~decided & ~empty).arg_true()
    if len(slow_at):
        found = [field_issue(rule, v, region) for v in values.gather(slow_at).to_list()]
        problems = problems.scatter(slow_at, [i.message if i else None for i in found])
    return problems


def validate_values(cleaned: pl.Series, rules: list[FieldRule], region: str) -> pl.DataFrame:
    """One row per distinct cleaned value (null included): ``c``, ``empty``, ``p0``, ..."""
    frame = pl.DataFrame({"c": cleaned.unique()})
    ascii_mask = frame.select(printable_ascii(pl.col("c")).fill_null(False)).to_series()
    empty = frame.select(
        pl.col("c").is_null() | (pl.col("c").str.strip_chars(" ") == "")
    ).to_series()
    other_at = (~ascii_mask & frame["c"].is_not_null()).arg_true()
    if len(other_at):
        empty = empty.scatter(other_at, [is_empty(v) for v in frame["c"].gather(other_at)])
    frame = frame.with_columns(empty.alias("empty"))
    for index, rule in enumerate(rules):
        problems = _rule_problems(rule, frame, ascii_mask, region)
        frame = frame.with_columns(problems.alias(f"p{index}"))
    return frame
