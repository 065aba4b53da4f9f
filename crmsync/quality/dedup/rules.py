"""The duplicate rules: exact email, exact phone, and a corroborated fuzzy name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmsync.quality.dedup.compare import Similarities
from crmsync.quality.dedup.scoring import AGREES_FROM, PRIOR_BITS, Evidence, weigh
from crmsync.quality.dedup.settings import DedupSettings

# First names this far apart belong to different people (after nicknames and swaps).
FIRST_NAME_CONFLICT = 0.7

# Log2 odds at or below which a compared pair is known to be two people.
CONFLICT_BITS = -14.0

RULE_NAMES = ("exact_email", "exact_phone", "fuzzy_name", "other_fields")


@dataclass(frozen=True)
class Decisions:
    """What the rules concluded for each compared pair."""

    similarities: Similarities
    evidence: Evidence
    exact_email: np.ndarray
    exact_phone: np.ndarray
    fuzzy_name: np.ndarray
    other_fields: np.ndarray
    corroborations: np.ndarray
    # a pair of different people: never put in one cluster, whatever chains them
    conflict: np.ndarray

    @property
    def is_match(self) -> np.ndarray:
        return self.exact_email | self.exact_phone | self.fuzzy_name | self.other_fields

    @property
    def score(self) -> np.ndarray:
        return self.evidence.probability

    def rule(self, k: int) -> str | None:
        """The first rule that matched pair `k`."""
        for name in RULE_NAMES:
            if bool(getattr(self, name)[k]):
                return name
        return None


def agrees(field: str, sim: np.ndarray) -> np.ndarray:
    """Whether `field` agrees, pair by pair (a missing field never agrees)."""
    return sim >= AGREES_FROM[field] - 1e-9  # NaN compares False


def _differs(sim: np.ndarray, below: float) -> np.ndarray:
    return ~np.isnan(sim) & (sim < below)


def decide(sims: Similarities, settings: DedupSettings) -> Decisions:
    """Apply the workspace's rules to compared pairs."""
    evidence = weigh(sims)
    names = evidence.names
    corroborations = np.zeros(len(sims), dtype=np.int64)
    for field in settings.corroboration_fields:
        corroborations += agrees(field, getattr(sims, field))

    first_conflict = _differs(names.first, FIRST_NAME_CONFLICT)
    shared_guard = first_conflict if settings.shared_contact_guard else np.zeros(len(sims), bool)
    exact_email = (sims.email == 1.0) & ~shared_guard & settings.exact_email
    exact_phone = (sims.phone == 1.0) & ~shared_guard & settings.exact_phone
    likely = evidence.probability >= settings.match_threshold
    fuzzy_name = (
        (names.similarity >= settings.name_threshold)
        & (corroborations >= settings.min_corroboration)
        & likely
        & settings.fuzzy_name
    )
    other_fields = (corroborations >= settings.min_other_fields) & likely & settings.other_fields
    matched = exact_email | exact_phone | fuzzy_name | other_fields
    # the fields speak clearly against one person (odds below 1 in 16,000)
    conflict = ~matched & (evidence.total + PRIOR_BITS <= CONFLICT_BITS)
    return Decisions(
        similarities=sims,
        evidence=evidence,
        exact_email=exact_email,
        exact_phone=exact_phone,
        fuzzy_name=fuzzy_name,
        other_fields=other_fields,
        corroborations=corroborations,
        conflict=conflict,
    )
