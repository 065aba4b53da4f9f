"""What the field table says about one field and one record type."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    """Value types a canonical field can have (mapping coerces to them)."""

    STRING = "string"
    EMAIL = "email"
    PHONE = "phone"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    LIST = "list"
    OBJECT = "object"


class NumberKind(StrEnum):
    """How a NUMBER field is held: a float, a whole number, or an exact decimal amount."""

    FLOAT = "float"
    INTEGER = "integer"
    DECIMAL = "decimal"


@dataclass(frozen=True, slots=True)
class CanonicalField:
    """One field of a record type, as every layer sees it.

    ``max_length`` bounds a text (for a LIST, each item); ``values`` are an ENUM's
    allowed values; ``relation`` names the record type whose crmsync id the field holds.
    ``synonyms`` and ``translations`` are header spellings (English, other languages)
    shared by every field of the same name; ``preferred`` are spellings that mean this
    field of this record type before any other (``"stage"`` is a lead's status).
    """

    name: str
    type: FieldType
    label: str = ""
    description: str = ""
    required: bool = False
    default: str | None = None
    max_length: int | None = None
    pattern: str | None = None
    values: tuple[str, ...] = ()
    enum: builtins.type[StrEnum] | None = None  # the enum class of ``values``, where one exists
    number: NumberKind = NumberKind.FLOAT
    minimum: float | None = None
    maximum: float | None = None
    max_digits: int | None = None  # DECIMAL: digits in all, of which 2 after the point
    text_values: bool = False  # OBJECT: a map of texts (else any JSON values)
    relation: str | None = None
    importable: bool = True
    searchable: bool = False  # a record list's ``q`` looks in it
    example: str | None = None
    synonyms: tuple[str, ...] = ()
    translations: tuple[str, ...] = ()
    preferred: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.enum is not None:
            object.__setattr__(self, "values", tuple(member.value for member in self.enum))
        if self.type is FieldType.ENUM and not self.values:
            raise ValueError(f"{self.name}: an enum field needs its values")

    @property
    def title(self) -> str:
        """The label, or the name in words (``job_title`` -> ``Job title``)."""
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def in_template(self) -> bool:
        """An import template has a column for it: a value a person types in."""
        return self.importable and self.type is not FieldType.OBJECT and self.relation is None


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """A record type: its fields in order, and whether lead files can import it."""

    label: str
    fields: tuple[CanonicalField, ...]
    importable: bool = False
    description: str = ""
    by_name: dict[str, CanonicalField] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        if len(self.by_name) != len(self.fields):
            raise ValueError(f"{self.label}: a field is listed twice")
