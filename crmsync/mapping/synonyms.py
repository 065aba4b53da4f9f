"""Synonym table: the header spellings people use for each canonical field.

Phrases are written in normalised form (lower case, words separated by single spaces);
``normalise_header`` turns any header into that form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from crmsync.mapping.schema import ObjectType

SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "email": ("e mail", "email address", "e mail address", "mail", "email id", "primary email",
              "work email", "personal email", "business email", "courriel", "correo",
              "correo electronico", "email addr", "mail address", "emails", "electronic mail"),
    "phone": ("telephone", "tel", "phone number", "mobile", "mobile phone", "mobile number",
              "cell", "cell phone", "cellphone", "home phone", "work phone", "contact number",
              "phone no", "ph", "telefono", "handy", "whatsapp", "mobile no", "tel no",
              "primary phone", "phone num", "telephone number", "cell number", "phones", "mob"),
    "first_name": ("first", "first name", "given name", "forename", "fname", "christian name",
                   "prenom", "nombre", "vorname", "f name", "name first", "first nm", "given"),
    "last_name": ("last", "last name", "surname", "family name", "lname", "apellido",
                  "apellidos", "nachname", "l name", "name last", "last nm", "second name"),
    "company": ("company name", "organisation", "organization", "employer", "business",
                "business name", "firm", "account name", "org", "organisation name",
                "organization name", "employer name", "company nm"),
    "job_title": ("title", "job title", "position", "role", "designation", "occupation", "job",
                  "job role", "job position", "position title"),
    "contact_type": ("type", "contact type", "category", "persona", "relationship",
                     "contact category", "client type", "customer type"),
    "lifecycle_stage": ("lifecycle", "lifecycle stage", "funnel stage", "life cycle stage",
                        "marketing stage"),
    "status": ("status", "contact status", "lead status", "state of lead", "current status"),
    "source": ("source", "lead source", "origin", "channel", "referral source", "referred by",
               "how did you hear about us", "acquisition channel", "source of lead"),
    "utm_source": ("utm source", "campaign source"),
    "utm_medium": ("utm medium", "campaign medium", "medium"),
    "utm_campaign": ("utm campaign", "campaign", "campaign name"),
    "utm_term": ("utm term", "keyword", "search term", "campaign term", "keywords"),
    "utm_content": ("utm content", "ad content", "campaign content", "ad variant"),
    "address_line1": ("address", "street", "street address", "address 1", "address line 1",
                      "addr1", "addr 1", "mailing street", "street1", "street 1", "mailing address",
                      "home address", "address line1", "postal address"),
    "address_line2": ("address 2", "address line 2", "apt", "suite", "unit", "apartment", "addr2",
                      "addr 2", "street2", "street 2", "address line2", "apt suite"),
    "city": ("town", "locality", "municipality", "mailing city", "city town", "town city",
             "ciudad", "ville", "stadt", "suburb"),
    "state": ("province", "region", "county", "state province", "st", "mailing state",
              "state region", "prov"),
    "postal_code": ("zip", "zip code", "zipcode", "postcode", "post code", "postal", "plz",
                    "pin code", "mailing zip", "mailing postal code", "zip postal code",
                    "postal zip", "zip postcode"),
    "country": ("nation", "country code", "country region", "mailing country", "pais", "land"),
    "owner": ("contact owner", "account owner", "record owner", "assigned to", "sales rep",
              "salesperson", "rep", "account manager", "owned by", "owner name", "deal owner"),
    "engagement_score": ("score", "lead score", "engagement", "rating", "hubspot score"),
    "social_profiles": ("social", "linkedin", "twitter", "facebook", "social profiles",
                        "linkedin url", "social media", "instagram"),
    "budget_min": ("min budget", "budget from", "minimum budget", "budget min", "price from",
                   "min price", "budget low", "lower budget", "minimum price", "budget minimum",
                   "price min", "budget lower"),
    "budget_max": ("max budget", "budget", "budget to", "maximum budget", "price to",
                   "max price", "budget high", "upper budget", "maximum price", "budget maximum",
                   "price max", "budget upper", "price range"),
    "preferred_areas": ("areas", "preferred areas", "locations", "preferred locations",
                        "neighbourhoods", "neighborhoods", "area of interest", "areas of interest",
                        "desired area", "desired areas", "zones", "preferred neighborhoods",
                        "area", "location preference", "target areas", "preferred location"),
    "property_ref": ("property", "property ref", "property id", "listing", "listing id", "mls",
                     "mls number", "mls id", "property reference", "property code", "listing ref",
                     "unit ref", "property of interest", "listing number"),
    "assigned_agent": ("agent", "assigned agent", "assigned to", "realtor", "sales agent",
                       "rep", "handler", "agent name", "lead owner", "owner", "assignee",
                       "listing agent", "loan officer"),
    "contact_id": ("contact id", "contact", "person id", "client id", "customer id",
                   "primary contact", "contact ref", "person"),
    "notes": ("note", "comments", "comment", "remarks", "message", "description", "details",
              "additional info", "additional information", "memo"),
    "name": ("deal name", "opportunity name", "title", "deal title", "opportunity", "deal",
             "company name", "organization name", "account name", "business name"),
    "pipeline": ("sales pipeline", "pipeline name", "process", "funnel"),
    "stage": ("deal stage", "pipeline stage", "sales stage", "status", "phase",
              "opportunity stage", "stage name", "deal status"),
    "amount": ("value", "deal value", "deal amount", "revenue", "price", "total",
               "opportunity amount", "deal size", "loan amount", "amount usd", "expected revenue",
               "contract value", "sale price"),
    "currency": ("currency code", "curr", "ccy", "iso currency"),
    "probability": ("win probability", "likelihood", "chance", "win", "probability percent",
                    "win percent", "chance of winning", "confidence", "deal probability"),
    "close_date": ("close date", "closing date", "expected close", "expected close date",
                   "closedate", "close by", "target date", "est close date", "estimated close",
                   "estimated close date", "expected closing date", "date closed", "closed on",
                   "close"),
    "domain": ("website", "url", "web", "site", "homepage", "web site", "company domain",
               "website url"),
    "industry": ("sector", "vertical", "business type", "industry type"),
    "employees": ("employee count", "number of employees", "headcount", "staff", "company size",
                  "size", "no of employees", "num employees"),
}  # fmt: skip

# Other languages: Spanish, French, German, Portuguese (accents are ignored on matching).
MULTILINGUAL: Final[dict[str, tuple[str, ...]]] = {
    "email": ("correo electronico", "email de contacto", "adresse e mail", "adresse email",
              "e mail adresse", "emailadresse", "endereco de email", "endereco de e mail",
              "correio electronico"),
    "phone": ("telefono movil", "movil", "celular", "telephone portable", "portable",
              "numero de telephone", "telefon", "telefonnummer", "handynummer", "mobiltelefon",
              "telefone", "telemovel", "numero de telefono"),
    "first_name": ("nombres", "primer nombre", "prenom", "vorname", "nome", "primeiro nome",
                   "rufname"),
    "last_name": ("apellido", "apellidos", "nom", "nom de famille", "nachname", "familienname",
                  "sobrenome", "apelido", "ultimo nome"),
    "company": ("empresa", "compania", "societe", "entreprise", "firma", "unternehmen",
                "organizacion", "companhia", "raison sociale", "firmenname"),
    "job_title": ("cargo", "puesto", "titulo", "poste", "fonction", "titre", "berufsbezeichnung",
                  "stelle", "funcao", "profissao"),
    "address_line1": ("direccion", "domicilio", "calle", "adresse", "rue", "strasse", "anschrift",
                      "endereco", "morada", "rua"),
    "city": ("localidad", "poblacion", "commune", "ort", "wohnort", "cidade", "municipio"),
    "state": ("provincia", "estado provincia", "departement", "bundesland", "distrito"),
    "postal_code": ("codigo postal", "cp", "code postal", "postleitzahl", "cep"),
    "country": ("pays", "staat", "pais de residencia"),
    "source": ("origen", "fuente", "origine", "quelle", "herkunft", "origem", "fonte",
               "origen del lead", "source du prospect"),
    "owner": ("propietario", "responsable", "proprietaire", "verantwortlich", "besitzer",
              "responsavel", "asesor", "conseiller", "berater", "corredor asignado"),
    "notes": ("notas", "comentarios", "observaciones", "remarques", "commentaires",
              "notizen", "bemerkungen", "kommentar", "observacoes", "comentario"),
    "status": ("estatus", "situacion", "statut", "etat", "situacao", "estado del lead",
               "estado lead"),
    "budget_max": ("presupuesto", "presupuesto maximo", "budget maximum", "orcamento"),
    "amount": ("importe", "monto", "montant", "betrag", "valor", "valeur", "montante"),
    "stage": ("etapa", "fase", "etape", "phase de vente", "estagio"),
    "close_date": ("fecha de cierre", "date de cloture", "abschlussdatum", "data de fecho",
                   "data de fechamento"),
    "industry": ("sector", "industria", "secteur", "branche", "setor"),
}  # fmt: skip

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
OBJECT_SYNONYMS: Final[dict[ObjectType, dict[str, tuple[str, ...]]]] = {
    ObjectType.LEADS: {"status": ("lead status", "stage", "lead stage", "status")},
    ObjectType.DEALS: {"owner": ("deal owner", "opportunity owner", "assigned to", "owner")},
}

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
