"""The checks of a mapped import row, all in one pass, each with its severity.

Order: the engine's coercion problems (a value that is not an e-mail, a phone, a
number...) come in from ``RowMapper``; then the validation rules of the object type
(``quality.validation_defaults``, with the workspace's and the import's severity
overrides); values with a warning are left out; then what the records service would
refuse (``parse_fields``), field by field; then the record rules (e-mail or phone) on
what is left, and "no data" for a row with nothing but an id.

With ``validate`` off every value problem is a warning and only the records service's
refusals and "no data" fail a row. With ``keep_invalid`` a value with a warning is kept,
as it was, in ``custom_fields.<field>`` instead of being left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from crmsync.fields.paths import MISSING, get_path
from crmsync.mapping.schema import FieldType, field_type
from crmsync.quality.validation import (
    FieldRule,
    RuleKind,
    RuleSet,
    Severity,
    field_issue,
    is_empty,
    record_issue,
)
from crmsync.quality.validation_defaults import default_rules
from crmsync.quality.validation_severity import severity_of, with_severities
from crmsync.records.errors import RecordInvalid
from crmsync.records.payloads import in_schema_order, parse_fields

EXTERNAL_REF: Final = "external_ref"
CUSTOM: Final = "custom_fields."
# The engine coerces these types with exactly the rule's check: the rule is not run again.
_COERCED_RULES: Final = {FieldType.EMAIL: RuleKind.EMAIL, FieldType.PHONE: RuleKind.PHONE}
# parse_fields is asked again after dropping the fields it refused, at most this often
_PARSE_ROUNDS: Final = 4


# a field rule as the row loop runs it: (field, rule, dotted field, max_length's limit)
_FieldCheck = tuple[str, FieldRule, bool, float | None]
_TEXT: Final = frozenset({str})


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a row: which column or field, which rule, and how bad."""

    column: str | None
    field: str
    rule: str
    message: str
    value: Any
    severity: Severity = Severity.ERROR

    @property
    def text(self) -> str:
        label = self.column or self.field
        return f"{label}: {self.message}" if label else self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity.value,
        }


def _drop(fields: dict[str, Any], path: str) -> None:
    if path in fields:
        del fields[path]
        return
    head, _, rest = path.partition(".")
    child = fields.get(head)
    if rest and isinstance(child, dict):
        _drop(child, rest)
        if not child:
            del fields[head]


class RowRules:
    """The rules of one import, resolved once: which run, and with which severity."""

    def __init__(
        self,
        object_type: str,
        header_of: Mapping[str, str],
        *,
        region: str,
        validate: bool,
        severity: Mapping[str, Severity],
        rules: RuleSet | None = None,
        keep_invalid: bool = False,
    ) -> None:
        self.object_type = object_type
        self.keep_invalid = keep_invalid
        self.header_of = dict(header_of)
        self.validate = validate
        self.overrides = dict(severity)
        base = rules if rules is not None else default_rules(object_type, region)
        self.ruleset = with_severities(base, self.overrides)
        self.region = self.ruleset.region
        self.field_rules: tuple[FieldRule, ...] = tuple(
            r for r in self.ruleset.fields if not self._coerced(r)
        )
        # each rule with what the row loop needs, worked out once
        self._field_checks: list[_FieldCheck] = [
            (r.field, r, "." in r.field, r.max if r.rule is RuleKind.MAX_LENGTH else None)
            for r in self.field_rules
        ]
        self._record_checks = [
            (r, tuple(f for f in r.fields if "." not in f)) for r in self.ruleset.records
        ]

    def _coerced(self, rule: FieldRule) -> bool:
        kind = field_type(self.object_type, rule.field)
        return kind is not None and _COERCED_RULES.get(kind) is rule.rule

    def _severity(self, severity: Severity) -> Severity:
        return severity if self.validate else Severity.WARNING

    def coercion_problem(self, header: str, message: str, value: Any) -> Problem:
        """The problem of a value the engine could not coerce to its field's type."""
        target = next((t for t, h in self.header_of.items() if h == header), header)
        kind = field_type(self.object_type, target) or FieldType.STRING
        rule = _COERCED_RULES.get(kind, kind).value
        default = next(
            (r.severity for r in self.ruleset.fields if r.field == target and r.rule.value == rule),
            Severity.ERROR,
        )
        severity = severity_of(self.overrides, target, rule, default)
        return Problem(header, target, rule, message, value, self._severity(severity))

    def field_checks_for(self, rows: list[dict[str, Any]]) -> list[_FieldCheck]:
        """The field checks that can find a problem in some row of ``rows`` (mapped fields,
        before ``check``), judged a column at a time: a rule on a field no row sets
        (unless it is ``required``), or a ``max_length`` every row's text value meets,
        finds none and is left out. ``check(..., checks=)`` of each row then gives the
        same problems as with every check."""
        present: set[str] = set().union(*rows)
        checks = []
        for check in self._field_checks:
            name, rule, dotted, longest = check
            if dotted or rule.rule is RuleKind.REQUIRED:
                checks.append(check)
            elif name not in present:
                continue
            elif longest is not None:
                column = [fields[name] for fields in rows if name in fields]
                if {*map(type, column)} != _TEXT or max(map(len, column)) > longest:
                    checks.append(check)
            else:
                checks.append(check)
        return checks

    def _field_issues(
        self, fields: dict[str, Any], problems: list[Problem], checks: list[_FieldCheck]
    ) -> None:
        for name, rule, dotted, longest in checks:
            value = get_path(fields, name) if dotted else fields.get(name, MISSING)
            if value is MISSING:
                if rule.rule is not RuleKind.REQUIRED:
                    continue
            elif longest is not None and type(value) is str and len(value) <= longest:
                continue  # a max_length rule passed: the usual case, decided here
            issue = field_issue(rule, None if value is MISSING else value, self.region)
            if issue is not None:
                column = self.header_of.get(name)
                problems.append(
                    Problem(column, name, issue.rule, issue.message, value, issue.severity)
                )

    def _record_issues(self, fields: dict[str, Any], problems: list[Problem]) -> None:
        for rule, plain in self._record_checks:
            for name in plain:  # the usual case first: one of the fields has a value
                value = fields.get(name)
                if value.__class__ is str:  # is_empty of text, inlined
                    if value.strip():
                        break
                elif value is not None and not is_empty(value):
                    break
            else:
                issue = record_issue(rule, fields)
                if issue is not None:
                    problems.append(
                        Problem(None, "", issue.rule, issue.message, None, issue.severity)
                    )

    def check(
        self,
        fields: dict[str, Any],
        problems: list[Problem],
        plain: bool = False,
        checks: list[_FieldCheck] | None = None,
    ) -> bool:
        """Add the row's problems to ``problems``; values with a warning leave ``fields``.

        True when ``fields`` is left as ``parse_fields``' own answer for it (values and
        order), which the records service can then take without parsing it again.
        ``plain``: ``payloads.plain_rows`` found ``fields`` to be that answer already (but
        for the order), so they are not parsed. ``checks``: the field checks worth
        running (``field_checks_for`` of the row's batch); all of them by default.
        """
        if self.validate:
            self._field_issues(fields, problems, self._field_checks if checks is None else checks)
        # a bad value leaves the record: a warning's row imports without it, and an
        # error's row fails anyway (the records service would only report it again)
        for problem in problems:
            if problem.field:
                _drop(fields, problem.field)
        parsed = self._parse(fields, problems, plain)
        if self.keep_invalid and self._keep(fields, problems):
            parsed = False
        if self.validate:
            self._record_issues(fields, problems)
        if not fields or (len(fields) == 1 and EXTERNAL_REF in fields):
            message = (
                "no data: the row has nothing but an id"
                if EXTERNAL_REF in fields
                else "no data: no mapped column has a value"
            )
            problems.append(Problem(None, "", "no_data", message, None))
        return parsed

    @staticmethod
    def _keep(fields: dict[str, Any], problems: list[Problem]) -> bool:
        """Each value with a warning, as it was, in ``custom_fields.<field>``; True when
        one was kept."""
        kept = False
        for problem in problems:
            if problem.severity is Severity.WARNING and problem.field and problem.value is not None:
                name = problem.field.removeprefix(CUSTOM)
                fields.setdefault("custom_fields", {})[name] = str(problem.value)
                kept = True
        return kept

    def _parse(self, fields: dict[str, Any], problems: list[Problem], plain: bool = False) -> bool:
        """What the records service refuses, field by field (the rest is parsed again).

        Once the fields pass, they are replaced by ``parse_fields``' answer (equal
        values, in the schema's order), and True is returned. Fields found ``plain``
        (before bad values left them: fewer fields are plain too) pass as they are.
        """
        if plain:
            ordered = in_schema_order(self.object_type, fields)
            fields.clear()
            fields.update(ordered)
            return True
        for _ in range(_PARSE_ROUNDS):
            try:
                parsed = parse_fields(self.object_type, fields)
            except RecordInvalid as exc:
                refused = [e for e in (exc.details or []) if isinstance(e, dict)]
                if not refused:
                    problems.append(Problem(None, "", "record", exc.message, None))
                    return False
                for error in refused:
                    path = str(error.get("field", ""))
                    name = path.split(".", 1)[0]
                    if name not in fields:
                        problems.append(Problem(None, path, "record", exc.message, None))
                        return False
                    column = self.header_of.get(path) or self.header_of.get(name)
                    severity = self._severity(Severity.ERROR)
                    problems.append(
                        Problem(column, path, "record", error["message"], fields[name], severity)
                    )
                    fields.pop(name, None)
            else:
                fields.clear()
                fields.update(parsed)
                return True
        return False
