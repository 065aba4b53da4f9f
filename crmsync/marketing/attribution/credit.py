"""The rule-based attribution models: how one conversion's credit splits over its path.

Each function takes a path's touch times (oldest first) and the conversion time and
returns one weight per touch; the weights of a non-empty path sum to 1. Pure functions:
the store and the grouping are ``service``'s business.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

DAY_SECONDS = 86_400.0


class Model(StrEnum):
    FIRST_TOUCH = "first_touch"
    LAST_TOUCH = "last_touch"
    LINEAR = "linear"
    TIME_DECAY = "time_decay"
    POSITION_BASED = "position_based"
    MARKOV = "markov"


def first_touch(n: int) -> list[float]:
    return [1.0] + [0.0] * (n - 1) if n else []


def last_touch(n: int) -> list[float]:
    return [0.0] * (n - 1) + [1.0] if n else []


def linear(n: int) -> list[float]:
    return [1.0 / n] * n if n else []


def position_based(n: int, ends: float = 0.4) -> list[float]:
    """40 % to the first touch, 40 % to the last, 20 % spread over the touches between.

    Two touches share evenly; one takes all.
    """
    if n <= 2:
        return linear(n)
    middle = (1.0 - 2 * ends) / (n - 2)
    return [ends] + [middle] * (n - 2) + [ends]


def time_decay(
    times: Sequence[datetime], converted_at: datetime, half_life_days: float
) -> list[float]:
    """A touch's weight halves for every ``half_life_days`` it lies before the conversion."""
    if not times:
        return []
    half_life = half_life_days * DAY_SECONDS
    raw = [0.5 ** (max((converted_at - t).total_seconds(), 0.0) / half_life) for t in times]
    total = sum(raw)
    return [w / total for w in raw]


def weights(
    model: Model,
    times: Sequence[datetime],
    converted_at: datetime,
    *,
    half_life_days: float = 7.0,
) -> list[float]:
    """One conversion's weights under a rule model (the Markov model is not a rule)."""
    n = len(times)
    if model is Model.FIRST_TOUCH:
        return first_touch(n)
    if model is Model.LAST_TOUCH:
        return last_touch(n)
    if model is Model.LINEAR:
        return linear(n)
    if model is Model.POSITION_BASED:
        return position_based(n)
    if model is Model.TIME_DECAY:
        return time_decay(times, converted_at, half_life_days)
    raise ValueError(f"{model} is not a rule model")
