"""Evidence weights: how much each field's agreement says about two records being one person.

Each field's similarity falls into a level, and each level carries a weight in bits
(log2 of how much likelier that agreement is between duplicates than between strangers).
The weights are fixed, general-purpose values, not fitted to any one data set. The sum of
the weights and a prior gives the match probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmsync.dedup.engine.compare import Similarities
from crmsync.dedup.engine.frequency import adjustment

# Prior odds (in bits) that two records sharing a blocking key are the same person.
PRIOR_BITS = -5.0
# A name may recur this often (a person's own duplicates) before it counts for less.
NAMESAKES_FREE = 4.0
# Used when first and last names match only after swapping them.
SWAP_PENALTY = 1.0

# field -> ((lowest similarity of the level, weight in bits), ...) best level first;
# the last weight applies below every listed level, a missing field weighs 0.
LEVELS: dict[str, tuple[tuple[float, float], ...]] = {
    "first": ((0.99, 4.0), (0.92, 2.5), (0.85, 0.0), (0.0, -3.0)),
    "last": ((0.99, 6.0), (0.92, 4.0), (0.85, 2.0), (0.0, -5.0)),
    # different addresses weigh by how they differ (EMAIL_KIND_WEIGHT), not here
    "email": ((1.0, 14.0), (0.93, 3.0), (0.85, 2.0), (0.0, 0.0)),
    # Fellegi-Sunter disagreement: one person's records carry different numbers (office,
    # mobile) far less often than two people's do
    "phone": ((1.0, 14.0), (0.0, -3.0)),
    "dob": ((1.0, 8.0), (0.9, 3.0), (0.5, -1.0), (0.0, -4.0)),
    "city": ((0.95, 2.0), (0.85, 1.5), (0.0, -1.0)),
    "company": ((0.9, 3.0), (0.0, -0.5)),
    "email_domain": ((1.0, 3.0), (0.0, 0.0)),
    "postcode": ((1.0, 4.0), (0.8, 1.0), (0.0, -1.5)),
    "address": ((0.9, 5.0), (0.75, 2.0), (0.0, -1.5)),
}

# The similarity from which a field counts as agreeing (corroboration, explanations).
AGREES_FROM: dict[str, float] = {
    "first": 0.85,
    "last": 0.85,
    "email": 0.85,
    "phone": 1.0,
    "dob": 0.9,
    "city": 0.85,
    "company": 0.9,
    "email_domain": 1.0,
    "postcode": 1.0,
    "address": 0.75,
}

# Weight of two different e-mail addresses, by how they differ (compare.EMAIL_*): two
# addresses at one employer are nearly always two people (namesake colleagues); two
# personal ones often are (a household); a new employer's address or a personal beside a
# work one is how one person's records commonly differ.
EMAIL_KIND_WEIGHT = np.array([0.0, -8.0, -4.0, -2.0, -1.0])
# Name parts this alike count as agreeing on one name for the frequency adjustment.
FREQUENCY_FROM = 0.92

OTHER_FIELDS = ("email", "phone", "dob", "city", "company", "email_domain", "postcode", "address")


def level_weight(field: str, sim: np.ndarray) -> np.ndarray:
    """Weight in bits of each similarity of `field`; 0 where it is missing (NaN)."""
    levels = LEVELS[field]
    weights = np.full(len(sim), levels[-1][1])
    for floor, weight in reversed(levels[:-1]):
        weights = np.where(sim >= floor - 1e-9, weight, weights)
    return np.where(np.isnan(sim), 0.0, weights)


@dataclass(frozen=True)
class Names:
    """The name comparison after choosing straight or swapped order per pair."""

    similarity: np.ndarray  # NaN when no name part is comparable
    first: np.ndarray
    last: np.ndarray
    swapped: np.ndarray  # bool


def names(sims: Similarities) -> Names:
    """Average of the comparable name parts, trying first/last swapped too."""
    parts = np.vstack([sims.first, sims.last])
    counts = np.sum(~np.isnan(parts), axis=0)
    total = np.nansum(parts, axis=0)
    straight = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    crossed = (sims.first_cross + sims.last_cross) / 2  # NaN unless all four names exist
    swapped = crossed > straight + 0.05  # NaN (a missing name) compares False
    return Names(
        similarity=np.where(swapped, crossed, straight),
        first=np.where(swapped, sims.first_cross, sims.first),
        last=np.where(swapped, sims.last_cross, sims.last),
        swapped=swapped,
    )


@dataclass(frozen=True)
class Evidence:
    """Per-pair weights by field, their total, and the match probability."""

    names: Names
    weights: dict[str, np.ndarray]
    total: np.ndarray
    probability: np.ndarray


def namesake_weight(name: Names, namesakes: np.ndarray) -> np.ndarray:
    """Less credit for agreeing names that many records share (every John Smith)."""
    alike = (name.first >= 0.92) & (name.last >= 0.92)
    excess = np.log2(np.maximum(namesakes / NAMESAKES_FREE, 1.0))
    return np.where(alike, -excess, 0.0)


def weigh(sims: Similarities) -> Evidence:
    """Weights in bits of every field of every pair, and the resulting probability."""
    name = names(sims)
    first_tf = np.where(name.first >= FREQUENCY_FROM, adjustment("first", sims.first_share), 0.0)
    last_tf = np.where(name.last >= FREQUENCY_FROM, adjustment("last", sims.last_share), 0.0)
    weights = {
        "first": level_weight("first", name.first) + first_tf,
        "last": level_weight("last", name.last)
        + last_tf
        - np.where(name.swapped, SWAP_PENALTY, 0.0),
    }
    for field in OTHER_FIELDS:
        weights[field] = level_weight(field, getattr(sims, field))
    weights["email"] = weights["email"] + EMAIL_KIND_WEIGHT[sims.email_kind]
    # one employer, told twice (its name and its e-mail domain): counted once
    weights["email_domain"] = np.where(weights["company"] > 0, 0.0, weights["email_domain"])
    weights["namesakes"] = namesake_weight(name, sims.namesakes)
    total = np.sum(np.vstack(list(weights.values())), axis=0)
    probability = 1.0 / (1.0 + np.exp2(-(total + PRIOR_BITS)))
    return Evidence(names=name, weights=weights, total=total, probability=probability)
