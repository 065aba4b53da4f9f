"""Value maps of an import: per column, source value -> canonical value.

Values are matched case-, accent- and punctuation-insensitively (``Open - Not
Contacted``, ``open not contacted`` and ``OPEN_NOT_CONTACTED`` are one key). A column
mapped to an enum field (a lead's ``status``, a contact's ``contact_type``) also
matches the field's canonical values that way without any map, and so does a deal's
``stage`` (which takes any value) with the stages crmsync knows. Values a map does not
know follow its ``unknown`` policy: ``error`` (the row fails), ``keep`` (the field is
left empty and the value is kept in ``custom_fields.<field>``) or ``default``.

Suggestions for values nothing matches come from synonyms (the shipped providers'
status maps, ``Open - Not Contacted`` -> NEW, plus common words in five languages) and
from similarity to the canonical values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz

from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.schema import DEAL_STAGES, ENUM_VALUES, ObjectType

# A suggested value map entry below this similarity is not offered.
SUGGEST_FROM: Final = 0.72
_SYNONYM_CONFIDENCE: Final = 0.95
# Providers whose lead status values are words a file may hold (Pipedrive's are booleans).
_STATUS_PROVIDERS: Final = ("salesforce", "hubspot", "totalexpert")
# Fields that take any value but whose values the shipped status maps translate (a
# Salesforce report's "Closed Won" is CLOSED_WON, as a sync would read it): (object type,
# field) -> (status map, the canonical values). Values nothing knows are kept.
_OPEN_STATUS_FIELDS: Final[dict[tuple[str, str], tuple[str, tuple[str, ...]]]] = {
    ("deals", "stage"): ("deal_stage", DEAL_STAGES),
}
# Per field, the status map each provider keeps it in.
_STATUS_MAPS: Final[dict[tuple[str, str], str]] = {
    ("leads", "status"): "lead_status",
    **{key: name for key, (name, _) in _OPEN_STATUS_FIELDS.items()},
}

# canonical value -> other words for it, by (object type, field); normalised on use
_WORDS: Final[dict[tuple[str, str], dict[str, tuple[str, ...]]]] = {
    ("leads", "status"): {
        "NEW": ("new lead", "open", "fresh", "nuevo", "nueva", "nouveau", "neu", "novo",
                "not contacted", "untouched", "sin contactar"),
        "CONTACTED": ("working", "in progress", "attempted", "attempted to contact",
                      "contactado", "contactada", "contacte", "kontaktiert", "contatado",
                      "en proceso", "en cours", "called", "follow up"),
        "QUALIFIED": ("sales qualified", "marketing qualified", "sql", "mql", "hot", "warm",
                      "calificado", "cualificado", "qualifie", "qualifiziert", "qualificado"),
        "VIEWING_SCHEDULED": ("appointment set", "viewing booked", "showing scheduled",
                              "visita programada", "visite planifiee"),
        "VIEWED": ("appointment held", "showing done", "visited", "visitado"),
        "NEGOTIATING": ("negotiation", "offer made", "proposal", "negociando", "negociacion",
                        "negociation", "verhandlung", "negociacao"),
        "CONVERTED": ("won", "closed won", "customer", "converted to customer", "convertido",
                      "ganado", "gagne", "gewonnen", "ganho", "closed converted"),
        "LOST": ("unqualified", "disqualified", "closed lost", "dead", "junk", "not interested",
                 "perdido", "perdu", "verloren", "descartado", "closed not converted",
                 "bad timing"),
    },
    ("contacts", "contact_type"): {
        "borrower": ("client", "applicant", "cliente", "prestatario", "emprunteur"),
        "loan_officer": ("lo", "mortgage officer", "loan originator", "mlo", "oficial de credito"),
        "realtor": ("agent", "real estate agent", "realtor partner", "agente inmobiliario",
                    "agent immobilier", "makler", "corretor"),
        "broker": ("mortgage broker", "insurance broker", "corredor", "courtier"),
        "partner": ("referral partner", "affiliate", "socio", "partenaire"),
        "customer": ("buyer", "purchaser", "comprador", "acheteur", "kunde"),
    },
}  # fmt: skip


class UnknownValue(StrEnum):
    ERROR = "error"  # the row fails
    KEEP = "keep"  # field left empty, the value kept in custom_fields.<field>
    DEFAULT = "default"  # ``default`` instead


class ValueMap(BaseModel):
    """One column's value translations and what to do with the values it does not list."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, str] = Field(default_factory=dict, description="source -> canonical")
    status_map: str | None = Field(
        None,
        description="reuse a status map's inbound table: '<provider>/<map>' (a shipped "
        "default) or '<integration id>/<map>'",
    )
    unknown: UnknownValue = UnknownValue.ERROR
    default: str | None = None

    @model_validator(mode="after")
    def _default_given(self) -> ValueMap:
        if self.unknown is UnknownValue.DEFAULT and self.default is None:
            raise ValueError("unknown=default needs a default value")
        return self


def value_key(value: Any) -> str:
    """The matching key of a value: lower case, no accents, letters and digits only."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def enum_values(object_type: str, field: str) -> tuple[str, ...]:
    """The canonical values of an enum field, () for a field that takes any value."""
    try:
        return ENUM_VALUES.get((ObjectType(object_type), field), ())
    except ValueError:
        return ()


MISS: Final = object()  # a value the map does not know


@dataclass(frozen=True, slots=True)
class CompiledValueMap:
    """A column's value map ready to look values up (explicit entries over canonical)."""

    table: dict[str, str]
    policy: ValueMap | None
    takes_any: bool = False  # a value the table does not know is no unknown value

    def lookup(self, value: Any) -> Any:
        """The canonical value, or ``MISS``."""
        return self.table.get(value_key(value), MISS)


def compile_value_map(
    object_type: str, field: str, value_map: ValueMap | None
) -> CompiledValueMap | None:
    """None when the column needs no translation (no map, not an enum field).

    An enum field takes its canonical values. A column with no value map of its own also
    takes the CRMs' own picklist values as crmsync's shipped status maps read them
    (Salesforce's ``Open - Not Contacted`` is NEW), matched exactly, never by similarity:
    a broker's CRM export imports as crmsync would sync it. A column with a value map is
    translated by that map alone.
    """
    canonical = enum_values(object_type, field)
    if value_map is None and not canonical:
        if (object_type, field) not in _OPEN_STATUS_FIELDS:
            return None
        _, known = _OPEN_STATUS_FIELDS[object_type, field]
        table = {**crm_values(object_type, field), **{value_key(v): v for v in known}}
        return CompiledValueMap(table, None, takes_any=True)
    table = crm_values(object_type, field) if value_map is None and canonical else {}
    table.update({value_key(v): v for v in canonical})
    if value_map is not None:
        table.update({value_key(k): v for k, v in value_map.values.items()})
    return CompiledValueMap(table, value_map)


@cache
def crm_values(object_type: str, field: str) -> dict[str, str]:
    """Value key -> canonical value, from the shipped status maps of the CRMs only."""
    out: dict[str, str] = {}
    name = _STATUS_MAPS.get((object_type, field))
    for provider in _STATUS_PROVIDERS if name else ():
        status_maps = default_mapping(provider).status_maps
        for remote, canonical in status_maps[name].inbound.items() if name in status_maps else ():
            if not remote.isdigit():  # a stage id ("3") says nothing in a file
                out.setdefault(value_key(remote), canonical)
    open_field = _OPEN_STATUS_FIELDS.get((object_type, field))
    allowed = set(open_field[1] if open_field else enum_values(object_type, field))
    return {k: v for k, v in out.items() if k and v in allowed}


@cache
def synonyms(object_type: str, field: str) -> dict[str, str]:
    """Value key -> canonical value, from the word table and the shipped status maps."""
    out: dict[str, str] = {}
    for canonical, words in _WORDS.get((object_type, field), {}).items():
        for word in words:
            out.setdefault(value_key(word), canonical)
    for key, canonical in crm_values(object_type, field).items():
        out.setdefault(key, canonical)
    allowed = set(enum_values(object_type, field))
    return {k: v for k, v in out.items() if k and v in allowed}


@dataclass(frozen=True, slots=True)
class ValueSuggestion:
    value: str
    target: str
    confidence: float


def suggest_values(object_type: str, field: str, values: Iterable[Any]) -> list[ValueSuggestion]:
    """For each value an enum field does not take, the canonical value it most likely means."""
    canonical = enum_values(object_type, field)
    if not canonical:
        return []
    known = {value_key(v) for v in canonical}
    words = synonyms(object_type, field)
    out: list[ValueSuggestion] = []
    for value in dict.fromkeys(str(v) for v in values):
        key = value_key(value)
        if not key or key in known:
            continue
        if key in words:
            out.append(ValueSuggestion(value, words[key], _SYNONYM_CONFIDENCE))
            continue
        best, score = "", 0.0
        for candidate, target in [*((value_key(c), c) for c in canonical), *words.items()]:
            similarity = fuzz.ratio(key, candidate) / 100
            if similarity > score:
                best, score = target, similarity
        if score >= SUGGEST_FROM:
            out.append(ValueSuggestion(value, best, round(score * 0.9, 3)))
    return out


def inbound_table(status_maps: Mapping[str, Any], name: str) -> dict[str, str]:
    """The ``inbound`` table of a status map of a ``MappingSet``; KeyError when absent."""
    return dict(status_maps[name].inbound)
