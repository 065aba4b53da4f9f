"""The engagement score, as pure functions of a model and a contact's interactions.

Each interaction is worth ``points = weight[type] x channel[channel] x
direction[direction]`` when it happens, and half that every ``half_life_days`` after.
Per type, the decayed points add up to a *sum*; the type contributes its sum up to its
cap; the score is the contributions' total, at most 100. Every number in an answer is
one of these, so a score can be explained to the loan officer who reads it.

Decay is exponential, so a type's sum is one number that moves in time by one factor:
``State`` holds the sums as of a time, and a new interaction (``add``) or a later
reading (``at``) costs O(types), whatever the contact's history. Bulk scoring
(``engagement_service.recompute``) adds the same terms in SQL; both agree to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crmsync.marketing.settings import EngagementModel

__all__ = ["Contribution", "State", "contributions", "decay", "points", "score"]

DAY = 86_400.0


def points(
    model: EngagementModel, activity_type: str, channel: str | None, direction: str | None
) -> float:
    """What one interaction is worth when it happens."""
    weight = model.weights.get(activity_type, model.default_weight)
    return (
        weight * model.channels.get(channel or "", 1.0) * model.directions.get(direction or "", 1.0)
    )


def decay(model: EngagementModel, seconds: float) -> float:
    """The factor ``seconds`` of ageing apply (none for a negative age: the future)."""
    if seconds <= 0:
        return 1.0
    return math.exp(-math.log(2) * seconds / (model.half_life_days * DAY))


@dataclass
class State:
    """Per type, the decayed sum of points and the number of interactions, as of ``as_of``."""

    as_of: datetime
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def at(self, model: EngagementModel, when: datetime) -> State:
        """The same state read at ``when`` (never earlier than ``as_of``)."""
        if when <= self.as_of:
            return self
        factor = decay(model, (when - self.as_of).total_seconds())
        sums = {k: v * factor for k, v in self.sums.items()}
        return State(when, sums, dict(self.counts))

    def add(
        self,
        model: EngagementModel,
        activity_type: str,
        occurred_at: datetime,
        worth: float,
    ) -> State:
        """The state after one more interaction worth ``worth`` points at ``occurred_at``."""
        moved = self.at(model, occurred_at)
        age = (moved.as_of - occurred_at).total_seconds()
        sums = dict(moved.sums)
        sums[activity_type] = sums.get(activity_type, 0.0) + worth * decay(model, age)
        counts = dict(moved.counts)
        counts[activity_type] = counts.get(activity_type, 0) + 1
        return State(moved.as_of, sums, counts)

    def to_json(self) -> dict[str, dict[str, float | int]]:
        return {"sums": dict(self.sums), "counts": dict(self.counts)}

    @classmethod
    def from_json(cls, as_of: datetime, raw: Mapping[str, object]) -> State:
        sums = raw.get("sums") or {}
        counts = raw.get("counts") or {}
        assert isinstance(sums, Mapping) and isinstance(counts, Mapping)
        return cls(
            as_of,
            {str(k): float(v) for k, v in sums.items()},
            {str(k): int(v) for k, v in counts.items()},
        )


@dataclass(frozen=True, slots=True)
class Contribution:
    """One type's share of a score."""

    type: str
    points: float  # what it adds to the score (capped)
    uncapped: float  # its decayed sum
    cap: float
    interactions: int
    weight: float


def contributions(model: EngagementModel, state: State) -> list[Contribution]:
    """Each type's contribution, largest first."""
    out = [
        Contribution(
            type=kind,
            points=min(value, model.caps.get(kind, model.default_cap)),
            uncapped=value,
            cap=model.caps.get(kind, model.default_cap),
            interactions=state.counts.get(kind, 0),
            weight=model.weights.get(kind, model.default_weight),
        )
        for kind, value in state.sums.items()
    ]
    return sorted(out, key=lambda c: (-c.points, c.type))


def score_of_sums(model: EngagementModel, sums: Mapping[str, float]) -> float:
    total = sum(min(v, model.caps.get(k, model.default_cap)) for k, v in sums.items())
    return round(min(100.0, total), 2)


def score(model: EngagementModel, state: State, when: datetime | None = None) -> float:
    """The 0-100 score of ``state`` read at ``when`` (default: its own time)."""
    return score_of_sums(model, (state.at(model, when) if when else state).sums)
