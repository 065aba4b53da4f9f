"""Automation rules as data: the typed form (API JSON) and the YAML form.

    name: converted-lead-becomes-deal
    trigger: {record: leads, on: status_entered, to: CONVERTED}     # from: any|app|crm
    when: {field: record.contact_id, op: exists}
    actions:
      - create_record:
          type: deals
          fields: {name: "{{record.first_name}} {{record.last_name}}",
                   contact_id: "{{record.contact_id}}", stage: appointmentscheduled}

Triggers: ``{event: <app event type or prefix.*>}`` or ``{record: <type>, on: created |
changed | stage_entered | status_entered, field: <for changed>, to: <value or list>}``.
Action values may hold ``{{path}}`` placeholders, filled from the same context as
conditions (a plain lookup: no expressions). A YAML file that is not valid is refused
with the line of the rule at fault.
"""

from __future__ import annotations

import re
from typing import Any, Literal, NoReturn

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crmsync.automation.conditions import ConditionInvalid, check

EVENT_PATTERN = re.compile(r"^([a-z][a-z0-9_]*)(\.([a-z0-9_]+|\*))*$|^\*$")
RECORD_TYPES = ("contacts", "companies", "leads", "deals", "tickets")
ACTIVITY_TYPES = ("message", "email", "sms", "call", "meeting", "push_notification")


class RuleInvalid(ValueError):
    def __init__(self, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.details = details or []


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    event: str | None = Field(None, max_length=100)
    record: Literal["contacts", "companies", "leads", "deals", "tickets"] | None = None
    on: Literal["created", "changed", "stage_entered", "status_entered"] | None = None
    field: str | None = Field(None, max_length=100)
    to: str | list[str] | None = None
    source: Literal["any", "app", "crm"] = Field("any", alias="from")

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        if (self.event is None) == (self.record is None):
            raise ValueError("a trigger names an app 'event' or a 'record' type, not both")
        if self.event is not None:
            if not EVENT_PATTERN.match(self.event):
                raise ValueError(f"event {self.event!r} is not an event type such as lead.created")
            if self.on or self.field or self.to is not None:
                raise ValueError("'on', 'field' and 'to' go with a record trigger")
            return self
        if self.on is None:
            raise ValueError(
                "a record trigger says 'on': created, changed, stage_entered, status_entered"
            )
        if self.on == "stage_entered" and self.record != "deals":
            raise ValueError("stage_entered is for deals")
        if self.on == "status_entered" and self.record not in ("leads", "tickets"):
            raise ValueError("status_entered is for leads and tickets")
        if self.on in ("stage_entered", "status_entered") and self.to is None:
            raise ValueError(f"{self.on} needs 'to': the stage or status entered")
        if self.on == "changed" and not self.field:
            raise ValueError("a 'changed' trigger names its 'field'")
        return self

    @property
    def watched_field(self) -> str | None:
        if self.on == "stage_entered":
            return "stage"
        if self.on == "status_entered":
            return "status"
        return self.field


class CreateRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["contacts", "companies", "leads", "deals", "tickets", "notes"]
    fields: dict[str, Any]


class CreateActivity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["message", "email", "sms", "call", "meeting", "push_notification"] = "call"
    subject: str = Field(max_length=255)
    body: str | None = Field(None, max_length=10_000)


class CreateTask(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(max_length=255)
    due_in_days: float = Field(1.0, ge=0, le=365)


class Emit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)


class RaiseAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(max_length=1000)
    severity: Literal["warning", "critical"] = "warning"


class Enrol(BaseModel):
    """A journey by id or by name (one active journey of that name in the workspace), and
    the contact: by default the triggering contact, or the record's or event's
    ``contact_id``."""

    model_config = ConfigDict(extra="forbid")
    journey_id: str | None = Field(None, max_length=100)
    journey: str | None = Field(None, max_length=255)
    contact_id: str | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def _one_journey(self) -> Enrol:
        if (self.journey_id is None) == (self.journey is None):
            raise ValueError("name the journey by 'journey_id' or by 'journey' (its name)")
        return self


class Action(BaseModel):
    """Exactly one of the keys."""

    model_config = ConfigDict(extra="forbid")
    update_fields: dict[str, Any] | None = None
    create_record: CreateRecord | None = None
    create_activity: CreateActivity | None = None
    create_task: CreateTask | None = None
    emit: Emit | None = None
    alert: RaiseAlert | None = None
    enroll: Enrol | None = None
    unenroll: Enrol | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        chosen = [k for k, v in self if v is not None]
        if len(chosen) != 1:
            raise ValueError(
                "an action is one of update_fields, create_record, create_activity, "
                f"create_task, emit, alert, enroll, unenroll (got {chosen or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self if v is not None)


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")
    description: str | None = Field(None, max_length=1000)
    enabled: bool = True
    trigger: Trigger
    when: dict[str, Any] | None = None
    actions: list[Action] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _grammar(self) -> RuleSpec:
        if self.when:
            try:
                check(self.when)
            except ConditionInvalid as exc:
                raise ValueError(str(exc)) from None
        return self


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. YAML 1.1 would read ``on:`` (a trigger's key)
    and ``yes``/``no`` values as booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def parse_yaml(text: str) -> list[RuleSpec]:
    """Every rule of a rules file (``rules:`` list); ``RuleInvalid`` names the line at fault."""
    try:
        root = yaml.compose(text, Loader=_Loader)
        loaded = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or "not valid YAML"
        _refuse(line, None, problem)
    items = loaded.get("rules") if isinstance(loaded, dict) else None
    if not isinstance(items, list) or root is None:
        _refuse(1, None, "a rules file is a mapping with a 'rules' list")
    rules_node = next(v for k, v in root.value if k.value == "rules")
    lines = [node.start_mark.line + 1 for node in rules_node.value]
    specs: list[RuleSpec] = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        try:
            spec = RuleSpec.model_validate(item)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            _refuse(lines[n], name, f"{where}: {first['msg']}" if where else first["msg"])
        if spec.name in seen:
            _refuse(lines[n], name, f"a second rule named {spec.name!r}")
        seen.add(spec.name)
        specs.append(spec)
    return specs


def _refuse(line: int | None, name: Any, message: str) -> NoReturn:
    label = f" (rule {name!r})" if name else ""
    raise RuleInvalid(
        f"line {line}{label}: {message}", [{"line": line, "rule": name, "message": message}]
    )


def dump_yaml(specs: list[RuleSpec]) -> str:
    return yaml.safe_dump(
        {"rules": [s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in specs]},
        sort_keys=False,
    )
