"""The items of a setup plan and the outcome of applying one."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class ItemKind(StrEnum):
    """What a setup item makes on the CRM side."""

    PROPERTY_GROUP = "property_group"
    FIELD = "field"
    EXTERNAL_ID = "external_id"
    WEBHOOK = "webhook"


class ItemState(StrEnum):
    """Where an item stands before anything is applied."""

    PRESENT = "present"
    MISSING = "missing"
    MANUAL = "manual"  # the CRM's API cannot do it: ``steps`` say what to click


class Outcome(StrEnum):
    """What applying an item did."""

    CREATED = "created"
    EXISTS = "exists"
    FAILED = "failed"
    MANUAL = "manual"


@dataclass(frozen=True)
class SetupItem:
    """One thing the integration needs in the CRM.

    ``name`` is the CRM's name for it (property, field, group, or the webhook's event);
    ``remote_type`` is the CRM's type, ``options`` the choices of an enumeration.
    """

    kind: ItemKind
    name: str
    state: ItemState
    object_type: str | None = None
    remote_object: str | None = None
    label: str = ""
    remote_type: str | None = None
    options: tuple[str, ...] = ()
    group: str | None = None
    steps: tuple[str, ...] = ()
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_state(self, state: ItemState, detail: str = "") -> SetupItem:
        return replace(self, state=state, detail=detail or self.detail)

    def with_steps(self, *steps: str) -> SetupItem:
        return replace(self, steps=steps)

    @property
    def key(self) -> str:
        """Unique within a plan: kind, remote object and name."""
        return f"{self.kind.value}:{self.remote_object or ''}:{self.name}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "name": self.name,
            "state": self.state.value,
            "object": self.object_type,
            "remote_object": self.remote_object,
        }
        if self.label:
            out["label"] = self.label
        if self.remote_type:
            out["type"] = self.remote_type
        if self.options:
            out["options"] = list(self.options)
        if self.group:
            out["group"] = self.group
        if self.steps:
            out["steps"] = list(self.steps)
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one item; ``reason`` is the CRM's own words when it failed."""

    item: SetupItem
    outcome: Outcome
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        out = {**self.item.to_json(), "outcome": self.outcome.value}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class SetupPlan:
    """Every item, in the order apply takes them (groups before their fields)."""

    provider: str
    items: tuple[SetupItem, ...]
    webhook_url: str

    @property
    def missing(self) -> list[SetupItem]:
        return [i for i in self.items if i.state is ItemState.MISSING]

    def to_json(self) -> dict[str, Any]:
        counts = {s.value: sum(1 for i in self.items if i.state is s) for s in ItemState}
        return {
            "provider": self.provider,
            "webhook_url": self.webhook_url,
            "counts": counts,
            "items": [i.to_json() for i in self.items],
        }


@dataclass(frozen=True)
class SetupReport:
    """What ``apply`` did, item by item."""

    provider: str
    results: tuple[ItemResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.outcome is not Outcome.FAILED for r in self.results)

    def to_json(self) -> dict[str, Any]:
        counts = {o.value: sum(1 for r in self.results if r.outcome is o) for o in Outcome}
        return {
            "provider": self.provider,
            "ok": self.ok,
            "counts": counts,
            "items": [r.to_json() for r in self.results],
        }
