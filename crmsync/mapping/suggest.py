"""Mapping suggestions: which target field each source header most likely means.

Evidence, strongest first: the values (a column of e-mail addresses is an e-mail field
under any header), an exact match of the normalised header with a field name or one of
its synonyms, then fuzzy similarity (rapidfuzz). Each target is proposed for at most one
source; every suggestion lists the next best alternatives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from rapidfuzz import fuzz

from crmsync.mapping.detect import detect_type
from crmsync.mapping.schema import CANONICAL_SCHEMA, FieldType, ObjectType
from crmsync.mapping.synonyms import (
    IMPORT_SYNONYMS,
    NOISE_WORDS,
    concept_of,
    import_phrases_for,
    normalise_header,
    phrases_for,
)

# Below this a suggestion is only listed as an alternative.
THRESHOLD: Final = 0.6
MAX_ALTERNATIVES: Final = 3
_FUZZY_WEIGHT: Final = 0.9
_NOISE_PENALTY: Final = 0.97
_STRONG_TYPES: Final = {FieldType.EMAIL: 0.97, FieldType.PHONE: 0.93}
_MISMATCH_FACTOR: Final = 0.5
# A phrase's word is "in" a header when it resembles part of it this much (0-100):
# "mailing" in "billing city", "address" in "street addr"; not "birth" in "create date".
_WORD_PRESENT: Final = 70


@dataclass(frozen=True, slots=True)
class TargetField:
    """A field that can be mapped to: a canonical field or a remote CRM property."""

    name: str
    label: str | None = None
    type: FieldType | None = None


@dataclass(frozen=True, slots=True)
class Alternative:
    target: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The proposed target of one source field (None when nothing is likely enough)."""

    source: str
    target: str | None
    confidence: float
    alternatives: list[Alternative] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Target:
    name: str
    type: FieldType | None
    phrases: tuple[str, ...]


def _targets(
    target: ObjectType | str | Sequence[TargetField], for_import: bool = False
) -> list[_Target]:
    if isinstance(target, str):
        object_type = ObjectType(target)
        fields = CANONICAL_SCHEMA[object_type]
        found = [
            _Target(name, kind, phrases_for(object_type, name)) for name, kind in fields.items()
        ]
        if for_import:
            extra = [t for t in IMPORT_SYNONYMS if t != "full_name" or _has_names(object_type)]
            found += [_Target(t, None, import_phrases_for(object_type, t)) for t in extra]
        return found
    out: list[_Target] = []
    for remote in target:
        # Salesforce custom fields end in __c, HubSpot's own properties start with hs_
        bare = re.sub(r"__c$|^hs_", "", remote.name)
        names = [bare] + ([remote.label] if remote.label else [])
        phrases = [normalise_header(n) for n in names]
        for name in names:
            concept = concept_of(name)
            if concept is not None:
                phrases.extend(phrases_for(ObjectType.CONTACTS, concept))
        out.append(_Target(remote.name, remote.type, tuple(dict.fromkeys(phrases))))
    return out


def _has_names(object_type: ObjectType) -> bool:
    return {"first_name", "last_name"} <= CANONICAL_SCHEMA[object_type].keys()


def _words_present(phrase: str, compact_header: str) -> bool:
    """Every word of ``phrase`` (of three letters or more) appears, give or take a typo,
    in the header: similar spelling alone does not make a field (``Create Date`` is not
    ``Birth Date``, ``Lead Owner`` is not ``Lead Name``)."""
    return all(
        fuzz.partial_ratio(word, compact_header) >= _WORD_PRESENT
        for word in phrase.split()
        if len(word) >= 3
    )


def _name_score(header: str, phrases: tuple[str, ...]) -> float:
    compact = header.replace(" ", "")
    best = 0.0
    for phrase in phrases:
        if phrase.replace(" ", "") == compact:
            return 1.0
        if not _words_present(phrase, compact):
            continue
        similarity = max(fuzz.ratio(header, phrase), fuzz.token_sort_ratio(header, phrase))
        best = max(best, similarity / 100 * _FUZZY_WEIGHT)
    return best


def _strip_noise(header: str) -> str:
    words = [w for w in header.split() if w not in NOISE_WORDS]
    return " ".join(words)


def _score(header: str, target: _Target, detected: FieldType | None) -> float:
    score = _name_score(header, target.phrases)
    stripped = _strip_noise(header)
    if stripped and stripped != header:
        score = max(score, _name_score(stripped, target.phrases) * _NOISE_PENALTY)
    if detected in _STRONG_TYPES:
        if target.type is detected:
            score = max(score, _STRONG_TYPES[detected])
        elif target.type is not None:
            score *= _MISMATCH_FACTOR
    return round(min(score, 1.0), 3)


def suggest_mappings(
    fields: Sequence[str],
    samples: Mapping[str, Sequence[Any]] | None,
    target: ObjectType | str | Sequence[TargetField],
    region: str = "US",
    *,
    for_import: bool = False,
) -> list[Suggestion]:
    """One suggestion per source field, in the order given.

    ``for_import`` adds the targets only an import file has: ``external_ref`` (the
    file's own id: ``Lead ID``, ``Record ID``) and ``full_name`` (split into first and
    last name).
    """
    targets = _targets(target, for_import)
    scores: dict[str, list[tuple[float, str]]] = {}
    for source in fields:
        header = normalise_header(source)
        detected = detect_type((samples or {}).get(source, ()), region)
        ranked = sorted(((_score(header, t, detected), t.name) for t in targets), reverse=True)
        scores[source] = ranked
    # greedy one-to-one assignment, best pairs first
    pairs = sorted(
        ((score, source, name) for source, ranked in scores.items() for score, name in ranked),
        key=lambda item: -item[0],
    )
    chosen: dict[str, tuple[str, float]] = {}
    taken: set[str] = set()
    for score, source, name in pairs:
        if score < THRESHOLD:
            break
        if source in chosen or name in taken:
            continue
        chosen[source] = (name, score)
        taken.add(name)
    suggestions = []
    for source in fields:
        best: str | None = None
        confidence = 0.0
        if source in chosen:
            best, confidence = chosen[source]
        alternatives = [
            Alternative(other, score)
            for score, other in scores[source]
            if other != best and score > 0
        ][:MAX_ALTERNATIVES]
        suggestions.append(Suggestion(source, best, confidence, alternatives))
    return suggestions
