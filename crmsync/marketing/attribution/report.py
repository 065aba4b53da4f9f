"""Credit a dataset's conversions to its labels (channels, platforms or campaigns).

Every conversion's credit sums to one conversion and to its value. A conversion with no
touch in its lookback window is credited to ``(direct)``, so totals always add up.

Rule models split each conversion over its own path. The Markov model splits the totals
over the labels by their normalised removal effects (as ChannelAttribution does); one
conversion's own split (``conversion_weights``) follows the removal effects of the labels
on its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import numpy as np

from crmsync.marketing.attribution import markov
from crmsync.marketing.attribution.credit import Model, weights
from crmsync.marketing.attribution.paths import ConversionPath, Dataset

DIRECT = "(direct)"


@dataclass(frozen=True)
class Row:
    key: str
    conversions: float
    value: float


@dataclass(frozen=True)
class Report:
    model: Model
    rows: list[Row]
    total_conversions: int
    total_value: float


def removal_effects(dataset: Dataset) -> np.ndarray:
    paths = [markov.Path(tuple(p.labels), True) for p in dataset.converted if p.labels]
    paths += [markov.Path(tuple(labels), False) for labels in dataset.not_converted]
    return markov.removal_effects(paths, len(dataset.labels))


def conversion_weights(
    path: ConversionPath,
    model: Model,
    *,
    half_life_days: float = 7.0,
    effects: np.ndarray | None = None,
) -> list[float]:
    """One conversion's weight per touch of its path (summing to 1 when it has touches)."""
    if model is Model.MARKOV:
        assert effects is not None, "the Markov model needs the dataset's removal effects"
        return markov.path_weights(path.labels, effects)
    converted_at = path.conversion.at.astimezone(UTC).replace(tzinfo=None)  # as path.times
    return weights(model, path.times, converted_at, half_life_days=half_life_days)


def attribute(dataset: Dataset, model: Model, *, half_life_days: float = 7.0) -> Report:
    n = len(dataset.labels)
    counts = np.zeros(n + 1)  # the last slot is (direct)
    values = np.zeros(n + 1)
    touched = [p for p in dataset.converted if p.labels]
    direct = [p for p in dataset.converted if not p.labels]
    counts[n] = len(direct) + dataset.direct
    values[n] = sum(p.conversion.value for p in direct) + dataset.direct_value
    if model is Model.MARKOV:
        effects = removal_effects(dataset)
        norm = effects.sum()
        if norm > 0:
            counts[:n] += len(touched) * effects / norm
            values[:n] += sum(p.conversion.value for p in touched) * effects / norm
        else:  # nothing to learn from: every touched conversion splits evenly
            _add_rule(touched, Model.LINEAR, half_life_days, counts, values)
    else:
        _add_rule(touched, model, half_life_days, counts, values)
    keys = [*dataset.labels, DIRECT]
    rows = [
        Row(keys[i], float(counts[i]), float(values[i]))
        for i in range(n + 1)
        if counts[i] or values[i]
    ]
    rows.sort(key=lambda r: (-r.conversions, -r.value, r.key))
    total_value = float(sum(p.conversion.value for p in dataset.converted) + dataset.direct_value)
    return Report(model, rows, dataset.conversions, total_value)


def _add_rule(
    paths: list[ConversionPath],
    model: Model,
    half_life_days: float,
    counts: np.ndarray,
    values: np.ndarray,
) -> None:
    for path in paths:
        value = path.conversion.value
        for label, weight in zip(
            path.labels, conversion_weights(path, model, half_life_days=half_life_days), strict=True
        ):
            counts[label] += weight
            values[label] += weight * value
