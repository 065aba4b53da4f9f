"""Synonym table: the header spellings people use for each canonical field.

Phrases are written in normalised form (lower case, words separated by single spaces);
``normalise_header`` turns any header into that form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from crmsync.fields import views
from crmsync.mapping.schema import ObjectType

# Spellings of the canonical fields come from the field table (``crmsync.fields``).
SYNONYMS: Final[dict[str, tuple[str, ...]]] = views.SYNONYMS
# Other languages: Spanish, French, German, Portuguese (accents are ignored on matching).
MULTILINGUAL: Final[dict[str, tuple[str, ...]]] = views.TRANSLATIONS

# Targets an import file may map to besides the canonical fields (see imports.rowmap).
IMPORT_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "external_ref": ("id", "external id", "external ref", "external reference", "record id",
                     "ref", "reference", "unique id", "source id", "crm id", "salesforce id",
                     "hubspot id", "pipedrive id", "import id", "row id", "referencia",
                     "identificador", "id externo", "reference externe", "identifiant",
                     "kennung", "referenz", "identificacao"),
    "full_name": ("name", "full name", "fullname", "contact name", "lead name", "person name",
                  "customer name", "client name", "nombre completo", "nombre y apellidos",
                  "nom complet", "nom et prenom", "vollstandiger name", "vollstaendiger name",
                  "nome completo", "display name"),
}  # fmt: skip
# Ids named after the object ("Lead ID") are that object's external_ref.
IMPORT_OBJECT_SYNONYMS: Final[dict[ObjectType, dict[str, tuple[str, ...]]]] = {
    ObjectType.CONTACTS: {"external_ref": ("contact id", "person id", "customer id", "client id",
                                           "id cliente", "id contacto", "kunden id")},
    ObjectType.LEADS: {"external_ref": ("lead id", "prospect id", "id lead", "id prospecto")},
    ObjectType.DEALS: {"external_ref": ("deal id", "opportunity id", "opportunity id 18")},
    ObjectType.COMPANIES: {"external_ref": ("company id", "account id", "organization id",
                                            "organisation id", "org id")},
}  # fmt: skip

# Where one spelling means different fields per object type, the object's table wins.
OBJECT_SYNONYMS: Final[dict[ObjectType, dict[str, tuple[str, ...]]]] = views.PREFERRED

# Words that qualify a header without changing the field it means ("Contact E-mail").
NOISE_WORDS: Final = frozenset(
    {"contact", "lead", "client", "customer", "person", "primary", "main", "the", "your", "of",
     "field", "deal", "opportunity", "prospect", "buyer", "borrower", "cust", "optional"}
)  # fmt: skip


@lru_cache(maxsize=4096)
def normalise_header(header: str) -> str:
    """Lower-case words without accents or punctuation (``"E-Mail*"`` -> ``"e mail"``)."""
    text = unicodedata.normalize("NFKD", header)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)  # firstName -> first Name
    text = re.sub(r"[^0-9a-zA-Z]+", " ", text.lower())
    text = re.sub(r"\bnbr\b|\bnum\b", "number", text)
    text = re.sub(r"\bno\b(?= *$)", "number", text)
    return " ".join(text.split())


@lru_cache(maxsize=512)
def phrases_for(object_type: ObjectType, field: str) -> tuple[str, ...]:
    """Normalised phrases that name ``field`` of ``object_type``, its own name first."""
    extra = OBJECT_SYNONYMS.get(object_type, {}).get(field, ())
    phrases = (field, *extra, *SYNONYMS.get(field, ()), *MULTILINGUAL.get(field, ()))
    return tuple(dict.fromkeys(normalise_header(p) for p in phrases))


def concept_of(name: str) -> str | None:
    """The canonical field a remote field's name or label stands for, if any."""
    phrase = normalise_header(name)
    compact = phrase.replace(" ", "")
    for field, synonyms in SYNONYMS.items():
        for candidate in (field, *synonyms):
            if normalise_header(candidate).replace(" ", "") == compact:
                return field
    return None


@lru_cache(maxsize=64)
def import_phrases_for(object_type: ObjectType, target: str) -> tuple[str, ...]:
    """Normalised phrases of an import-only target (``external_ref``, ``full_name``)."""
    extra = IMPORT_OBJECT_SYNONYMS.get(object_type, {}).get(target, ())
    phrases = (target, *extra, *IMPORT_SYNONYMS.get(target, ()))
    return tuple(dict.fromkeys(normalise_header(p) for p in phrases))
