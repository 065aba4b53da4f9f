"""Explanations of a duplicate decision, field by field, for people reviewing it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from crmsync.dedup.engine.rules import RULE_NAMES, Decisions
from crmsync.dedup.engine.scoring import AGREES_FROM

# explained field -> the prepared column shown for it
SHOWN: dict[str, str] = {
    "first": "first",
    "last": "last",
    "email": "email",
    "phone": "phone",
    "dob": "dob",
    "city": "city",
    "company": "company",
    "email_domain": "work_domain",
    "postcode": "postcode",
    "address": "address",
}

LABELS: dict[str, str] = {
    "first": "first name",
    "last": "last name",
    "email": "email",
    "phone": "phone",
    "dob": "date of birth",
    "city": "city",
    "company": "company",
    "email_domain": "email domain",
    "postcode": "postcode",
    "address": "address",
}


@dataclass(frozen=True)
class FieldEvidence:
    """One field of a compared pair: both values, how alike, and what it weighed."""

    field: str
    left: str
    right: str
    similarity: float | None
    weight: float
    agrees: bool


@dataclass(frozen=True)
class PairExplanation:
    """Why two records are (or are not) taken for one person."""

    left_id: str
    right_id: str
    score: float
    rule: str | None
    swapped_names: bool
    fields: tuple[FieldEvidence, ...]
    # weight taken off because many records share the name
    namesake_weight: float = 0.0

    @property
    def matched_fields(self) -> tuple[str, ...]:
        return tuple(f.field for f in self.fields if f.agrees)

    @property
    def against(self) -> tuple[str, ...]:
        """The fields that weigh against one person (both present, weight below 0)."""
        return tuple(f.field for f in self.fields if f.similarity is not None and f.weight < 0)

    def text(self) -> str:
        parts = [_describe(f) for f in self.fields if f.similarity is not None]
        verdict = f"duplicate by {self.rule}" if self.rule else "not a duplicate"
        swapped = "; first and last names swapped" if self.swapped_names else ""
        if self.namesake_weight:
            swapped += f"; a common name [{self.namesake_weight:+.1f}]"
        return f"{verdict} (score {self.score:.3f}){swapped}: " + "; ".join(parts)


def _describe(f: FieldEvidence) -> str:
    label = LABELS[f.field]
    assert f.similarity is not None
    if f.similarity >= 1.0:
        how = f"same ({f.left})"
    elif f.agrees:
        how = f"similar {f.similarity:.2f} ({f.left} ~ {f.right})"
    else:
        how = f"differs ({f.left} / {f.right})"
    return f"{label} {how} [{f.weight:+.1f}]"


def explain_pair(
    decisions: Decisions,
    k: int,
    left: Mapping[str, np.ndarray],
    right: Mapping[str, np.ndarray],
) -> PairExplanation:
    """Explanation of pair `k`, whose prepared values are row `k` of `left` and `right`."""
    return explain_pairs(decisions, [k], left, right)[0]


def explain_pairs(
    decisions: Decisions,
    ks: Sequence[int],
    left: Mapping[str, np.ndarray],
    right: Mapping[str, np.ndarray],
) -> list[PairExplanation]:
    """Explanations of the pairs `ks`: the values of all of them are read at once, since
    reading numpy arrays element by element costs more than building the explanations."""
    at = np.asarray(ks, dtype=np.int64)
    evidence = decisions.evidence
    swapped = evidence.names.swapped[at].tolist()
    sims = {
        "first": evidence.names.first[at].tolist(),
        "last": evidence.names.last[at].tolist(),
        **{
            f: getattr(decisions.similarities, f)[at].tolist()
            for f in SHOWN
            if f not in ("first", "last")
        },
    }
    weights = {f: evidence.weights[f][at].tolist() for f in (*SHOWN, "namesakes")}
    lefts = {c: left[c][at].tolist() for c in {*SHOWN.values(), "id"}}
    rights = {c: right[c][at].tolist() for c in {*SHOWN.values(), "id"}}
    rules = {name: getattr(decisions, name)[at].tolist() for name in RULE_NAMES}
    scores = decisions.score[at].tolist()
    out = []
    for n in range(len(at)):
        fields = []
        for field, column in SHOWN.items():
            sim = float(sims[field][n])
            rcol = column
            if swapped[n] and field in ("first", "last"):
                rcol = "last" if field == "first" else "first"
            fields.append(
                FieldEvidence(
                    field=field,
                    left=str(lefts[column][n]),
                    right=str(rights[rcol][n]),
                    similarity=None if math.isnan(sim) else round(sim, 4),
                    weight=float(weights[field][n]),
                    agrees=sim >= AGREES_FROM[field] - 1e-9,
                )
            )
        out.append(
            PairExplanation(
                left_id=str(lefts["id"][n]),
                right_id=str(rights["id"][n]),
                score=round(float(scores[n]), 4),
                rule=next((name for name in RULE_NAMES if rules[name][n]), None),
                swapped_names=bool(swapped[n]),
                fields=tuple(fields),
                namesake_weight=round(float(weights["namesakes"][n]), 2),
            )
        )
    return out
