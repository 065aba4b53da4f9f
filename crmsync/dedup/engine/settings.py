"""Per-workspace duplicate-detection settings: which rules run and how strict they are."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CorroborationField = Literal[
    "company", "email_domain", "city", "dob", "phone", "email", "postcode", "address"
]

ALL_CORROBORATION: tuple[CorroborationField, ...] = (
    "company",
    "email_domain",
    "city",
    "dob",
    "phone",
    "email",
    "postcode",
    "address",
)


class DedupSettings(BaseModel):
    """Settings of one workspace; the defaults suit most contact lists.

    `name_threshold` is the similarity (0-1) two names need before the other fields are
    even considered; `match_threshold` is the probability (0-1) a pair needs to count as
    a duplicate. A fuzzy name never counts on its own: at least `min_corroboration` of the
    `corroboration_fields` must agree too.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    exact_email: bool = True
    exact_phone: bool = True
    fuzzy_name: bool = True
    name_threshold: float = Field(default=0.85, ge=0.5, le=1.0)
    match_threshold: float = Field(default=0.9, gt=0.0, lt=1.0)
    # Below a duplicate, from this probability on a pair is a `possible` duplicate: shown
    # for review, never merged or skipped on its own.
    possible_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    corroboration_fields: tuple[CorroborationField, ...] = ALL_CORROBORATION
    min_corroboration: int = Field(default=1, ge=1, le=8)
    # Names changed (marriage) or missing: enough other fields agreeing still match.
    other_fields: bool = True
    min_other_fields: int = Field(default=3, ge=2, le=8)
    # An exact email or phone shared by people whose first names clearly differ
    # (a household phone, a team inbox) is not taken as the same person.
    shared_contact_guard: bool = True
    # Chaining guard: a cluster never holds two records that were compared and found
    # to conflict, and never grows past this size.
    max_cluster_size: int = Field(default=50, ge=2)
    # Candidates compared per blocking key and record (sorted-neighbourhood window).
    window: int = Field(default=10, ge=2, le=1000)
    region: str = Field(default="US", min_length=2, max_length=2)
