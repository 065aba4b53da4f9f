"""The duplicate rules: exact email, exact phone, and a corroborated fuzzy name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmsync.dedup.engine.compare import EMAIL_BOTH_PERSONAL, EMAIL_SAME_EMPLOYER, Similarities
from crmsync.dedup.engine.scoring import AGREES_FROM, PRIOR_BITS, Evidence, weigh
from crmsync.dedup.engine.settings import DedupSettings

# First names this far apart belong to different people (after nicknames and swaps).
FIRST_NAME_CONFLICT = 0.7

# Log2 odds at or below which a compared pair is known to be two people: two records
# this unlike never share a cluster, whatever links them through others.
CONFLICT_BITS = -14.0

# The verdicts a pair can get.
DUPLICATE, POSSIBLE, DISTINCT = "duplicate", "possible", "distinct"

# A fuzzy name needs a field that identifies a person rather than an employer or a place
# to agree before it can be a duplicate (namesake colleagues share the company, its
# domain and its city): the e-mail (at most a typo apart), phone, birth date or address.
IDENTIFYING_EMAIL = 0.93
# ...unless the evidence is overwhelming without one and without the home a household
# shares (a rare name at one company in one city): log2 odds from which it is.
UNIDENTIFIED_BITS = 9.0
# ...or, where no e-mail or phone contradicts, from this score with the city
# or postcode agreeing
UNOPPOSED_PROBABILITY = 0.96

# Name parts this alike are the same name (a nickname's canonical form included).
SAME_NAME = 0.99

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
    # not a duplicate, but likely enough to ask a person (never acted on alone)
    possible: np.ndarray
    # two different addresses that point to two people (same employer, both personal)
    email_conflict: np.ndarray

    @property
    def is_match(self) -> np.ndarray:
        return self.exact_email | self.exact_phone | self.fuzzy_name | self.other_fields

    @property
    def score(self) -> np.ndarray:
        return self.evidence.probability

    def status(self, k: int) -> str:
        """`duplicate`, `possible` or `distinct` for pair `k`."""
        if bool(self.is_match[k]):
            return DUPLICATE
        return POSSIBLE if bool(self.possible[k]) else DISTINCT

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
    # different addresses nothing explains: only a person may decide such a pair
    email_conflict = np.isin(sims.email_kind, (EMAIL_SAME_EMPLOYER, EMAIL_BOTH_PERSONAL))
    exact_email = (sims.email == 1.0) & ~shared_guard & settings.exact_email
    exact_phone = (sims.phone == 1.0) & ~shared_guard & ~email_conflict & settings.exact_phone
    likely = evidence.probability >= settings.match_threshold
    # an address is shared by a household (a father and a son of one name): it identifies
    # only while the e-mails and phones, where both records have them, do not differ
    email_differs = _differs(sims.email, AGREES_FROM["email"])
    phone_differs = _differs(sims.phone, AGREES_FROM["phone"])
    identified = (
        (sims.email >= IDENTIFYING_EMAIL)
        | agrees("phone", sims.phone)
        | agrees("dob", sims.dob)
        | (agrees("address", sims.address) & ~email_differs & ~phone_differs)
    )
    # without the home a household shares (address, postcode)
    personal_bits = (
        evidence.total
        - np.maximum(evidence.weights["address"], 0.0)
        - np.maximum(evidence.weights["postcode"], 0.0)
    )
    overwhelming = personal_bits + PRIOR_BITS >= UNIDENTIFIED_BITS
    # both records have an e-mail or a phone, and they are not the same
    contradicted = email_differs | phone_differs
    # where the person lives, not only where they work (colleagues share the employer)
    placed = agrees("city", sims.city) | agrees("postcode", sims.postcode)
    # nothing identifies, nothing contradicts (registry-style records without e-mail or
    # phone): the place and a stronger score than usual
    unopposed = ~contradicted & placed & (evidence.probability >= UNOPPOSED_PROBABILITY)
    fuzzy_name = (
        (names.similarity >= settings.name_threshold)
        & (corroborations >= settings.min_corroboration)
        & (identified | overwhelming | unopposed)
        & likely
        & ~email_conflict
        & settings.fuzzy_name
    )
    other_fields = (
        (corroborations >= settings.min_other_fields)
        & (identified | ~contradicted)
        & likely
        & ~(shared_guard & sims.reachable & ~agrees("dob", sims.dob))
        & ~email_conflict
        & settings.other_fields
    )
    matched = exact_email | exact_phone | fuzzy_name | other_fields
    # every way to reach them differs (both e-mails, both phones) and nothing personal
    # agrees: what is left (a name, an employer) is what namesake colleagues share, so the
    # pair is worth a person's look only for the same name in the same place
    same_name = (names.first >= SAME_NAME) & (names.last >= SAME_NAME)
    unreachable = email_differs & phone_differs & ~identified & ~(same_name & placed)
    possible = (
        ~matched
        & ~shared_guard
        & ~unreachable
        & (evidence.probability >= settings.possible_threshold)
    )
    # the fields speak clearly against one person
    conflict = ~matched & ((evidence.total + PRIOR_BITS <= CONFLICT_BITS) | email_conflict)
    return Decisions(
        similarities=sims,
        evidence=evidence,
        exact_email=exact_email,
        exact_phone=exact_phone,
        fuzzy_name=fuzzy_name,
        other_fields=other_fields,
        corroborations=corroborations,
        conflict=conflict,
        possible=possible,
        email_conflict=email_conflict,
    )
