"""Validation rules as data, and checking a record against them.

A ``RuleSet`` lists field rules (required, email, phone, enum, regex, length, number
range, date) and record rules (at least one of several fields). Each failed rule is an
``Issue``; its severity decides whether the record is rejected (error) or kept with a
warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crmsync.fields.paths import MISSING, get_path
from crmsync.fields.values import parse_date, parse_number
from crmsync.quality.normalize import normalize_email, normalize_phone


class RuleKind(StrEnum):
    REQUIRED = "required"
    EMAIL = "email"
    PHONE = "phone"
    ENUM = "enum"
    REGEX = "regex"
    MIN_LENGTH = "min_length"
    MAX_LENGTH = "max_length"
    RANGE = "range"
    DATE = "date"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class FieldRule(BaseModel):
    """One check of one field; empty values only ever fail ``required``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(min_length=1)
    rule: RuleKind
    severity: Severity = Severity.ERROR
    values: tuple[str, ...] = ()
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _check_params(self) -> FieldRule:
        if self.rule is RuleKind.ENUM and not self.values:
            raise ValueError("an enum rule needs values")
        if self.rule is RuleKind.REGEX:
            if not self.pattern:
                raise ValueError("a regex rule needs a pattern")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"bad regex pattern: {exc}") from None
        bounded = self.rule in (RuleKind.MIN_LENGTH, RuleKind.MAX_LENGTH, RuleKind.RANGE)
        if bounded and self.min is None and self.max is None:
            raise ValueError(f"a {self.rule} rule needs min or max")
        return self


class RecordRule(BaseModel):
    """At least one of ``fields`` must have a value (e.g. e-mail or phone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "one_of_required"
    fields: tuple[str, ...] = Field(min_length=1)
    severity: Severity = Severity.ERROR
    message: str | None = None


class RuleSet(BaseModel):
    """All rules of one object type; ``region`` is the default for phone numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: tuple[FieldRule, ...] = ()
    records: tuple[RecordRule, ...] = ()
    region: str = "US"


@dataclass(frozen=True, slots=True)
class Issue:
    field: str
    rule: str
    message: str
    value: Any
    severity: Severity


@dataclass(slots=True)
class ValidationResult:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """False when the record is to be rejected."""
        return not self.errors

    def add(self, issue: Issue) -> None:
        (self.errors if issue.severity is Severity.ERROR else self.warnings).append(issue)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _length_problem(rule: FieldRule, value: Any) -> str | None:
    size = len(value) if isinstance(value, str | list | tuple) else len(str(value))
    low = rule.min if rule.rule is not RuleKind.MAX_LENGTH else None
    high = rule.max if rule.rule is not RuleKind.MIN_LENGTH else None
    if low is not None and size < low:
        return f"shorter than {low:g} characters"
    if high is not None and size > high:
        return f"longer than {high:g} characters"
    return None


def _range_problem(rule: FieldRule, value: Any) -> str | None:
    try:
        number = parse_number(value)
    except ValueError:
        return "not a number"
    if rule.min is not None and number < rule.min:
        return f"less than {rule.min:g}"
    if rule.max is not None and number > rule.max:
        return f"more than {rule.max:g}"
    return None


def value_problem(rule: FieldRule, value: Any, region: str = "US") -> str | None:
    """Why a non-empty ``value`` fails ``rule`` (a message), or None when it passes."""
    kind = rule.rule
    problem: str | None = None
    if kind is RuleKind.EMAIL:
        if not isinstance(value, str) or normalize_email(value) is None:
            problem = "not a valid e-mail address"
    elif kind is RuleKind.PHONE:
        if not isinstance(value, str | int) or normalize_phone(str(value), region) is None:
            problem = "not a valid phone number"
    elif kind is RuleKind.ENUM:
        if str(value) not in rule.values:
            problem = f"not one of {', '.join(rule.values)}"
    elif kind is RuleKind.REGEX:
        if _compiled(str(rule.pattern)).fullmatch(str(value)) is None:
            problem = "does not match the expected format"
    elif kind in (RuleKind.MIN_LENGTH, RuleKind.MAX_LENGTH):
        problem = _length_problem(rule, value)
    elif kind is RuleKind.RANGE:
        problem = _range_problem(rule, value)
    elif kind is RuleKind.DATE:
        try:
            parse_date(value)
        except ValueError:
            problem = "not a valid date"
    return problem if problem is None or rule.message is None else rule.message


def field_issue(rule: FieldRule, value: Any, region: str) -> Issue | None:
    """The issue ``rule`` raises for ``value`` (present or empty), if any."""
    if is_empty(value):
        if rule.rule is RuleKind.REQUIRED:
            return Issue(rule.field, "required", rule.message or "required", value, rule.severity)
        return None
    if rule.rule is RuleKind.REQUIRED:
        return None
    problem = value_problem(rule, value, region)
    if problem is None:
        return None
    return Issue(rule.field, rule.rule.value, problem, value, rule.severity)


def record_issue(rule: RecordRule, record: Mapping[str, Any]) -> Issue | None:
    values = (get_path(record, f) for f in rule.fields)
    if any(v is not MISSING and not is_empty(v) for v in values):
        return None
    message = rule.message or f"one of {', '.join(rule.fields)} is required"
    return Issue(",".join(rule.fields), rule.name, message, None, rule.severity)


def validate_record(record: Mapping[str, Any], rules: RuleSet) -> ValidationResult:
    """Every issue of ``record`` under ``rules``, errors apart from warnings."""
    result = ValidationResult()
    for rule in rules.fields:
        value = get_path(record, rule.field)
        issue = field_issue(rule, None if value is MISSING else value, rules.region)
        if issue is not None:
            result.add(issue)
    for record_rule in rules.records:
        issue = record_issue(record_rule, record)
        if issue is not None:
            result.add(issue)
    return result
