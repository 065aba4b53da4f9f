"""Severity overrides: which rules fail a record (error) and which only warn.

An override table maps a rule to ``error`` or ``warning``. A key names a field and one of
its rules (``phone:phone``), a field (``phone``: every rule of that field) or a rule
(``one_of_required``, ``email``: that rule on any field); the most precise key wins.
Workspaces keep theirs in ``Workspace.settings["imports"]["severity"]``, and an import's
own table is laid over the workspace's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.quality.validation import FieldRule, RecordRule, RuleSet, Severity

Overrides = Mapping[str, Severity]


def severity_of(overrides: Overrides, field: str, rule: str, default: Severity) -> Severity:
    """The severity of ``rule`` on ``field`` under ``overrides``."""
    for key in (f"{field}:{rule}", field, rule):
        if key in overrides:
            return Severity(overrides[key])
    return default


def with_severities(rules: RuleSet, overrides: Overrides) -> RuleSet:
    """``rules`` with each rule's severity as ``overrides`` set it."""
    if not overrides:
        return rules
    fields = tuple(
        _field_rule(rule, severity_of(overrides, rule.field, rule.rule.value, rule.severity))
        for rule in rules.fields
    )
    records = tuple(
        _record_rule(rule, severity_of(overrides, ",".join(rule.fields), rule.name, rule.severity))
        for rule in rules.records
    )
    return rules.model_copy(update={"fields": fields, "records": records})


def _field_rule(rule: FieldRule, severity: Severity) -> FieldRule:
    return rule if rule.severity is severity else rule.model_copy(update={"severity": severity})


def _record_rule(rule: RecordRule, severity: Severity) -> RecordRule:
    return rule if rule.severity is severity else rule.model_copy(update={"severity": severity})


def workspace_overrides(settings: Mapping[str, Any] | None) -> dict[str, Severity]:
    """The severity table a workspace's settings hold (invalid entries are ignored)."""
    table = ((settings or {}).get("imports") or {}).get("severity") or {}
    out: dict[str, Severity] = {}
    if isinstance(table, Mapping):
        for key, value in table.items():
            if isinstance(key, str) and value in (Severity.ERROR.value, Severity.WARNING.value):
                out[key] = Severity(value)
    return out
