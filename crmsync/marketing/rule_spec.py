"""Trigger rules as data: the typed form (API JSON) and the YAML form.

JSON (``POST /api/v1/trigger-rules``)::

    {"name": "uw-approved", "event_type": "loan.milestone_updated",
     "conditions": {"data": {"milestone": ["underwriting_approved"]},
                    "contact": {"contact_type": "borrower"}},
     "action": "enroll", "journeys": {"names": ["Pre-Approval Follow-up"]}}

YAML (``PUT /api/v1/trigger-rules.yaml``, ``crmsync`` files), one list of rules::

    rules:
      - name: uw-approved
        on: loan.milestone_updated
        when:
          milestone: [underwriting_approved, clear_to_close]
          contact: {contact_type: borrower, custom_fields.program: fha}
        enroll: {names: [Pre-Approval Follow-up]}
      - name: funded-leaves-nurture
        on: loan.milestone_updated
        when: {milestone: funded}
        unenroll: {categories: [Prospecting]}

A file that is not YAML, or a rule in it that is not valid, is refused with the line it
starts on (``RuleInvalid.details``: ``[{"line", "rule", "message"}]``).
"""

from __future__ import annotations

import re
from typing import Any, Literal, NoReturn

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crmsync.marketing.errors import RuleInvalid

__all__ = ["MILESTONES", "JourneySelector", "RuleSpec", "dump_yaml", "parse_yaml"]

EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# the mortgage app's loan milestones, in order
MILESTONES = (
    "application_submitted",
    "processing",
    "underwriting_approved",
    "clear_to_close",
    "closed",
    "funded",
)
CONTACT_FIELDS = frozenset(
    {"contact_type", "status", "owner", "lifecycle_stage", "source", "state", "country"}
)
Values = str | int | float | bool | list[str | int | float | bool]


class JourneySelector(BaseModel):
    """Which journeys a rule acts on: any of these match (an empty selector matches none)."""

    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(default_factory=list)
    remote_ids: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    integration_id: str | None = None

    @model_validator(mode="after")
    def _something(self) -> JourneySelector:
        if not (self.ids or self.remote_ids or self.names or self.categories):
            raise ValueError("name journeys by ids, remote_ids, names or categories")
        return self


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Values] = Field(default_factory=dict)
    contact: dict[str, Values] = Field(default_factory=dict)

    @field_validator("contact")
    @classmethod
    def _known_fields(cls, value: dict[str, Values]) -> dict[str, Values]:
        for name in value:
            if name not in CONTACT_FIELDS and not name.startswith("custom_fields."):
                known = ", ".join(sorted(CONTACT_FIELDS))
                raise ValueError(f"contact filter {name!r}: use {known} or custom_fields.<name>")
        return value


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    event_type: str = Field(max_length=100)
    conditions: Conditions = Field(default_factory=Conditions)
    action: Literal["enroll", "unenroll"] = "enroll"
    journeys: JourneySelector
    active: bool = True

    @field_validator("event_type")
    @classmethod
    def _event_type(cls, value: str) -> str:
        if not EVENT_TYPE.match(value):
            raise ValueError(f"{value!r} is not an event type (like loan.milestone_updated)")
        return value

    @model_validator(mode="after")
    def _milestones(self) -> RuleSpec:
        wanted = self.conditions.data.get("milestone")
        if self.event_type == "loan.milestone_updated" and wanted is not None:
            values = wanted if isinstance(wanted, list) else [wanted]
            unknown = [v for v in values if v not in MILESTONES]
            if unknown:
                raise ValueError(
                    f"unknown milestone {unknown[0]!r}; milestones are {', '.join(MILESTONES)}"
                )
        return self


def _message(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    text = str(first.get("msg", "")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        text = "unknown key"
    return f"{where}: {text}" if where else text


def validate(raw: Any) -> RuleSpec:
    """A rule from the API's JSON form; ``RuleInvalid`` says what is wrong."""
    try:
        return RuleSpec.model_validate(raw)
    except ValidationError as error:
        raise RuleInvalid(_message(error)) from None


def _from_yaml_item(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("each rule is a mapping (name, on, when, enroll|unenroll)")
    item = dict(item)
    if True in item:  # YAML 1.1 reads a bare `on:` key as the boolean true
        item["on"] = item.pop(True)
    unknown = set(item) - {"name", "on", "when", "enroll", "unenroll", "active"}
    if unknown:
        raise ValueError(f"unknown key {sorted(map(str, unknown))[0]!r}")
    actions = [k for k in ("enroll", "unenroll") if k in item]
    if len(actions) != 1:
        raise ValueError("give exactly one of enroll or unenroll")
    when = dict(item.get("when") or {})
    contact = when.pop("contact", {}) or {}
    spec = {
        "name": item.get("name"),
        "event_type": item.get("on"),
        "conditions": {"data": when, "contact": contact},
        "action": actions[0],
        "journeys": item[actions[0]],
    }
    if "active" in item:
        spec["active"] = item["active"]
    return spec


def parse_yaml(text: str) -> list[RuleSpec]:
    """Every rule of a rules file; ``RuleInvalid`` names the line of the first problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        loaded = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "not valid YAML"
        if error.context and error.context_mark is not None and error.problem:
            problem += f" ({error.context} from line {error.context_mark.line + 1})"
        raise RuleInvalid(
            f"line {line}: {problem}", [{"line": line, "rule": None, "message": problem}]
        ) from None
    items = loaded.get("rules") if isinstance(loaded, dict) else None
    if not isinstance(items, list):
        raise RuleInvalid(
            "line 1: a rules file is a mapping with a 'rules' list",
            [{"line": 1, "rule": None, "message": "expected 'rules:'"}],
        )
    lines = _item_lines(root)
    specs: list[RuleSpec] = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        line = lines[n] if n < len(lines) else None
        name = item.get("name") if isinstance(item, dict) else None
        try:
            spec = RuleSpec.model_validate(_from_yaml_item(item))
        except ValidationError as error:
            _refuse(line, name, _message(error))
        except ValueError as error:
            _refuse(line, name, str(error))
        if spec.name in seen:
            _refuse(line, name, f"a second rule named {spec.name!r}")
        seen.add(spec.name)
        specs.append(spec)
    return specs


def _refuse(line: int | None, name: Any, message: str) -> NoReturn:
    label = f" (rule {name!r})" if name else ""
    raise RuleInvalid(
        f"line {line}{label}: {message}", [{"line": line, "rule": name, "message": message}]
    )


def _item_lines(root: yaml.Node | None) -> list[int]:
    """The 1-based line each item of the ``rules`` list starts on."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "rules" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def dump_yaml(specs: list[RuleSpec]) -> str:
    """The rules file of ``specs`` (what ``parse_yaml`` reads back to the same rules)."""
    items = []
    for spec in specs:
        when: dict[str, Any] = dict(spec.conditions.data)
        if spec.conditions.contact:
            when["contact"] = dict(spec.conditions.contact)
        item: dict[str, Any] = {"name": spec.name, "on": spec.event_type}
        if when:
            item["when"] = when
        item[spec.action] = spec.journeys.model_dump(exclude_defaults=True)
        if not spec.active:
            item["active"] = False
        items.append(item)
    return yaml.safe_dump({"rules": items}, sort_keys=False, allow_unicode=True)
