"""The data-driven model: a first-order Markov chain over channels and its removal effects.

Every path is a walk ``start -> c1 -> ... -> ck -> (conversion | null)``; converted and
non-converted paths both count. The chain's transition probabilities are the observed
transition frequencies. A channel's **removal effect** is the share of the conversion
probability lost when the channel is taken out (every walk that would enter it ends in
null instead). Credits are the removal effects normalised to sum to the total: the same
estimate ChannelAttribution's ``markov_model`` makes, here solved exactly (a linear system
of one unknown per channel) instead of simulated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Path:
    """A sequence of channel indices (0..n-1), whether it converted, and how often seen."""

    channels: tuple[int, ...]
    converted: bool
    count: float = 1.0


def _transitions(paths: Iterable[Path], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Transition probabilities among the transient states, and into conversion.

    State 0 is ``start``; state ``i + 1`` is channel ``i``.
    """
    counts = np.zeros((n + 1, n + 3))  # columns: start, channels, conversion, null
    conv, null = n + 1, n + 2
    for path in paths:
        if not path.channels:
            continue
        state = 0
        for channel in path.channels:
            counts[state, channel + 1] += path.count
            state = channel + 1
        counts[state, conv if path.converted else null] += path.count
    totals = counts.sum(axis=1, keepdims=True)
    probs = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return probs[:, : n + 1], probs[:, conv]


def _conversion_probability(q: np.ndarray, r: np.ndarray) -> float:
    """P(reaching conversion from start): x = Q x + r, solved for x[start]."""
    size = q.shape[0]
    x = np.linalg.lstsq(np.eye(size) - q, r, rcond=None)[0]
    return float(x[0])


def removal_effects(paths: Sequence[Path], n: int) -> np.ndarray:
    """Each channel's removal effect, in [0, 1]; zeros when nothing converts."""
    q, r = _transitions(paths, n)
    base = _conversion_probability(q, r)
    effects = np.zeros(n)
    if base <= 0.0:
        return effects
    for channel in range(n):
        state = channel + 1
        q_removed = q.copy()
        q_removed[:, state] = 0.0  # entering the channel now ends the walk in null
        q_removed[state, :] = 0.0
        r_removed = r.copy()
        r_removed[state] = 0.0
        effects[channel] = 1.0 - _conversion_probability(q_removed, r_removed) / base
    return np.clip(effects, 0.0, 1.0)


def channel_credits(paths: Sequence[Path], n: int, total: float) -> np.ndarray:
    """``total`` split over the channels in proportion to their removal effects."""
    effects = removal_effects(paths, n)
    norm = effects.sum()
    if norm <= 0.0:
        return np.zeros(n)
    return total * effects / norm


def path_weights(channels: Sequence[int], effects: np.ndarray) -> list[float]:
    """One conversion's weights: its channels share by removal effect, touches of one
    channel share that channel's part evenly; an all-zero path falls back to linear."""
    if not channels:
        return []
    distinct = set(channels)
    norm = sum(float(effects[c]) for c in distinct)
    if norm <= 0.0:
        return [1.0 / len(channels)] * len(channels)
    per_touch = {c: float(effects[c]) / norm / channels.count(c) for c in distinct}
    return [per_touch[c] for c in channels]
